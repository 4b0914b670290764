"""Each person's notifications: written in the same transaction as the change they
tell of, read and marked read by their owner only."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, func, select

from conference.announcements import Announcement
from conference.errors import NotFound
from storage import outbox
from storage.clock import utcnow
from storage.tables import Notification, User

MAX_LISTED = 200


def notify(session: Session, *, user_id: int, kind: str, text: str, link: str,
           now: datetime | None = None) -> Notification:
    """Tell one person something happened (no clinical text: see the table)."""
    row = Notification(user_id=user_id, kind=kind, text=text[:300], link=link[:300],
                       created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row


def tell(session: Session, user_ids: Iterable[int], said: Announcement, *,
         now: datetime | None = None) -> None:
    """Tell each person something happened, in the change's own transaction: in their
    inbox, and by mail unless they chose the inbox only."""
    at = now or utcnow()
    wanted = list(dict.fromkeys(user_ids))
    people = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(wanted)))}
    for user_id in wanted:
        person = people.get(user_id)
        if person is None or not person.active:
            continue
        notify(session, user_id=user_id, kind=said.kind, text=said.text, link=said.link,
               now=at)
        outbox.notice(session, person, said, now=at)


def for_user(session: Session, user: User, *, limit: int = MAX_LISTED) -> list[Notification]:
    """The person's notifications, newest first."""
    return list(session.exec(select(Notification).where(Notification.user_id == user.id)
                             .order_by(col(Notification.id).desc()).limit(limit)))


def unread_count(session: Session, user_id: int) -> int:
    count = session.exec(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, col(Notification.read_at).is_(None))).one()
    return int(count)


def mark_read(session: Session, *, user: User, notification_id: int,
              now: datetime | None = None) -> Notification:
    """Mark one of the person's own notifications read (someone else's is not found)."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"No notification {notification_id}.")
    if row.read_at is None:
        row.read_at = now or utcnow()
        session.add(row)
        session.flush()
    return row
