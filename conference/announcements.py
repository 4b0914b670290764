"""What Casebridge tells people when something happens to a request, a decision, a
thread or a task: the words of each notification and of the mail that carries it.
Never clinical text (mail leaves the hospital's control): what happened, the
pseudonymous patient reference, and where to look."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Announcement:
    kind: str
    text: str
    link: str
    subject: str = "News from Casebridge"


def submitted(ref: str, request_id: int, referrer: str) -> Announcement:
    return Announcement("request", f"New second-opinion request for {ref} from {referrer}.",
                        f"/requests/{request_id}", f"New second-opinion request ({ref})")


def accepted(ref: str, request_id: int) -> Announcement:
    return Announcement("request", f"Your second-opinion request for {ref} was accepted.",
                        f"/requests/{request_id}", f"Request accepted ({ref})")


def scheduled(ref: str, request_id: int, title: str, starts_at: datetime) -> Announcement:
    return Announcement("request", f"Your request for {ref} is on the agenda of {title}, "
                        f"{starts_at.astimezone(UTC):%d %b %Y %H:%M} UTC.",
                        f"/requests/{request_id}",
                        f"Request scheduled ({ref})")


def declined(ref: str, request_id: int) -> Announcement:
    return Announcement("request", f"Your request for {ref} was declined; the reason is on "
                        "the request's page.", f"/requests/{request_id}",
                        f"Request declined ({ref})")


def letter_ready(ref: str, request_id: int, revision: int) -> Announcement:
    what = "is signed" if revision == 1 else f"was amended (revision {revision})"
    return Announcement("letter", f"The panel's decision on {ref} {what}: the letter is ready.",
                        f"/requests/{request_id}/letter", f"Decision letter ready ({ref})")


def mentioned(ref: str, case_id: int, author: str) -> Announcement:
    return Announcement("mention", f"{author} mentioned you in the thread of case {ref}.",
                        f"/cases/{case_id}#thread", f"{author} mentioned you ({ref})")


def handed_over(ref: str, case_id: int) -> Announcement:
    """A task after the decision is someone's: which task is clinical, so it is on the
    case page only."""
    return Announcement("handoff", f"A follow-up task for case {ref} was handed to you.",
                        f"/cases/{case_id}#handoffs", f"Task handed to you ({ref})")
