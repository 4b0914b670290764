from starlette.applications import Starlette
from starlette.testclient import TestClient

from storage import users
from tests.factories import found
from tests.web.conftest import sign_in
from tests.web.pages.conftest import ADMIN, COORDINATOR, database, field_error, field_value


def test_people_lists_everyone_for_the_admin(client: TestClient, demo: None) -> None:
    sign_in(client, ADMIN)
    html = client.get("/admin/people").text
    assert "Dr. Amara Okafor" in html and "hale@ridgeview-clinic.example" in html


def test_people_is_admin_only(client: TestClient, demo: None) -> None:
    sign_in(client, COORDINATOR)
    assert client.get("/admin/people").status_code == 403


def test_people_adds_a_person(client: TestClient, demo: None, app: Starlette) -> None:
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Dr. New Surgeon", "email": "new@casebridge.example",
        "role": "specialist", "specialty": "orthopedic_spine", "password": "long enough pw"},
        follow_redirects=False)
    assert response.status_code == 303
    assert "Dr. New Surgeon can now sign in" in client.get("/admin/people").text
    with database(app) as session:
        assert found(users.find_by_email(session, "new@casebridge.example")).specialty == \
            "orthopedic_spine"


def test_people_shows_the_error_next_to_the_field_and_keeps_input(client: TestClient, demo: None
                                                                  ) -> None:
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Dr. Typo", "email": "not-an-email", "role": "specialist",
        "specialty": "radiology", "password": "long enough pw"})
    assert response.status_code == 422
    assert "is not an email address" in found(field_error(response.text, "email"))
    assert field_value(response.text, "email") == "not-an-email"
    assert field_value(response.text, "name") == "Dr. Typo"
    assert "long enough pw" not in response.text  # a password is never echoed


def test_people_specialist_needs_a_specialty(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Dr. Vague", "email": "vague@casebridge.example",
        "role": "specialist", "specialty": "", "password": "long enough pw"})
    assert field_error(response.text, "specialty") == "A specialist needs a specialty."


def test_people_reports_every_error_at_once(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": " ", "email": "not-an-email", "role": "specialist",
        "specialty": "", "password": "short", "credentials": "MD\nPhD"})
    assert response.status_code == 422
    for name in ("name", "email", "specialty", "password", "credentials"):
        assert field_error(response.text, name), name
        assert f'<a href="#f-{name}">' in response.text, name
    assert "5 things to correct" in response.text


def test_admin_edit_reports_every_error_at_once(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, ADMIN)
    person = _person_id(client, "Dr. Priya Raman")
    response = client.post(f"/admin/people/{person}", data={
        "csrf_token": csrf, "name": "Dr. P. Raman", "role": "specialist", "specialty": "",
        "active": "yes", "password": "short", "credentials": "x" * 101})
    assert response.status_code == 422
    assert field_error(response.text, "specialty") == "A specialist needs a specialty."
    assert field_error(response.text, "password") == "A password has at least 10 characters."
    assert found(field_error(response.text, "credentials")).startswith("Credentials")


def test_people_refuses_a_duplicate_email(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Again", "email": COORDINATOR, "role": "coordinator",
        "password": "long enough pw"})
    assert "already uses" in found(field_error(response.text, "email"))


def test_people_refuses_a_form_without_csrf(client: TestClient, demo: None) -> None:
    sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "name": "X", "email": "x@casebridge.example", "role": "coordinator",
        "password": "long enough pw"})
    assert response.status_code == 403


def _person_id(client: TestClient, name: str) -> int:
    import re

    page = client.get("/admin/people").text
    match = re.search(r'href="/admin/people/(\d+)">' + re.escape(name) + "<", page)
    assert match, name
    return int(match.group(1))


def test_admin_edits_a_person(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, "admin@casebridge.example")
    person = _person_id(client, "Jordan Lee, DPT")
    page = client.get(f"/admin/people/{person}")
    assert page.status_code == 200 and 'value="Jordan Lee, DPT"' in page.text
    saved = client.post(f"/admin/people/{person}", data={
        "csrf_token": csrf, "name": "Jordan Lee, DPT, OCS", "role": "specialist",
        "specialty": "physical_therapy", "active": "no", "password": "",
        "credentials": "DPT, OCS"}, follow_redirects=False)
    assert saved.status_code == 303
    listing = client.get("/admin/people").text
    assert "Jordan Lee, DPT, OCS" in listing and "Inactive" in listing
    assert field_value(client.get(f"/admin/people/{person}").text, "credentials") == "DPT, OCS"


def test_admin_edit_errors_keep_what_was_typed(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, "admin@casebridge.example")
    person = _person_id(client, "Dr. Priya Raman")
    response = client.post(f"/admin/people/{person}", data={
        "csrf_token": csrf, "name": "Dr. P. Raman", "role": "specialist", "specialty": "",
        "active": "yes", "password": "short"})
    assert response.status_code == 422
    assert 'value="Dr. P. Raman"' in response.text and "short" not in response.text.split(
        'name="password"')[1][:80]
    assert "specialty" in response.text.lower()


def test_admin_edit_last_admin_refused(client: TestClient, demo: None) -> None:
    csrf = sign_in(client, "admin@casebridge.example")
    me = _person_id(client, "Avery Admin")
    response = client.post(f"/admin/people/{me}", data={
        "csrf_token": csrf, "name": "Avery Admin", "role": "coordinator", "specialty": "",
        "active": "yes", "password": ""})
    assert response.status_code == 422 and "at least one active administrator" in response.text


def test_admin_edit_refused_to_others(client: TestClient, demo: None) -> None:
    sign_in(client, "coordinator@casebridge.example")
    assert client.get("/admin/people/1").status_code == 403
