"""Outcomes through the API and the patient's single-use questionnaire."""

import re
from collections.abc import Callable
from datetime import date, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage.tables import OutcomeLink, OutcomeMeasure
from tests.factories import case_of
from tests.web.api.conftest import Headers, error_of
from tests.web.conftest import csrf_of

TODAY = date.today()

BOTH_BACKENDS = True  # outcomes, follow-ups and search on SQLite and PostgreSQL


def test_outcomes_over_time_against_the_baseline(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        item_ids: list[int]) -> None:
    url = f"/api/v1/cases/{case_of(app, item_ids[0])}/outcomes"
    baseline = client.post(url, headers=auth("lee"), json={
        "instrument": "odi", "collected_on": str(TODAY - timedelta(days=90)),
        "timepoint": "baseline", "answers": [3, 2, 2, 3, 4, 2, 1, None, 3, 2]})
    assert baseline.status_code == 201, baseline.text
    assert baseline.json() | {"id": 0} == {
        "id": 0, "instrument": "odi", "score": 48.9, "answered": 9,
        "collected_on": str(TODAY - timedelta(days=90)), "timepoint": "baseline"}
    later = client.post(url, headers=auth("raman"), json={
        "instrument": "odi", "collected_on": str(TODAY), "timepoint": "3_months", "score": 34})
    assert later.status_code == 201 and later.json()["score"] == 34.0
    client.post(url, headers=auth("lee"), json={
        "instrument": "nrs_leg", "collected_on": str(TODAY), "score": 6})
    series = client.get(url, headers=auth("okafor")).json()
    assert [(m["instrument"], m["change_from_baseline"], m["mcid_reached"]) for m in series] == [
        ("odi", 0.0, False), ("odi", -14.9, True), ("nrs_leg", 0.0, False)]


def test_outcome_refusals_name_the_field(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        item_ids: list[int], outsider: Headers) -> None:
    url = f"/api/v1/cases/{case_of(app, item_ids[0])}/outcomes"
    day = str(TODAY)
    cases = [
        ({"instrument": "sf36", "collected_on": day, "score": 3}, "instrument"),
        ({"instrument": "odi", "collected_on": str(TODAY + timedelta(days=1)), "score": 3},
         "collected_on"),
        ({"instrument": "odi", "collected_on": day,
          "answers": [1, 1, 1, 1, 1, 1, 1, None, None, None]}, "answers"),
        ({"instrument": "nrs_back", "collected_on": day, "score": 12}, "score"),
        ({"instrument": "odi", "collected_on": day, "timepoint": "later", "score": 3},
         "timepoint"),
        ({"instrument": "odi", "collected_on": day, "answers": [9] * 10}, "answers[0]"),
    ]
    for body, field in cases:
        refused = error_of(client.post(url, headers=auth("lee"), json=body), 422)
        assert refused["details"]["field"] == field, (body, refused)
    error_of(client.post(url, headers=outsider, json=cases[0][0]), 404)
    assert client.get(url, headers=auth("lee")).json() == []  # nothing stored


def test_a_patient_answers_once_through_the_link(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        item_ids: list[int]) -> None:
    case_id = case_of(app, item_ids[0])
    made = client.post(f"/api/v1/cases/{case_id}/outcome-links", headers=auth("lee"),
                       json={"instruments": ["odi", "nrs_back"], "timepoint": "6_weeks"})
    assert made.status_code == 201, made.text
    path = urlsplit(made.json()["url"]).path
    client.cookies.clear()  # the patient has no account
    first = client.get(path)
    assert first.status_code == 200
    assert "Questionnaire 1 of 2" in first.text and "Oswestry" in first.text
    assert "SPN-" not in first.text  # nothing about the case
    form = {"csrf_token": csrf_of(first.text), "step": "0"}
    # Seven sections: not enough, said plainly, nothing stored.
    seven = {**form, **{f"odi-{n}": "2" for n in range(7)}}
    refused = client.post(path, data=seven)
    assert refused.status_code == 422 and "At least 8" in refused.text
    eight = {**seven, "odi-7": "1"}  # 2 x 7 + 1 = 15 of 40 -> 37.5 %
    second = client.post(path, data=eight)
    assert second.status_code == 200 and "Questionnaire 2 of 2" in second.text
    assert re.search(r'type="hidden" name="odi-7" value="1"', second.text)
    done = client.post(path, data={**eight, "step": "1", "csrf_token": csrf_of(second.text),
                                   "nrs_back": "4"})
    assert done.status_code == 200 and "Thank you" in done.text
    with Session(app.state.engine) as session:
        rows = session.exec(select(OutcomeMeasure).where(OutcomeMeasure.case_id == case_id)
                            ).all()
        assert sorted((r.instrument, r.score_tenths, r.timepoint) for r in rows) == [
            ("nrs_back", 40, "6_weeks"), ("odi", 375, "6_weeks")]
    again = client.get(path)
    assert again.status_code == 410 and "only once" in again.text
    assert client.post(path, data={**eight, "csrf_token": csrf_of(second.text)}
                       ).status_code == 410


def test_an_expired_or_forged_link_is_a_clear_page(
        client: TestClient, app: Starlette, auth: Callable[[str], Headers],
        item_ids: list[int]) -> None:
    made = client.post(f"/api/v1/cases/{case_of(app, item_ids[0])}/outcome-links",
                       headers=auth("lee"), json={"instruments": ["nrs_leg"]}).json()
    with Session(app.state.engine) as session:
        link = session.exec(select(OutcomeLink)).one()
        link.expires_at = link.created_at
        session.add(link)
        session.commit()
    expired = client.get(urlsplit(made["url"]).path)
    assert expired.status_code == 410 and "expired" in expired.text
    forged = client.get("/outcomes/not-a-token")
    assert forged.status_code == 410 and "not valid" in forged.text
    error_of(client.post(f"/api/v1/cases/{case_of(app, item_ids[0])}/outcome-links",
                         headers=auth("lee"), json={"instruments": ["sf36"]}), 422)
