"""Case threads: reading and writing a case's lines, mentions, and the live room's
chat (stored in the thread of the case under discussion)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from conference import announcements
from conference.audit import AuditAction, Entity
from conference.errors import NotFound, PermissionDenied
from conference.people import ConferenceRole
from conference.permissions import is_organiser
from conference.threads import check_body, check_mentions
from storage import audit, cases, notifications
from storage.cases import get_case, may_view
from storage.clock import utcnow
from storage.tables import AgendaItem, Case, CaseMessage, ConferenceMember, User

MAX_LISTED = 500


@dataclass(frozen=True)
class Line:
    """A thread line as it is shown: with its author's name."""

    id: int
    case_id: int | None
    conference_id: int | None
    item_id: int | None
    author_id: int
    author_name: str
    body: str
    mentions: list[int]
    created_at: datetime


def readers(session: Session, case: Case) -> list[User]:
    """Everyone active who may open the case: who may be mentioned in its thread."""
    people = session.exec(select(User).where(col(User.active).is_(True))
                          .order_by(col(User.name)))
    return [u for u in people if may_view(session, viewer=u, case=case)]


def _lines(session: Session, rows: Iterable[CaseMessage]) -> list[Line]:
    rows = list(rows)
    ids = {r.author_id for r in rows}
    names = {u.id: u.name for u in session.exec(select(User).where(col(User.id).in_(ids)))}
    return [Line(id=r.id or 0, case_id=r.case_id, conference_id=r.conference_id,
                 item_id=r.item_id, author_id=r.author_id,
                 author_name=names.get(r.author_id, "someone"), body=r.body,
                 mentions=list(r.mentions or []), created_at=r.created_at) for r in rows]


def thread(session: Session, *, viewer: User, case_id: int) -> list[Line]:
    """The case's thread, oldest first (the last ``MAX_LISTED`` lines)."""
    case = get_case(session, case_id)
    if not may_view(session, viewer=viewer, case=case):
        raise NotFound(f"No case with id {case_id}.")
    rows = session.exec(select(CaseMessage).where(CaseMessage.case_id == case_id)
                        .order_by(col(CaseMessage.id).desc()).limit(MAX_LISTED))
    return list(reversed(_lines(session, rows)))


def conference_lines(session: Session, *, conference_id: int) -> list[Line]:
    """Room chat typed while no case was current, oldest first (the caller checked
    the reader may enter the conference)."""
    rows = session.exec(select(CaseMessage).where(
        CaseMessage.conference_id == conference_id, col(CaseMessage.case_id).is_(None))
        .order_by(col(CaseMessage.id).desc()).limit(MAX_LISTED))
    return list(reversed(_lines(session, rows)))


def post(session: Session, *, actor: User, case_id: int, body: str,
         mentions: Iterable[int] = (), item_id: int | None = None,
         conference_id: int | None = None, now: datetime | None = None) -> Line:
    """Add a line to the case's thread; each person mentioned is notified."""
    case = get_case(session, case_id)
    assert actor.id is not None and case.id is not None
    if not may_view(session, viewer=actor, case=case):
        raise NotFound(f"No case with id {case_id}.")
    if not cases.on_care_team(session, user=actor, case=case):
        raise PermissionDenied("Guests read a case's thread but do not write in it.")
    text = check_body(body)
    wanted = list(mentions)
    named = check_mentions(wanted, may_open=[u.id for u in readers(session, case)
                                             if u.id is not None] if wanted else [])
    at = now or utcnow()
    row = CaseMessage(case_id=case.id, conference_id=conference_id, item_id=item_id,
                      author_id=actor.id, body=text, mentions=named, created_at=at)
    session.add(row)
    session.flush()
    assert row.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.CREATED, entity=Entity.MESSAGE,
                 entity_id=row.id, case_id=case.id,
                 detail={"mentions": named} if named else None, now=at)
    notifications.tell(session, [u for u in named if u != actor.id],
                       announcements.mentioned(case.patient_ref, case.id, actor.name), now=at)
    return _lines(session, [row])[0]


def post_in_room(session: Session, *, actor: User, conference_id: int, item_id: int | None,
                 body: str, now: datetime | None = None) -> Line:
    """A line typed in the live room: into the thread of the current item's case, or,
    with no case current, kept with the conference."""
    if item_id is not None:
        item = session.get(AgendaItem, item_id)
        if item is None or item.conference_id != conference_id:
            raise NotFound(f"No agenda item {item_id} in this conference.")
        return post(session, actor=actor, case_id=item.case_id, body=body, item_id=item_id,
                    conference_id=conference_id, now=now)
    assert actor.id is not None
    member = session.exec(select(ConferenceMember).where(
        ConferenceMember.conference_id == conference_id,
        ConferenceMember.user_id == actor.id)).first()
    if not is_organiser(actor.role) and (member is None
                                         or member.conference_role is ConferenceRole.GUEST):
        raise PermissionDenied("Guests do not write in the room's chat.")
    text = check_body(body)
    at = now or utcnow()
    row = CaseMessage(conference_id=conference_id, author_id=actor.id, body=text,
                      created_at=at)
    session.add(row)
    session.flush()
    return _lines(session, [row])[0]
