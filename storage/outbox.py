"""The mail outbox: mails are rows written in the transaction of the change they tell
of (so a change that rolls back mails nobody), claimed by one sender at a time,
and marked sent, retried later, or failed.

Claiming is safe with several app instances: on PostgreSQL the due rows are
locked with ``FOR UPDATE SKIP LOCKED`` (two senders never wait for, nor take, the
same row); on SQLite writes are serialised and the claim is a compare-and-set on
the row's status. A claim is a lease: a sender that dies mid-send leaves the row
``sending`` until the lease runs out, then another sender takes it again (the
same ``Message-ID``, so the rare second copy of a mail the server had accepted is
recognisable as the same mail).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, func, select

from conference.announcements import Announcement
from conference.audit import AuditAction, Entity
from conference.errors import Conflict, NotFound
from conference.mail import CLAIM_LEASE, MailKind, MailStatus, gives_up, retry_delay
from conference.permissions import require_admin
from storage import audit
from storage.clock import utcnow
from storage.tables import OutboxMail, User

_QUEUED = "casebridge.mail_queued"
MAX_LISTED = 500
ERROR_LENGTH = 500


def enqueue(session: Session, *, to: User, kind: MailKind, subject: str, text: str,
            link: str = "", calendar: bytes | None = None,
            now: datetime | None = None) -> OutboxMail:
    """Add a mail to the outbox, in the caller's transaction."""
    at = now or utcnow()
    row = OutboxMail(message_key=uuid.uuid4().hex, kind=kind, user_id=to.id,
                     to_address=to.email, to_name=to.name, subject=subject[:200], text=text,
                     link=link[:300], calendar=calendar.decode() if calendar else None,
                     created_at=at, next_attempt_at=at)
    session.add(row)
    session.info[_QUEUED] = True
    return row


def queued(session: Session) -> bool:
    """Whether this unit of work added mail (and forget it): after its commit the
    sender may look at once."""
    return bool(session.info.pop(_QUEUED, False))


def notice(session: Session, to: User, said: Announcement, *,
           now: datetime | None = None) -> OutboxMail | None:
    """Mail a notification's words to a person, unless they chose the inbox only (or
    no longer have an account that works)."""
    if not to.active or not to.mail_notices:
        return None
    return enqueue(session, to=to, kind=MailKind.NOTICE, subject=said.subject,
                   text=said.text, link=said.link, now=now)


def invite(session: Session, people: Iterable[User], *, subject: str, text: str, link: str,
           calendar: bytes, cancel: bool, now: datetime | None = None) -> list[OutboxMail]:
    """One calendar mail to each active person: an invitation (or its update), or a
    cancellation. These go to everyone, whatever their notice preference: they keep
    their calendar right."""
    kind = MailKind.CANCELLATION if cancel else MailKind.INVITATION
    return [enqueue(session, to=p, kind=kind, subject=subject, text=text, link=link,
                    calendar=calendar, now=now) for p in people if p.active]


def claim(session: Session, *, limit: int = 10, now: datetime | None = None) -> list[OutboxMail]:
    """Take up to ``limit`` due mails for this sender: they become ``sending`` with a
    lease, and their attempt is counted before it is made. Commit before sending."""
    at = now or utcnow()
    due = or_(and_(col(OutboxMail.status) == MailStatus.PENDING,
                   col(OutboxMail.next_attempt_at) <= at),
              and_(col(OutboxMail.status) == MailStatus.SENDING,
                   col(OutboxMail.claimed_until) <= at))
    query = select(OutboxMail).where(due).order_by(col(OutboxMail.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken: list[OutboxMail] = []
    for row in session.exec(query).all():
        # Compare-and-set: another sender (SQLite has no row locks) may have taken it.
        result = session.exec(
            update(OutboxMail)
            .where(col(OutboxMail.id) == row.id, col(OutboxMail.status) == row.status,
                   col(OutboxMail.attempts) == row.attempts)
            .values(status=MailStatus.SENDING, attempts=row.attempts + 1,
                    claimed_until=at + CLAIM_LEASE)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            session.refresh(row)
            taken.append(row)
    return taken


def _claimed(session: Session, mail_id: int) -> OutboxMail | None:
    row = session.get(OutboxMail, mail_id)
    return row if row is not None and row.status is MailStatus.SENDING else None


def mark_sent(session: Session, mail_id: int, *, now: datetime | None = None) -> None:
    row = _claimed(session, mail_id)
    if row is not None:
        row.status, row.sent_at, row.claimed_until = MailStatus.SENT, now or utcnow(), None
        row.last_error = None
        session.add(row)


def mark_unsent(session: Session, mail_id: int, error: str, *, permanent: bool,
                now: datetime | None = None) -> OutboxMail | None:
    """The attempt failed: try again after the back-off, or, when the server refused
    the mail for good or the tries are used up, mark it failed with the reason."""
    row = _claimed(session, mail_id)
    if row is None:
        return None
    at = now or utcnow()
    row.claimed_until = None
    if permanent or gives_up(row.attempts):
        row.status = MailStatus.FAILED
        row.last_error = (error if permanent else
                          f"Gave up after {row.attempts} attempts: {error}")[:ERROR_LENGTH]
    else:
        row.status = MailStatus.PENDING
        row.last_error = error[:ERROR_LENGTH]
        row.next_attempt_at = at + retry_delay(row.attempts)
    session.add(row)
    return row


def listing(session: Session, *, actor: User, status: MailStatus | None = None,
            limit: int = MAX_LISTED) -> list[OutboxMail]:
    """The outbox, newest first (admins)."""
    require_admin(actor.role, "see the mail outbox")
    query = select(OutboxMail).order_by(col(OutboxMail.id).desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMail.status == status)
    return list(session.exec(query))


def retry(session: Session, *, actor: User, mail_id: int,
          now: datetime | None = None) -> OutboxMail:
    """Send a failed mail again (admins): it is due at once, with a fresh count of tries."""
    require_admin(actor.role, "retry a mail")
    row = session.get(OutboxMail, mail_id)
    if row is None:
        raise NotFound(f"No mail {mail_id} in the outbox.")
    if row.status is not MailStatus.FAILED:
        raise Conflict(f"This mail is {row.status.value}: only a failed mail is retried.",
                       code="mail_not_failed")
    at = now or utcnow()
    row.status, row.attempts, row.next_attempt_at = MailStatus.PENDING, 0, at
    session.add(row)
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED, entity=Entity.MAIL,
                 entity_id=mail_id, detail={"retry": True, "last_error": row.last_error},
                 now=at)
    return row


def counts(session: Session) -> dict[MailStatus, int]:
    """How many mails are in each state (for the admin page and metrics)."""
    rows = session.exec(select(OutboxMail.status, func.count())
                        .group_by(OutboxMail.status)).all()
    found = {MailStatus(s): int(n) for s, n in rows}
    return {s: found.get(s, 0) for s in MailStatus}
