"""Decisions: drafts saved with optimistic concurrency, signed and amended revisions.

A save names the version it read; the UPDATE only matches that version, so two
people saving at once cannot overwrite each other silently (the loser gets
:class:`StaleVersion`). Signed revisions are only ever inserted.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from conference.agenda import ItemStatus
from conference.audit import AuditAction, Entity
from conference.decision import (
    DecisionContent,
    DecisionStatus,
    Dissent,
    check_amend,
    check_content,
    check_save,
    check_sign,
)
from conference.errors import NotFound, StaleVersion
from conference.permissions import require_chair, require_drafter
from conference.quorum import check_quorum
from conference.room_events import DecisionSigned
from conference.signoff import present_by_hand, require_attendance_note, require_meeting_started
from storage import audit, care_loop, events, referrals
from storage.agenda import get_item, move_item_status, present_for
from storage.clock import utcnow
from storage.conferences import get_conference, member_ids, quorum_rule, role_in
from storage.errors import integrity_as_conflict
from storage.tables import AgendaItem, Decision, DecisionRevision, User
from storage.users import attendees


def get_decision(session: Session, item_id: int) -> Decision | None:
    return session.exec(select(Decision).where(Decision.agenda_item_id == item_id)).first()


def content_of(row: Decision | DecisionRevision) -> DecisionContent:
    return DecisionContent(
        outcome=row.outcome, rationale=row.rationale, plan=row.plan,
        follow_up_weeks=row.follow_up_weeks, present_user_ids=tuple(row.present_user_ids),
        responsible_clinician_id=row.responsible_clinician_id,
        dissent=tuple(Dissent(int(d["user_id"]), str(d["opinion"])) for d in row.dissent),
    )


def _columns(content: DecisionContent) -> dict[str, Any]:
    return {
        "outcome": content.outcome, "rationale": content.rationale.strip(),
        "plan": content.plan.strip(), "follow_up_weeks": content.follow_up_weeks,
        "responsible_clinician_id": content.responsible_clinician_id,
        "present_user_ids": list(content.present_user_ids),
        "dissent": [asdict(d) for d in content.dissent],
    }


def _with_default_presence(session: Session, item_id: int, content: DecisionContent,
                           given: bool) -> DecisionContent:
    if given:
        return content
    return replace(content, present_user_ids=tuple(present_for(session, item_id)))


def _compare_and_set(session: Session, dec: Decision, read_version: int,
                     values: dict[str, Any]) -> Decision:
    """UPDATE ... WHERE version = read_version; nobody else's write is lost."""
    result = session.execute(
        update(Decision)
        .where(col(Decision.id) == dec.id, col(Decision.version) == read_version)
        .values(version=read_version + 1, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(dec)
        raise StaleVersion(expected=read_version, actual=dec.version)
    session.refresh(dec)
    return dec


def save_draft(
    session: Session,
    *,
    actor: User,
    item_id: int,
    content: DecisionContent,
    read_version: int,
    presence_given: bool = True,
    attendance_note: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Create (``read_version`` 0) or update the draft decision of an agenda item.

    Without ``presence_given``, who was present is the item's attendance, and keeps
    following it (``presence_edited`` false) until someone names a different list.
    """
    at = now or utcnow()
    item = get_item(session, item_id)
    assert actor.id is not None
    require_drafter(role_in(session, conference_id=item.conference_id, user_id=actor.id))
    content = _with_default_presence(session, item_id, content, presence_given)
    check_content(content, member_ids=member_ids(session, item.conference_id))
    edited = set(content.present_user_ids) != set(present_for(session, item_id))
    values = {**_columns(content), "updated_by_id": actor.id, "updated_at": at,
              "presence_edited": edited, "attendance_note": (attendance_note or "").strip() or None}
    dec = get_decision(session, item_id)
    if dec is None:
        if read_version != 0:
            raise StaleVersion(expected=read_version, actual=0)
        dec = Decision(agenda_item_id=item_id, version=1, **values)
        with integrity_as_conflict("Someone else started this decision at the same moment; "
                                   "reload it and apply your changes again."):
            session.add(dec)
            session.flush()
    else:
        check_save(dec.status, read_version=read_version, current_version=dec.version)
        dec = _compare_and_set(session, dec, read_version, values)
    assert dec.id is not None
    audit.record(session, actor_id=actor.id, action=AuditAction.UPDATED,
                 entity=Entity.DECISION, entity_id=dec.id, case_id=item.case_id,
                 detail={"version": dec.version}, now=at)
    return dec


def _check_quorum(session: Session, item: AgendaItem, content: DecisionContent) -> None:
    conf = get_conference(session, item.conference_id)
    check_quorum(quorum_rule(conf), content.outcome,
                 attendees(session, list(content.present_user_ids)), chair_id=conf.chair_id)


def _revisions(session: Session, item_id: int) -> list[DecisionRevision]:
    return list(session.exec(
        select(DecisionRevision).where(DecisionRevision.agenda_item_id == item_id)
        .order_by(col(DecisionRevision.revision))
    ))


def _insert_revision(session: Session, *, item: AgendaItem, version: int,
                     content: DecisionContent, actor: User, revision: int, reason: str | None,
                     at: datetime, by_hand: list[int], note: str | None) -> DecisionRevision:
    assert actor.id is not None and item.id is not None
    row = DecisionRevision(
        agenda_item_id=item.id, case_id=item.case_id, revision=revision, version=version,
        amendment_reason=reason, signed_by_id=actor.id, signed_at=at, present_by_hand=by_hand,
        attendance_note=note if by_hand else None, **_columns(content),
    )
    with integrity_as_conflict("Someone else signed this decision at the same moment."):
        session.add(row)
        session.flush()
    return row


def _chairs_decision(session: Session, actor: User, item_id: int, what: str, *,
                     missing: str) -> tuple[AgendaItem, Decision]:
    """The item and its decision, for the conference's chair only."""
    item = get_item(session, item_id)
    conf = get_conference(session, item.conference_id)
    assert actor.id is not None
    require_chair(user_id=actor.id, chair_id=conf.chair_id, what=what)
    dec = get_decision(session, item_id)
    if dec is None:
        raise NotFound(missing)
    return item, dec


def sign(
    session: Session, *, actor: User, item_id: int, read_version: int | None = None,
    now: datetime | None = None,
) -> DecisionRevision:
    """The chair signs the draft, in or after the meeting, if the quorum rule is met
    by who was there. It never changes after."""
    at = now or utcnow()
    item, dec = _chairs_decision(session, actor, item_id, "sign its decisions",
                                 missing="There is no draft decision to sign yet.")
    require_meeting_started(get_conference(session, item.conference_id).status)
    check_sign(dec.status, read_version=read_version, current_version=dec.version)
    content = content_of(dec)
    by_hand = _by_hand(session, item, content, dec.attendance_note)
    _check_quorum(session, item, content)
    dec = _compare_and_set(session, dec, dec.version, {"status": DecisionStatus.SIGNED,
                                                       "updated_by_id": actor.id,
                                                       "updated_at": at})
    row = _insert_revision(session, item=item, version=dec.version, content=content_of(dec),
                           actor=actor, revision=1, reason=None, at=at,
                           by_hand=by_hand, note=dec.attendance_note)
    move_item_status(item, ItemStatus.DECIDED, at)
    session.add(item)
    referrals.answer_for_case(session, case_id=item.case_id, at=at)
    care_loop.on_signed(session, item=item, revision=row, at=at)
    referrals.letter_ready(session, case_id=item.case_id, revision=1, at=at)
    _announce(session, item, row)
    audit.record(session, actor_id=actor.id, action=AuditAction.SIGNED, entity=Entity.DECISION,
                 entity_id=dec.id or 0, case_id=item.case_id,
                 detail={"version": dec.version, **({"present_by_hand": by_hand}
                                                    if by_hand else {})}, now=at)
    return row


def _by_hand(session: Session, item: AgendaItem, content: DecisionContent,
             note: str | None) -> list[int]:
    """Who is named present without being recorded in the room; refused without a
    reason (conference/signoff.py)."""
    assert item.id is not None
    by_hand = present_by_hand(content.present_user_ids, present_for(session, item.id))
    require_attendance_note(by_hand, note)
    return by_hand


def by_hand_of(session: Session, dec: Decision) -> list[int]:
    """A draft's people named present but not recorded in the room (for its readers)."""
    return present_by_hand(dec.present_user_ids, present_for(session, dec.agenda_item_id))


def amend(
    session: Session,
    *,
    actor: User,
    item_id: int,
    reason: str,
    changes: dict[str, Any],
    read_version: int | None = None,
    attendance_note: str | None = None,
    now: datetime | None = None,
) -> DecisionRevision:
    """The chair records a new signed revision with a reason; earlier ones are kept.

    Fields not in ``changes`` (who was present included) keep their signed values;
    the attendance note too, unless a new one is given.
    """
    at = now or utcnow()
    item, dec = _chairs_decision(session, actor, item_id, "amend its decisions",
                                 missing="There is no signed decision to amend.")
    require_meeting_started(get_conference(session, item.conference_id).status, "amend")
    check_amend(dec.status, reason=reason, read_version=read_version,
                current_version=dec.version)
    content = replace(content_of(dec), **changes)
    check_content(content, member_ids=member_ids(session, item.conference_id))
    note = (attendance_note or "").strip() or dec.attendance_note
    by_hand = _by_hand(session, item, content, note)
    _check_quorum(session, item, content)
    revision = len(_revisions(session, item_id)) + 1
    # The revision first: the database lets a signed row change only into what a
    # recorded revision of its next version says (migration 0003's trigger).
    row = _insert_revision(session, item=item, version=dec.version + 1, content=content,
                           actor=actor, revision=revision, reason=reason.strip(), at=at,
                           by_hand=by_hand, note=note)
    dec = _compare_and_set(session, dec, dec.version,
                           {**_columns(content), "updated_by_id": actor.id, "updated_at": at,
                            "attendance_note": note})
    referrals.letter_ready(session, case_id=item.case_id, revision=revision, at=at)
    _announce(session, item, row)
    audit.record(session, actor_id=actor.id, action=AuditAction.AMENDED, entity=Entity.DECISION,
                 entity_id=dec.id or 0, case_id=item.case_id,
                 detail={"version": dec.version, "revision": revision, "reason": reason.strip()},
                 now=at)
    return row


def _announce(session: Session, item: AgendaItem, row: DecisionRevision) -> None:
    """Leave word for the live room (published after commit, see ``storage.events``)."""
    assert item.id is not None
    events.record(session, conference_id=item.conference_id, event=DecisionSigned(
        item_id=item.id, outcome=row.outcome, revision=row.revision))


def history(session: Session, item_id: int) -> list[DecisionRevision]:
    """Every signed revision of the item's decision, oldest first."""
    get_item(session, item_id)
    return _revisions(session, item_id)


def latest_signed_for_case(session: Session, case_id: int) -> DecisionRevision | None:
    return session.exec(
        select(DecisionRevision).where(DecisionRevision.case_id == case_id)
        .order_by(col(DecisionRevision.signed_at).desc(), col(DecisionRevision.id).desc())
    ).first()
