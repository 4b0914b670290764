from storage import users
from tests.web.conftest import sign_in
from tests.web.pages.conftest import ADMIN, COORDINATOR, database, field_error, field_value


def test_people_lists_everyone_for_the_admin(client, demo):
    sign_in(client, ADMIN)
    html = client.get("/admin/people").text
    assert "Dr. Amara Okafor" in html and "hale@ridgeview-clinic.example" in html


def test_people_is_admin_only(client, demo):
    sign_in(client, COORDINATOR)
    assert client.get("/admin/people").status_code == 403


def test_people_adds_a_person(client, demo, app):
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Dr. New Surgeon", "email": "new@casebridge.example",
        "role": "specialist", "specialty": "orthopedic_spine", "password": "long enough pw"},
        follow_redirects=False)
    assert response.status_code == 303
    assert "Dr. New Surgeon can now sign in" in client.get("/admin/people").text
    with database(app) as session:
        assert users.find_by_email(session, "new@casebridge.example").specialty == \
            "orthopedic_spine"


def test_people_shows_the_error_next_to_the_field_and_keeps_input(client, demo):
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Dr. Typo", "email": "not-an-email", "role": "specialist",
        "specialty": "radiology", "password": "long enough pw"})
    assert response.status_code == 422
    assert "is not an email address" in field_error(response.text, "email")
    assert field_value(response.text, "email") == "not-an-email"
    assert field_value(response.text, "name") == "Dr. Typo"
    assert "long enough pw" not in response.text  # a password is never echoed


def test_people_specialist_needs_a_specialty(client, demo):
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Dr. Vague", "email": "vague@casebridge.example",
        "role": "specialist", "specialty": "", "password": "long enough pw"})
    assert field_error(response.text, "specialty") == "A specialist needs a specialty."


def test_people_refuses_a_duplicate_email(client, demo):
    csrf = sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "csrf_token": csrf, "name": "Again", "email": COORDINATOR, "role": "coordinator",
        "password": "long enough pw"})
    assert "already uses" in field_error(response.text, "email")


def test_people_refuses_a_form_without_csrf(client, demo):
    sign_in(client, ADMIN)
    response = client.post("/admin/people", data={
        "name": "X", "email": "x@casebridge.example", "role": "coordinator",
        "password": "long enough pw"})
    assert response.status_code == 403
