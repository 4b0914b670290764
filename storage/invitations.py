"""A conference as its members' calendars hold it, and the invitation mails that keep
them right: sent when the conference is published, again (a higher ``SEQUENCE``)
when it is re-timed or re-titled, to a member added after publishing, and a
cancellation when it is closed before it was held."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlmodel import Session, select

from conference.calendar import Invitee, Meeting, Person, invitation, uid_for
from conference.mail import DEFAULT_PUBLIC_URL, DEFAULT_SENDER
from storage import outbox
from storage.clock import utcnow
from storage.tables import Conference, ConferenceMember, OutboxMail, User


def meeting(conf: Conference, *, base_url: str) -> Meeting:
    """The conference as its invitation shows it; ``base_url`` is the site's public
    address (its host names the event, so the ``UID`` stays the same)."""
    assert conf.id is not None
    return Meeting(uid=uid_for(conf.id, urlsplit(base_url).hostname or ""), title=conf.title,
                   starts_at=conf.starts_at, duration_minutes=conf.duration_minutes,
                   sequence=conf.calendar_sequence,
                   url=f"{base_url}/conferences/{conf.id}/room",
                   cancelled=conf.cancelled_at is not None)


def _members(session: Session, conf: Conference) -> list[tuple[ConferenceMember, User]]:
    rows = session.exec(select(ConferenceMember, User)
                        .join(User, ConferenceMember.user_id == User.id)  # type: ignore[arg-type]
                        .where(ConferenceMember.conference_id == conf.id)
                        .order_by(ConferenceMember.id))  # type: ignore[arg-type]
    return [(m, u) for m, u in rows if u.active]


def invitees(session: Session, conf: Conference) -> list[Invitee]:
    return [Invitee(u.name, u.email, m.conference_role) for m, u in _members(session, conf)]


def organizer(session: Session, conf: Conference, *, fallback: str = DEFAULT_SENDER) -> Person:
    """Who sends the invitation: the coordinator who scheduled it."""
    creator = session.get(User, conf.created_by_id) if conf.created_by_id else None
    if creator is None:
        return Person("Casebridge", fallback)
    return Person(creator.name, creator.email)


def _words(conf: Conference, *, update: bool) -> tuple[str, str]:
    when = (f"{conf.starts_at.astimezone(UTC):%a %d %b %Y, %H:%M} UTC, "
            f"{conf.duration_minutes} minutes")
    if conf.cancelled_at is not None:
        return (f"Cancelled: {conf.title}",
                f"The case conference {conf.title} ({when}) is cancelled. Your calendar "
                "program removes it with the attached cancellation.")
    if update:
        return (f"Updated invitation: {conf.title}",
                f"The case conference {conf.title} changed: it is now {when}. The attached "
                "invitation updates your calendar.")
    return (f"Invitation: {conf.title}",
            f"You are invited to the case conference {conf.title}, {when}. Join the video "
            "case review in the browser from the conference page; the attached invitation "
            "puts it in your calendar.")


def mail(session: Session, conf: Conference, *, base_url: str | None = None,
         to: Iterable[User] | None = None, update: bool = False,
         now: datetime | None = None) -> list[OutboxMail]:
    """Mail the conference's current invitation (``update``: it changed), or its
    cancellation, to ``to`` (by default every active member), in the caller's
    transaction."""
    at = now or utcnow()
    base = (base_url or DEFAULT_PUBLIC_URL).rstrip("/")
    people = list(to) if to is not None else [u for _, u in _members(session, conf)]
    if not people:
        return []
    ics = invitation(meeting(conf, base_url=base), organizer=organizer(session, conf),
                     invitees=invitees(session, conf), stamp=at)
    subject, text = _words(conf, update=update)
    return outbox.invite(session, people, subject=subject, text=text,
                         link=f"/conferences/{conf.id}", calendar=ics,
                         cancel=conf.cancelled_at is not None, now=at)
