"""Calendar files as the web serves them: a conference's invitation, a person's feed,
and the absolute addresses they carry."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import HTTPConnection

from conference.calendar import Meeting, Method, calendar, event, invitation
from storage import calendars, invitations
from storage.clock import utcnow
from storage.tables import Conference, User
from web.auth import public_base, signer

ICS = "text/calendar; charset=utf-8"


def _sender(conn: HTTPConnection) -> str:
    sender: str = conn.app.state.settings.mail_from
    return sender


def _meeting(conn: HTTPConnection, conf: Conference) -> Meeting:
    return invitations.meeting(conf, base_url=public_base(conn))


def conference_ics(conn: HTTPConnection, session: Session, conf: Conference, *,
                   method: Method = Method.PUBLISH) -> bytes:
    """One conference as an ``.ics``: to download (PUBLISH) or to mail (REQUEST or
    CANCEL, see :func:`conference.calendar.invitation`)."""
    meeting = _meeting(conn, conf)
    organizer = invitations.organizer(session, conf, fallback=_sender(conn))
    people = invitations.invitees(session, conf)
    if method is Method.PUBLISH:
        return calendar([event(meeting, organizer=organizer, invitees=people,
                               stamp=utcnow())], method=method)
    return invitation(meeting, organizer=organizer, invitees=people, stamp=utcnow())


def feed_ics(conn: HTTPConnection, session: Session, user: User) -> bytes:
    """Every announced conference the person may see, for their calendar to poll."""
    stamp = utcnow()
    events = [event(_meeting(conn, c), invitees=invitations.invitees(session, c), stamp=stamp,
                    organizer=invitations.organizer(session, c, fallback=_sender(conn)))
              for c in calendars.feed_conferences(session, user)]
    return calendar(events, method=Method.PUBLISH, name="Casebridge conferences")


def feed_url(conn: HTTPConnection, user: User) -> str:
    assert user.id is not None
    token = signer(conn).issue_feed(user.id, user.calendar_generation)
    return f"{public_base(conn)}/calendar/{token}.ics"
