"""Full-text search and similar decided cases, on SQLite (FTS5) and PostgreSQL
(tsvector): documents kept current in the writing transaction, permission inside
the query, typed text never syntax."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from conference.conferences import ConferenceStatus
from conference.decision import DecisionContent
from conference.decision_outcomes import Outcome
from conference.people import Role, Specialty
from storage import agenda, cases, decisions, search
from storage.tables import Case, User
from tests import factories


def _decide(session: Session, coord: User, chair: User, case: Case, outcome: Outcome,
            rationale: str) -> None:
    conf = factories.conference(session, coord, chair)
    item = agenda.add_item(session, actor=coord, conference_id=factories.id_of(conf),
                           case_id=factories.id_of(case), planned_minutes=10)
    conf.status = ConferenceStatus.LIVE  # the meeting under way
    session.add(conf)
    agenda.record_attendance(session, item_id=factories.id_of(item),
                             user_ids=[factories.id_of(chair)])
    decisions.save_draft(session, actor=chair, item_id=factories.id_of(item), read_version=0,
                         content=DecisionContent(outcome=outcome, rationale=rationale,
                                                 plan="Review in clinic.", follow_up_weeks=0,
                                                 present_user_ids=(factories.id_of(chair),)))
    decisions.sign(session, actor=chair, item_id=factories.id_of(item))


@pytest.fixture
def library(session: Session) -> dict[str, Any]:
    coord = factories.coordinator(session)
    chair = factories.user(session, Role.SPECIALIST, Specialty.NEUROSURGERY)
    stenosis = factories.case(session, coord, patient_ref="SPN-S1",
                              summary="Neurogenic claudication from lumbar stenosis at L4-5.",
                              question="Decompression alone or with fusion?")
    stenosis2 = factories.case(session, coord, patient_ref="SPN-S2",
                               summary="Lumbar stenosis, claudication at 200 metres.",
                               question="Is decompression worthwhile at 79?")
    neck = factories.case(session, coord, patient_ref="SPN-N1",
                          summary="Cervical radiculopathy C6 with arm pain.",
                          question="Anterior cervical discectomy?")
    session.commit()
    _decide(session, coord, chair, stenosis2, Outcome.SURGICAL_CONSULT,
            "Severe stenosis with claudication; decompression recommended.")
    session.commit()
    return {"coord": coord, "chair": chair, "stenosis": stenosis, "stenosis2": stenosis2,
            "neck": neck}


def test_search_finds_every_word_best_first(session: Session, library: dict[str, Any]) -> None:
    coord = library["coord"]
    refs = [h.patient_ref for h in search.search(session, viewer=coord, query="stenosis")]
    assert sorted(refs) == ["SPN-S1", "SPN-S2"]
    both = search.search(session, viewer=coord, query="lumbar STENOSIS claudication")
    assert sorted(h.patient_ref for h in both) == ["SPN-S1", "SPN-S2"]
    assert search.search(session, viewer=coord, query="stenosis cervical") == []
    # The history of care and the decision are searched too; stemming: "injections".
    assert {h.patient_ref for h in search.search(session, viewer=coord, query="injections")
            } == {"SPN-S1", "SPN-S2", "SPN-N1"}
    decided = search.search(session, viewer=coord, query="recommended")
    assert [(h.patient_ref, h.outcome) for h in decided] == [("SPN-S2", "surgical_consult")]
    assert "[" in decided[0].snippet and "]" in decided[0].snippet


def test_search_text_is_data(session: Session, library: dict[str, Any]) -> None:
    coord = library["coord"]
    for hostile in ('"', "stenosis OR cervical", "NEAR(stenosis", "'; DROP TABLE case; --",
                    "stenosis*", "a:b", "-", "()"):
        hits = search.search(session, viewer=coord, query=hostile)
        assert all(h.patient_ref.startswith("SPN-") for h in hits)
    assert search.search(session, viewer=coord, query="stenosis OR cervical") == []
    assert session.get(Case, factories.id_of(library["neck"])) is not None


def test_documents_follow_changes_in_the_same_transaction(session: Session,
                                                          library: dict[str, Any]) -> None:
    coord = library["coord"]
    neck = library["neck"]
    cases.update_case(session, actor=coord, case_id=factories.id_of(neck),
                      changes={"summary": "Cervical myelopathy with hand clumsiness."})
    session.commit()
    assert [h.patient_ref for h in search.search(session, viewer=coord, query="myelopathy")
            ] == ["SPN-N1"]
    assert search.search(session, viewer=coord, query="radiculopathy") == []


def test_search_and_similar_keep_to_what_the_reader_may_open(session: Session,
                                                            library: dict[str, Any]) -> None:
    coord, chair = library["coord"], library["chair"]
    outsider = factories.user(session)
    session.commit()
    assert search.search(session, viewer=outsider, query="stenosis") == []
    # The chair sits on the conference that decided SPN-S2 only.
    assert [h.patient_ref for h in search.search(session, viewer=chair, query="stenosis")
            ] == ["SPN-S2"]
    similar = search.similar(session, viewer=coord, case_id=factories.id_of(library["stenosis"]))
    assert [(h.patient_ref, h.outcome) for h in similar] == [
        ("SPN-S2", "surgical_consult")]  # decided, and alike; the neck case is not decided
    conf = factories.conference(session, coord, outsider)
    agenda.add_item(session, actor=coord, conference_id=factories.id_of(conf),
                    case_id=factories.id_of(library["stenosis"]), planned_minutes=10)
    session.commit()  # the outsider now chairs a conference holding SPN-S1, not SPN-S2
    assert [h.patient_ref for h in search.search(session, viewer=outsider, query="stenosis")
            ] == ["SPN-S1"]
    assert search.similar(session, viewer=outsider,
                          case_id=factories.id_of(library["stenosis"])) == []
