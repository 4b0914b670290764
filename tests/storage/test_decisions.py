from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from conference.agenda import ItemStatus
from conference.conferences import ConferenceStatus
from conference.decision import DecisionContent, DecisionStatus
from conference.decision_outcomes import Outcome
from conference.errors import (
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuorumNotMet,
    SignedDecisionImmutable,
    StaleVersion,
)
from conference.people import ConferenceRole, Role, Specialty
from conference.referrals import RequestStatus
from conference.room_events import DecisionSigned
from storage import agenda, decisions, referrals
from storage.tables import AgendaItem, Conference, User
from tests import factories
from tests.factories import found, id_of


@dataclass(frozen=True)
class Team:
    """A conference with a chair, two members and a guest, and one case on its agenda."""

    coord: User
    chair: User
    neuro: User
    pain: User
    guest: User
    conf: Conference
    item: AgendaItem

    def person(self, name: str) -> User:
        return {"coord": self.coord, "chair": self.chair, "neuro": self.neuro,
                "pain": self.pain, "guest": self.guest}[name]


@pytest.fixture
def team(session: Session) -> Team:
    coord = factories.coordinator(session)
    chair = factories.user(session, Role.SPECIALIST, Specialty.RADIOLOGY, name="Dr. Chair")
    neuro = factories.user(session, Role.SPECIALIST, Specialty.NEUROSURGERY)
    pain = factories.user(session, Role.SPECIALIST, Specialty.PAIN_MEDICINE)
    guest = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    conf = factories.conference(session, coord, chair)
    factories.member(session, coord, conf, neuro)
    factories.member(session, coord, conf, pain)
    factories.member(session, coord, conf, guest, ConferenceRole.GUEST)
    item = factories.item(session, coord, conf)
    # The meeting under way with the panel in the room (signing needs both).
    factories.hold(session, id_of(conf), item_ids=[id_of(item)],
                   user_ids=[id_of(chair), id_of(neuro), id_of(pain)])
    session.commit()
    return Team(coord=coord, chair=chair, neuro=neuro, pain=pain, guest=guest, conf=conf,
                item=item)


def content(team: Team, outcome: Outcome = Outcome.SURGERY_RECOMMENDED,
            present: tuple[str, ...] = ("chair", "neuro", "pain")) -> DecisionContent:
    return DecisionContent(
        outcome=outcome, rationale="Stenosis with neurogenic claudication; two ESIs failed.",
        plan="L4-5 decompression; PT from week 2.", follow_up_weeks=6,
        present_user_ids=tuple(id_of(team.person(p)) for p in present),
    )


def test_decision_draft_created_at_version_one(session: Session, team: Team) -> None:
    dec = decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                               content=content(team), read_version=0)
    assert (dec.version, dec.status) == (1, DecisionStatus.DRAFT)
    dec = decisions.save_draft(session, actor=team.pain, item_id=id_of(team.item),
                               content=content(team, Outcome.PAIN_MANAGEMENT), read_version=1)
    assert (dec.version, dec.outcome) == (2, Outcome.PAIN_MANAGEMENT)


def test_decision_save_over_stale_version_conflicts(session: Session, team: Team) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=1)
    with pytest.raises(StaleVersion) as err:
        decisions.save_draft(session, actor=team.pain, item_id=id_of(team.item),
                             content=content(team, Outcome.OTHER), read_version=1)
    assert (err.value.expected, err.value.actual) == (1, 2)
    assert found(decisions.get_decision(session, id_of(team.item))).outcome == (
        Outcome.SURGERY_RECOMMENDED)


def test_decision_new_draft_with_nonzero_version_conflicts(session: Session, team: Team
                                                           ) -> None:
    with pytest.raises(StaleVersion):
        decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                             content=content(team), read_version=3)


def test_decision_concurrent_saves_one_wins(engine: Engine, session: Session, team: Team
                                            ) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    session.commit()
    with Session(engine) as a, Session(engine) as b:
        decisions.save_draft(a, actor=team.neuro, item_id=id_of(team.item),
                             content=content(team, Outcome.OTHER), read_version=1)
        a.commit()
        with pytest.raises(StaleVersion):
            decisions.save_draft(b, actor=team.pain, item_id=id_of(team.item),
                                 content=content(team, Outcome.PAIN_MANAGEMENT), read_version=1)
    session.expire_all()
    assert found(decisions.get_decision(session, id_of(team.item))).outcome == Outcome.OTHER


def test_decision_guests_and_outsiders_cannot_draft(session: Session, team: Team) -> None:
    outsider = factories.user(session)
    for who in (team.guest, outsider):
        with pytest.raises(PermissionDenied):
            decisions.save_draft(session, actor=who, item_id=id_of(team.item),
                                 content=content(team), read_version=0)


def test_decision_present_must_be_members(session: Session, team: Team) -> None:
    outsider = factories.user(session)
    bad = DecisionContent(Outcome.OTHER, "r", "p", 4, (id_of(team.chair), id_of(outsider)))
    with pytest.raises(InvalidInput) as err:
        decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                             content=bad, read_version=0)
    assert err.value.field == "present_user_ids"


def test_decision_presence_defaults_to_attendance(session: Session, team: Team) -> None:
    item = factories.item(session, team.coord, team.conf)
    agenda.record_attendance(session, item_id=id_of(item),
                             user_ids=[id_of(team.chair), id_of(team.pain)])
    dec = decisions.save_draft(session, actor=team.neuro, item_id=id_of(item),
                               content=content(team, present=()), read_version=0,
                               presence_given=False)
    assert sorted(dec.present_user_ids) == sorted([id_of(team.chair), id_of(team.pain)])
    assert dec.presence_edited is False


def test_decision_sign_refused_without_quorum_names_missing(session: Session, team: Team
                                                            ) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team, present=("chair", "neuro")), read_version=0)
    with pytest.raises(QuorumNotMet) as err:
        decisions.sign(session, actor=team.chair, item_id=id_of(team.item))
    assert len(err.value.missing) == 1 and "non-surgical" in err.value.missing[0]
    assert decisions.history(session, id_of(team.item)) == []


def test_decision_only_chair_signs(session: Session, team: Team) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    for who in ("neuro", "coord"):
        with pytest.raises(PermissionDenied):
            decisions.sign(session, actor=team.person(who), item_id=id_of(team.item))


def test_decision_sign_without_draft_is_not_found(session: Session, team: Team) -> None:
    with pytest.raises(NotFound):
        decisions.sign(session, actor=team.chair, item_id=id_of(team.item))


def test_decision_signed_is_immutable(engine: Engine, session: Session, team: Team
                                      ) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    row = decisions.sign(session, actor=team.chair, item_id=id_of(team.item), read_version=1)
    session.commit()
    assert (row.revision, row.version) == (1, 2)
    assert team.item.status is ItemStatus.DECIDED
    with pytest.raises(SignedDecisionImmutable):
        decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                             content=content(team, Outcome.OTHER), read_version=2)
    with pytest.raises(IllegalTransition):
        decisions.sign(session, actor=team.chair, item_id=id_of(team.item))
    with engine.connect() as conn:  # not even raw SQL changes a signed revision
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("UPDATE decision_revision SET plan = 'changed'"))
        conn.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("DELETE FROM decision_revision"))
        conn.rollback()
    assert decisions.history(session, id_of(team.item))[0].plan.startswith("L4-5")


def test_decision_amend_adds_revision_keeps_earlier(session: Session, team: Team) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    decisions.sign(session, actor=team.chair, item_id=id_of(team.item))
    with pytest.raises(PermissionDenied):
        decisions.amend(session, actor=team.neuro, item_id=id_of(team.item),
                        reason="x", changes={})
    with pytest.raises(InvalidInput):
        decisions.amend(session, actor=team.chair, item_id=id_of(team.item),
                        reason=" ", changes={"follow_up_weeks": 12})
    with pytest.raises(StaleVersion):
        decisions.amend(session, actor=team.chair, item_id=id_of(team.item),
                        reason="MRI report", changes={}, read_version=1)
    row = decisions.amend(session, actor=team.chair, item_id=id_of(team.item),
                          reason="Final MRI report shows L3-4 too", read_version=2,
                          changes={"plan": "L3-5 decompression", "follow_up_weeks": 8})
    assert (row.revision, row.version, row.follow_up_weeks) == (2, 3, 8)
    history = decisions.history(session, id_of(team.item))
    assert [r.revision for r in history] == [1, 2]
    assert history[0].plan.startswith("L4-5") and history[1].plan == "L3-5 decompression"
    assert history[1].amendment_reason == "Final MRI report shows L3-4 too"
    assert found(decisions.latest_signed_for_case(session, team.item.case_id)).revision == 2


def test_decision_amend_applies_quorum(session: Session, team: Team) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team, Outcome.PAIN_MANAGEMENT, present=("chair",)),
                         read_version=0)
    decisions.sign(session, actor=team.chair, item_id=id_of(team.item))
    with pytest.raises(QuorumNotMet):
        decisions.amend(session, actor=team.chair, item_id=id_of(team.item),
                        reason="Surgeon reviewed", changes={"outcome": Outcome.SURGERY_RECOMMENDED})
    assert len(decisions.history(session, id_of(team.item))) == 1


def test_decision_amend_draft_refused(session: Session, team: Team) -> None:
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    with pytest.raises(InvalidInput):
        decisions.amend(session, actor=team.chair, item_id=id_of(team.item),
                        reason="x", changes={})


def test_decision_signing_answers_the_request(session: Session, team: Team) -> None:
    clinician = factories.user(session, Role.REFERRING_CLINICIAN, Specialty.PRIMARY_CARE)
    request = referrals.submit(session, actor=clinician, details=factories.details(),
                               requested_specialties=[Specialty.NEUROSURGERY])
    _, item = referrals.schedule(session, actor=team.coord, request_id=id_of(request),
                                 conference_id=id_of(team.conf), planned_minutes=20)
    factories.hold(session, id_of(team.conf), item_ids=[id_of(item)],
                   user_ids=[id_of(team.chair), id_of(team.neuro), id_of(team.pain)])
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(item),
                         content=content(team), read_version=0)
    decisions.sign(session, actor=team.chair, item_id=id_of(item))
    assert request.status is RequestStatus.ANSWERED
    assert request.discussed_at is not None and request.answered_at is not None
    assert request.scheduled_at is not None and request.submitted_at is not None
    assert request.answered_at >= request.scheduled_at >= request.submitted_at


def test_decision_signing_leaves_an_event_for_the_room(session: Session, team: Team
                                                       ) -> None:
    from storage import events

    events.take(session)  # building the agenda announced itself; not what we look at
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    assert events.take(session) == []
    decisions.sign(session, actor=team.chair, item_id=id_of(team.item))
    assert events.take(session) == [(team.conf.id, DecisionSigned(
        item_id=id_of(team.item), outcome=Outcome.SURGERY_RECOMMENDED, revision=1))]
    assert events.take(session) == []  # taken once


def test_decision_signed_row_and_append_only_tables_hold_against_raw_sql(
        engine: Engine, session: Session, team: Team) -> None:
    """Security issue item 10: TRUNCATE (PostgreSQL) and UPDATE of a signed decision
    row worked; an amendment (version + 1, still signed) is the one way it changes."""
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    decisions.sign(session, actor=team.chair, item_id=id_of(team.item), read_version=1)
    session.commit()
    with engine.connect() as conn:
        for statement in ("UPDATE decision SET plan = 'changed'",
                          "UPDATE decision SET status = 'draft', version = version + 1",
                          "DELETE FROM decision"):
            with pytest.raises(DBAPIError, match="signed decision"):
                conn.execute(text(statement))
            conn.rollback()
        if engine.dialect.name == "postgresql":
            for table in ("audit_event", "decision_revision"):
                with pytest.raises(DBAPIError, match="append-only"):
                    conn.execute(text(f"TRUNCATE {table} CASCADE"))
                conn.rollback()
    decisions.amend(session, actor=team.chair, item_id=id_of(team.item),
                    reason="Imaging reviewed again", changes={"plan": "A new plan."})
    session.commit()
    assert found(decisions.get_decision(session, id_of(team.item))).plan == "A new plan."
    assert [r.revision for r in decisions.history(session, id_of(team.item))] == [1, 2]


def test_decision_signed_fields_change_only_as_a_recorded_revision(
        engine: Engine, session: Session, team: Team) -> None:
    """A raw UPDATE that mimics an amendment (version + 1, still signed) but records
    no revision is refused: the signed row always says what its latest revision says."""
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    decisions.sign(session, actor=team.chair, item_id=id_of(team.item), read_version=1)
    session.commit()
    with engine.connect() as conn:
        for change in ("plan = 'changed'", "outcome = 'other'", "follow_up_weeks = 99",
                       "agenda_item_id = agenda_item_id", "rationale = 'rewritten'"):
            with pytest.raises(DBAPIError, match="signed decision"):
                conn.execute(text(f"UPDATE decision SET {change}, version = version + 1"))
            conn.rollback()
    decisions.amend(session, actor=team.chair, item_id=id_of(team.item),
                    reason="Imaging reviewed again", changes={"outcome": Outcome.OTHER})
    session.commit()
    assert found(decisions.get_decision(session, id_of(team.item))).outcome is Outcome.OTHER


# -- sign-off backed by the meeting (issue 9, items 4 and 5) ------------------------


def test_signing_waits_for_the_meeting(session: Session, team: Team) -> None:
    team.conf.status = ConferenceStatus.PUBLISHED  # a week ahead, nobody has met
    session.add(team.conf)
    decisions.save_draft(session, actor=team.neuro, item_id=id_of(team.item),
                         content=content(team), read_version=0)
    with pytest.raises(Conflict) as early:
        decisions.sign(session, actor=team.chair, item_id=id_of(team.item))
    assert early.value.code == "conference_not_started"
    team.conf.status = ConferenceStatus.LIVE
    session.add(team.conf)
    assert decisions.sign(session, actor=team.chair, item_id=id_of(team.item)).revision == 1


def test_someone_added_by_hand_needs_a_reason_and_is_recorded(session: Session,
                                                             team: Team) -> None:
    item = factories.item(session, team.coord, team.conf)
    # Only the chair and the pain specialist were in the room; the neurosurgeon is
    # ticked by hand (a surgical outcome needs a surgeon).
    agenda.record_attendance(session, item_id=id_of(item),
                             user_ids=[id_of(team.chair), id_of(team.pain)])
    dec = decisions.save_draft(session, actor=team.chair, item_id=id_of(item),
                               content=content(team), read_version=0)
    assert dec.presence_edited is True
    assert decisions.by_hand_of(session, dec) == [id_of(team.neuro)]
    with pytest.raises(Conflict) as refused:
        decisions.sign(session, actor=team.chair, item_id=id_of(item))
    assert refused.value.code == "attendance_note_required"
    decisions.save_draft(session, actor=team.chair, item_id=id_of(item), content=content(team),
                         read_version=1, attendance_note="Joined by telephone from theatre.")
    row = decisions.sign(session, actor=team.chair, item_id=id_of(item))
    assert row.present_by_hand == [id_of(team.neuro)]
    assert row.attendance_note == "Joined by telephone from theatre."


def test_an_unedited_draft_follows_the_room(session: Session, team: Team) -> None:
    item = factories.item(session, team.coord, team.conf)
    agenda.record_attendance(session, item_id=id_of(item),
                             user_ids=[id_of(team.chair), id_of(team.pain)])
    decisions.save_draft(session, actor=team.chair, item_id=id_of(item),
                         content=content(team, outcome=Outcome.PAIN_MANAGEMENT, present=()),
                         read_version=0, presence_given=False)
    # A third specialist joins after the draft was saved: the draft lists them too.
    agenda.record_attendance(session, item_id=id_of(item), user_ids=[id_of(team.neuro)])
    dec = found(decisions.get_decision(session, id_of(item)))
    assert sorted(dec.present_user_ids) == sorted(
        [id_of(team.chair), id_of(team.pain), id_of(team.neuro)])
    assert dec.version == 1  # nobody's edit: no version for a colleague to trip over
    # Once someone chooses the list, it stays as chosen.
    decisions.save_draft(session, actor=team.chair, item_id=id_of(item),
                         content=content(team, outcome=Outcome.PAIN_MANAGEMENT,
                                         present=("chair", "pain")), read_version=1)
    agenda.record_attendance(session, item_id=id_of(item), user_ids=[id_of(team.guest)])
    dec = found(decisions.get_decision(session, id_of(item)))
    assert sorted(dec.present_user_ids) == sorted([id_of(team.chair), id_of(team.pain)])
