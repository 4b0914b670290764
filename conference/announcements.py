"""What Casebridge tells people when something happens to a request or a decision:
the words of each notification (and, later, each mail). Never clinical text: what
happened, the pseudonymous patient reference, and where to look."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Announcement:
    kind: str
    text: str
    link: str


def submitted(ref: str, request_id: int, referrer: str) -> Announcement:
    return Announcement("request", f"New second-opinion request for {ref} from {referrer}.",
                        f"/requests/{request_id}")


def accepted(ref: str, request_id: int) -> Announcement:
    return Announcement("request", f"Your second-opinion request for {ref} was accepted.",
                        f"/requests/{request_id}")


def scheduled(ref: str, request_id: int, title: str, starts_at: datetime) -> Announcement:
    return Announcement("request", f"Your request for {ref} is on the agenda of {title}, "
                        f"{starts_at:%d %b %Y %H:%M} UTC.", f"/requests/{request_id}")


def declined(ref: str, request_id: int) -> Announcement:
    return Announcement("request", f"Your request for {ref} was declined; the reason is on "
                        "the request's page.", f"/requests/{request_id}")


def letter_ready(ref: str, request_id: int, revision: int) -> Announcement:
    what = "is signed" if revision == 1 else f"was amended (revision {revision})"
    return Announcement("letter", f"The panel's decision on {ref} {what}: the letter is ready.",
                        f"/requests/{request_id}/letter")
