import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage import agenda
from tests.factories import found
from tests.web.conftest import sign_in
from tests.web.pages.conftest import (
    CHAIR,
    COORDINATOR,
    DEMO_CONFERENCE,
    HALE,
    RAMAN,
    database,
    field_error,
    field_value,
)

NEW = {"title": "Thursday spine review", "starts_local": "2030-03-07T07:30",
       "timezone": "America/Chicago", "duration_minutes": "60", "chair_id": "3"}


def _order(app: Starlette) -> list[int]:
    with database(app) as session:
        return [i.case_id for i in agenda.items(session, DEMO_CONFERENCE)]


def test_new_conference_form_for_a_coordinator(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    html = client.get("/conferences/new").text
    assert field_value(html, "timezone") == "America/Chicago"
    assert '<option value="Europe/Berlin">' in html
    assert "Dr. Amara Okafor · Neurosurgery" in html


def test_new_conference_is_refused_to_a_specialist(client: TestClient, demo: None) -> None:
    sign_in(client, RAMAN)
    assert client.get("/conferences/new").status_code == 403


def test_new_conference_is_created_in_its_time_zone(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/conferences/new", data={**NEW, "csrf_token": csrf},
                           follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Thursday spine review" in page
    # 07:30 in Chicago in March 2030 (CST, UTC-6) is 13:30 UTC.
    assert 'datetime="2030-03-07T13:30:00+00:00"' in page


def test_new_conference_shows_errors_next_to_fields_and_keeps_input(client: TestClient, demo: None
                                                                    ) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post("/conferences/new", data={
        **NEW, "title": "", "duration_minutes": "2", "csrf_token": csrf})
    assert response.status_code == 422
    assert field_error(response.text, "title") == "A title is required."
    assert field_value(response.text, "starts_local") == "2030-03-07T07:30"
    assert field_value(response.text, "duration_minutes") == "2"
    assert field_value(response.text, "chair_id") == "3"
    response = client.post("/conferences/new", data={
        **NEW, "starts_local": "next tuesday", "csrf_token": csrf})
    assert "date and time" in found(field_error(response.text, "starts_local"))
    assert field_value(response.text, "title") == "Thursday spine review"


def test_new_conference_refuses_a_form_without_csrf(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    assert client.post("/conferences/new", data=NEW).status_code == 403


def test_conference_page_shows_members_agenda_and_over_time_warning(client: TestClient, demo: None
                                                                    ) -> None:
    sign_in(client, COORDINATOR)
    html = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    assert "Dr. Priya Raman" in html and "Chair" in html and "Guest" in html
    assert "Over time by 15 minutes" in html
    assert html.index("SPN-2026-0117") < html.index("SPN-2026-0142")
    assert f'href="/conferences/{DEMO_CONFERENCE}/room"' in html
    assert "Unpublish" in html and "Add a case to the agenda" in html


def test_conference_page_is_read_only_for_members(client: TestClient, demo: None) -> None:
    sign_in(client, RAMAN)
    html = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    assert "Weekly multidisciplinary spine conference" in html
    assert "Add a case to the agenda" not in html and "/move" not in html


def test_conference_page_is_not_found_for_outsiders(client: TestClient, outsider: str) -> None:
    sign_in(client, outsider)
    response = client.get(f"/conferences/{DEMO_CONFERENCE}")
    assert response.status_code == 404
    assert "SPN-2026" not in response.text


def test_conference_invite_adds_a_member(client: TestClient, demo: None, outsider: str) -> None:
    csrf = sign_in(client, COORDINATOR)
    html = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    outsider_id = found(re.search(r'<option value="(\d+)">Dr. Out Sider', html)).group(1)
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/members", data={
        "csrf_token": csrf, "user_id": outsider_id, "conference_role": "member"})
    assert response.status_code == 200  # followed the redirect
    assert "Dr. Out Sider is now on this conference" in response.text
    again = client.post(f"/conferences/{DEMO_CONFERENCE}/members", data={
        "csrf_token": csrf, "user_id": "3", "conference_role": "member"})
    assert again.status_code == 409  # a conflict, as the API answers it
    assert "already a member" in found(field_error(again.text, "user_id"))


def test_conference_invite_is_refused_to_a_member(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, CHAIR)
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/members", data={
        "csrf_token": csrf, "user_id": "9", "conference_role": "member"})
    assert response.status_code == 403


def test_agenda_move_up_and_down(client: TestClient, demo: None, app: Starlette) -> None:
    csrf = sign_in(client, COORDINATOR)
    before = _order(app)
    client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/2/move",
                data={"csrf_token": csrf, "direction": "up"})
    assert _order(app) == [before[1], before[0], *before[2:]]
    client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/2/move",
                data={"csrf_token": csrf, "direction": "down"})
    assert _order(app) == before


def test_agenda_move_is_refused_to_a_specialist_and_without_csrf(client: TestClient, demo: None,
                                                                 app: Starlette) -> None:
    csrf = sign_in(client, CHAIR)
    before = _order(app)
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/2/move",
                           data={"csrf_token": csrf, "direction": "up"})
    assert response.status_code == 403
    client.cookies.clear()
    sign_in(client, COORDINATOR)
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/2/move",
                           data={"direction": "up"})
    assert response.status_code == 403
    assert _order(app) == before


def test_agenda_minutes_change_and_bad_value_kept(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/1/minutes",
                data={"csrf_token": csrf, "planned_minutes": "5"})
    html = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    assert "100</strong> of 90 minutes planned" in html
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/1/minutes",
                           data={"csrf_token": csrf, "planned_minutes": "500"})
    assert response.status_code == 422
    assert "1 to 120 minutes" in found(field_error(response.text, "minutes-1"))
    assert field_value(response.text, "minutes-1") == "500"


def test_agenda_add_case_and_refuse_a_missing_choice(client: TestClient, demo: None, app: Starlette
                                                     ) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda",
                           data={"csrf_token": csrf, "case_id": "", "planned_minutes": "12"})
    assert response.status_code == 422
    assert field_error(response.text, "case_id") == "A case is required."
    assert field_value(response.text, "planned_minutes") == "12"
    client.post(f"/conferences/{DEMO_CONFERENCE}/agenda",
                data={"csrf_token": csrf, "case_id": "8", "planned_minutes": "12"})
    assert _order(app)[-1] == 8


def test_conference_publish_and_unpublish(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    html = client.post(f"/conferences/{DEMO_CONFERENCE}/status",
                       data={"csrf_token": csrf, "status": "draft"}).text
    assert "The conference is now draft" in html and "Publish the agenda" in html
    html = client.post(f"/conferences/{DEMO_CONFERENCE}/status",
                       data={"csrf_token": csrf, "status": "published"}).text
    assert "Unpublish" in html


def test_guest_link_opens_only_its_case(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    html = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/3/guest-link",
                       data={"csrf_token": csrf, "name": "Dr. Visiting Fellow"}).text
    link = found(re.search(r'id="guest-url-3" readonly value="([^"]+)"', html)).group(1)
    path = link.replace("http://testserver", "")
    assert path.startswith("/cases/3?token=")
    client.cookies.clear()
    guest = client.get(path)
    assert guest.status_code == 200
    assert "SPN-2026-0155" in guest.text and "Dr. Visiting Fellow" in guest.text
    # The only way on is the video room, with the same guest token.
    room_link = re.search(r'href="(/conferences/\d+/room\?token=[^"]+)"', guest.text)
    assert room_link and room_link.group(1).endswith(path.split("token=")[1])
    rest = guest.text.replace(room_link.group(1), "")
    assert "Sign out" not in rest and "/conferences/" not in rest
    assert "<form" not in guest.text  # read-only
    token = path.split("token=")[1]
    assert client.get(f"/cases/4?token={token}").status_code == 404
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get(f"/conferences/{DEMO_CONFERENCE}",
                      follow_redirects=False).status_code == 303
    assert client.get(f"/cases/3?token={token}x").status_code == 401


def test_guest_links_listed_and_revoked_on_the_conference_page(client: TestClient,
                                                                demo: None) -> None:
    """Issue 9 item 3: links are stored, listed on the conference page, revocable."""
    csrf = sign_in(client, COORDINATOR)
    html = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/3/guest-link",
                       data={"csrf_token": csrf, "name": "Dr. Visiting Fellow"}).text
    link = found(re.search(r'id="guest-url-3" readonly value="([^"]+)"', html)).group(1)
    page = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    listing = page[page.index('id="guest-links"'):]
    assert "Dr. Visiting Fellow" in listing and "SPN-2026-0155" in listing
    assert "Active" in listing
    revoke = found(re.search(r'action="(/conferences/\d+/guest-links/\d+/revoke)"', listing))
    done = client.post(revoke.group(1), data={"csrf_token": csrf})
    assert "no longer works" in done.text
    listing = done.text[done.text.index('id="guest-links"'):]
    assert "Revoked" in listing and "/revoke" not in listing
    client.cookies.clear()
    assert client.get(link.replace("http://testserver", "")).status_code == 401


def test_guest_links_list_is_for_coordinators(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/3/guest-link",
                data={"csrf_token": csrf, "name": "Dr. Visiting Fellow"})
    client.cookies.clear()
    csrf = sign_in(client, "okafor@casebridge.example")
    page = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    assert 'id="guest-links"' not in page and "Dr. Visiting Fellow" not in page
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/guest-links/1/revoke",
                           data={"csrf_token": csrf})
    assert response.status_code == 403


def test_guest_link_needs_a_name(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/3/guest-link",
                           data={"csrf_token": csrf, "name": ""})
    assert response.status_code == 422
    assert "Whom is the link for" in found(field_error(response.text, "guest-3"))


def test_guest_link_is_refused_to_a_guest_member(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, HALE)
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/3/guest-link",
                           data={"csrf_token": csrf, "name": "Someone"})
    assert response.status_code == 403


def test_defer_a_case_from_the_conference_page(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, COORDINATOR)
    page = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    item_id = int(found(re.search(r'/agenda/(\d+)/defer', page)).group(1))
    response = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/{item_id}/defer",
                           data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    assert "Deferred" in page and f"/agenda/{item_id}/defer" not in page
    refused = client.post(f"/conferences/{DEMO_CONFERENCE}/agenda/{item_id}/defer",
                          data={"csrf_token": "forged"})
    assert refused.status_code == 403


def test_conference_page_states_the_sign_off_rule(client: TestClient, demo: None) -> None:
    sign_in(client, RAMAN)
    html = client.get(f"/conferences/{DEMO_CONFERENCE}").text
    assert "Sign-off rule." in html and "Every decision needs the chair present." in html
    assert "also need a surgeon" in html
