import re
from typing import Any

import pytest
from httpx2 import Response
from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage import decisions
from tests.factories import found, hold_demo
from tests.web.conftest import sign_in
from tests.web.pages.conftest import CHAIR, HALE, RAMAN, database, field_error, field_value

CASE, ITEM = 7, 7  # RRC-88412, Dr. Hale's scheduled request on the demo conference
URL = f"/cases/{CASE}/decisions/{ITEM}"
DRAFT = {"outcome": "pain_management", "rationale": "Radicular pain improving.",
         "plan": "Transforaminal injection at L5.", "follow_up_weeks": "6",
         "responsible_clinician_id": "5", "present_user_ids": ["3", "5"],
         "dissent_rows": "1", "version": "0"}



@pytest.fixture(autouse=True)
def _meeting_held(app: Starlette, demo: None) -> None:
    """Signing needs the meeting under way with the panel in the room."""
    hold_demo(app)


def _save(client: TestClient, csrf: str, **changes: Any) -> Response:
    return client.post(URL, data={**DRAFT, **changes, "csrf_token": csrf})


def test_draft_is_saved_by_a_member(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, RAMAN)
    html = _save(client, csrf).text
    assert "Draft saved." in html and "Draft v1" in html
    assert field_value(html, "rationale") == "Radicular pain improving."
    assert 'name="version" value="1"' in html


def test_draft_form_lists_the_outcome_vocabulary_and_members(client: TestClient, demo: None
                                                             ) -> None:
    sign_in(client, RAMAN)
    html = client.get(f"/cases/{CASE}").text
    assert '<option value="co_managed_surgery">Co-managed surgery' in html
    assert 'name="present_user_ids" value="6"' in html  # Jordan Lee, DPT
    assert 'name="version" value="0"' in html


def test_draft_error_is_shown_next_to_the_field_and_input_kept(client: TestClient, demo: None
                                                               ) -> None:
    csrf = sign_in(client, RAMAN)
    response = _save(client, csrf, rationale="  ", plan="Keep this plan")
    assert response.status_code == 422
    assert field_error(response.text, "rationale") == "Say why: the rationale is required."
    assert field_value(response.text, "plan") == "Keep this plan"
    assert field_value(response.text, "outcome") == "pain_management"


def test_stale_save_says_someone_else_changed_it_and_keeps_the_text(client: TestClient, demo: None,
                                                                    app: Starlette) -> None:
    csrf = sign_in(client, RAMAN)
    _save(client, csrf)
    response = _save(client, csrf, rationale="My own wording")  # still version 0
    assert response.status_code == 409
    assert "changed by someone else" in response.text
    assert field_value(response.text, "rationale") == "My own wording"
    assert "Their version (v1" in response.text
    assert 'name="version" value="1"' in response.text
    again = _save(client, csrf, rationale="My own wording", version="1")
    assert "Draft saved." in again.text
    with database(app) as session:
        assert found(decisions.get_decision(session, ITEM)).rationale == "My own wording"


def test_sign_without_quorum_names_who_is_missing(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, RAMAN)
    _save(client, csrf, outcome="surgery_recommended", present_user_ids=["3", "4"])
    client.cookies.clear()
    csrf = sign_in(client, CHAIR)
    html = client.get(f"/cases/{CASE}").text
    assert "Quorum not met yet" in html
    response = client.post(f"{URL}/sign", data={"csrf_token": csrf, "version": "1", "confirm": "1"})
    assert response.status_code == 409
    assert re.search(r'id="sign-error-7">Cannot sign yet: the decision needs a non-surgical '
                     r'specialist', response.text)


def test_chair_signs_then_history_and_letter_link_show(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, RAMAN)
    _save(client, csrf)
    client.cookies.clear()
    csrf = sign_in(client, CHAIR)
    assert "Your signature is needed" in client.get(f"/cases/{CASE}").text
    html = client.post(f"{URL}/sign",
                       data={"csrf_token": csrf, "version": "1", "confirm": "1"}).text
    assert "Decision signed." in html and "Signed</span> by Dr. Amara Okafor" in html
    assert "Revision history" in html and "Original signature" in html
    assert "Amend this decision" in html


def test_chair_can_save_and_sign_in_one_go(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, CHAIR)
    html = client.post(URL, data={**DRAFT, "present_user_ids": ["3", "5"], "then_sign": "1",
                                  "confirm": "1", "csrf_token": csrf}).text
    assert "Decision signed." in html


def test_only_the_chair_signs(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, RAMAN)
    _save(client, csrf)
    response = client.post(f"{URL}/sign",
                           data={"csrf_token": csrf, "version": "1", "confirm": "1"})
    assert response.status_code == 403
    assert "Only the chair" in response.text


def test_a_guest_member_cannot_draft(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, HALE)
    assert "Record the decision" not in client.get(f"/cases/{CASE}").text
    assert _save(client, csrf).status_code == 403


def test_amend_needs_a_reason_and_keeps_earlier_revisions(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, CHAIR)
    client.post(URL, data={**DRAFT, "then_sign": "1", "confirm": "1", "csrf_token": csrf})
    amend = {**DRAFT, "version": "2", "csrf_token": csrf, "plan": "Injection at L4 and L5."}
    response = client.post(f"{URL}/amend", data={**amend, "reason": ""})
    assert response.status_code == 422
    assert field_error(response.text, "reason") == "An amendment needs its reason."
    assert field_value(response.text, "plan") == "Injection at L4 and L5."
    html = client.post(f"{URL}/amend", data={**amend, "reason": "Two levels involved"}).text
    assert "Amendment signed" in html and "revision 2" in html
    assert "Two levels involved" in html and "Original signature" in html
    assert _save(client, csrf, version="3").status_code == 409  # signed: amend instead


def test_referring_clinician_sees_the_signed_decision_not_the_draft(client: TestClient, demo: None
                                                                    ) -> None:
    csrf = sign_in(client, RAMAN)
    _save(client, csrf, rationale="Draft wording not for the clinic")
    client.cookies.clear()
    sign_in(client, HALE)
    assert "Draft wording not for the clinic" not in client.get(f"/cases/{CASE}").text


def test_decision_forms_refuse_without_csrf(client: TestClient, demo: None) -> None:
    sign_in(client, RAMAN)
    assert client.post(URL, data=DRAFT).status_code == 403
    assert client.post(f"{URL}/sign", data={"version": "1"}).status_code == 403


def test_signing_asks_for_confirmation_and_keeps_the_draft(client: TestClient,
                                                           demo: None) -> None:
    csrf = sign_in(client, CHAIR)
    page = client.get(f"/cases/{CASE}").text
    assert 'name="confirm" value="1"' in page
    refused = client.post(URL, data={**DRAFT, "then_sign": "1", "csrf_token": csrf})
    assert refused.status_code == 409 and "Tick the confirmation to sign" in refused.text
    assert "Draft v1" in refused.text  # saved, not signed
    alone = client.post(f"{URL}/sign", data={"csrf_token": csrf, "version": "1"})
    assert alone.status_code == 409 and "Tick the confirmation" in alone.text


def test_someone_added_by_hand_is_shown_and_needs_a_reason(client: TestClient, app: Starlette,
                                                           demo: None) -> None:
    from sqlmodel import col, delete

    from storage.tables import Attendance

    with database(app) as session:  # only the chair (3) was recorded in the room
        session.execute(delete(Attendance).where(col(Attendance.user_id) != 3))
    csrf = sign_in(client, CHAIR)
    refused = client.post(URL, data={**DRAFT, "then_sign": "1", "confirm": "1",
                                     "csrf_token": csrf})
    assert refused.status_code == 409 and "attendance note" in refused.text
    assert "added by hand" in refused.text
    signed = client.post(URL, data={**DRAFT, "version": "1", "then_sign": "1", "confirm": "1",
                                    "attendance_note": "Joined by telephone.",
                                    "csrf_token": csrf})
    assert "Decision signed." in signed.text
    assert "Why: Joined by telephone." in signed.text
    sign_in(client, HALE)
    letter = client.get("/requests/1/letter").text
    assert "(added by hand)" in letter and "Joined by telephone." in letter


def test_the_decision_form_reports_every_problem_at_once(client: TestClient,
                                                        demo: None) -> None:
    csrf = sign_in(client, RAMAN)
    refused = client.post(URL, data={"csrf_token": csrf, "version": "0", "outcome": "",
                                     "rationale": " ", "plan": "", "follow_up_weeks": "",
                                     "dissent_rows": "1"})
    assert refused.status_code == 422
    shown = re.findall(r'class="field-error" id="([^"]+)-error"', refused.text)
    assert shown == ["outcome", "rationale", "plan", "follow_up_weeks"]
    assert "4 things to correct" in refused.text
