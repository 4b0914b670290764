"""Analytics over a period, on a history built by hand (both databases)."""

from collections.abc import Callable
from datetime import date, timedelta

from sqlmodel import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.agenda import ItemStatus
from storage import outcomes, users
from storage.tables import AgendaItem, Conference, SecondOpinionRequest
from tests.factories import found, hold_item
from tests.web.api.conftest import Headers, error_of
from tests.web.api.test_care_loop import _sign

BOTH_BACKENDS = True


def test_analytics_of_a_held_meeting(client: TestClient, app: Starlette,
                                     auth: Callable[[str], Headers], conference_id: int,
                                     item_ids: list[int], people: dict[str, int]) -> None:
    present = [people["okafor"], people["lee"], people["raman"]]
    first, deferred, hale = item_ids[0], item_ids[1], item_ids[-1]
    for item in (first, hale):
        hold_item(app, conference_id, item, present)
    _sign(client, auth, first, "physical_therapy", 0, present)
    _sign(client, auth, hale, "surgery_recommended", 0, present)
    with Session(app.state.engine) as session:
        conf = session.get(Conference, conference_id)
        assert conf is not None
        start = conf.starts_at
        for item_id, minutes, status in ((first, 12, None), (hale, 20, None),
                                         (deferred, 3, ItemStatus.DEFERRED)):
            row = session.get(AgendaItem, item_id)
            assert row is not None
            row.started_at, row.ended_at = start, start + timedelta(minutes=minutes)
            if status:
                row.status = status
            session.add(row)
        request = session.get(SecondOpinionRequest, 1)  # Hale's: answered by the signature
        assert request is not None and request.answered_at is not None
        request.submitted_at = request.answered_at - timedelta(hours=30)
        session.add(request)
        lee = found(users.find_by_email(session, "lee@casebridge.example"))
        # Dr. Hale's patient: ODI 50 before, 30 after the decision: important improvement.
        for on, odi in ((date.today() - timedelta(days=30), 50), (date.today(), 30)):
            outcomes.record(session, actor=lee, case_id=found(session.get(
                AgendaItem, hale)).case_id, instrument="odi", collected_on=on, total=odi)
        session.commit()
        day = start.date()
    low, high = min(day, date.today()), max(day, date.today())
    url = f"/api/v1/analytics?from={low}&to={high}"
    body = client.get(url, headers=auth("coordinator"))
    assert body.status_code == 200, body.text
    report = body.json()
    assert report["conferences"] == 1
    assert (report["cases_discussed"], report["deferred"]) == (3, 1)
    planned = {i: p for i, p in zip(item_ids, (10, 20, 20, 15, 10, 15, 15), strict=False)}
    assert report["minutes"] == {"planned": planned[first] + planned[deferred] + 15,
                                 "actual": 12 + 3 + 20}
    assert sorted(report["per_case"], key=lambda c: c["item_id"])[0] == {
        "item_id": first, "planned_minutes": 10, "actual_minutes": 12}
    assert report["turnaround_hours"] == {"median": 30.0, "p90": 30.0}
    assert report["outcomes"] == {"physical_therapy": 1, "surgery_recommended": 1}
    assert report["attendance_by_specialty"] == {"neurosurgery": 2, "physical_therapy": 2,
                                                 "pain_medicine": 2}
    assert report["improvement_by_outcome"]["surgery_recommended"] == {
        "patients": 1, "improved": 1, "share": 100.0}
    assert report["improvement_by_outcome"]["physical_therapy"]["share"] == 0.0
    error_of(client.get(url, headers=auth("okafor")), 403)
    error_of(client.get("/api/v1/analytics?from=2026-12-01", headers=auth("coordinator")), 422)
    error_of(client.get("/api/v1/analytics?from=2026-12-01&to=2026-11-01",
                        headers=auth("coordinator")), 422)
    page = client.get(f"/analytics?from={low}&to={high}", headers=auth("coordinator"))
    assert page.status_code == 200 and page.text.count('<figure class="bar-chart">') == 4
    assert "Minutes per meeting" in page.text and "100 %" in page.text
