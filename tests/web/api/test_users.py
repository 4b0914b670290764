from tests.web.api.conftest import error_of

USERS = "/api/v1/users"
NEW = {"email": "Chen@Casebridge.example", "name": "Dr. Wei Chen", "role": "specialist",
       "specialty": "radiology", "password": "long enough password"}


def test_users_list_for_coordinator(client, auth):
    response = client.get(USERS, headers=auth("coordinator"))
    assert response.status_code == 200
    emails = {u["email"] for u in response.json()}
    assert "okafor@casebridge.example" in emails
    assert all("password_hash" not in u for u in response.json())


def test_users_list_refused_to_specialist(client, auth):
    error_of(client.get(USERS, headers=auth("okafor")), 403, "forbidden")


def test_users_list_needs_auth(client, demo):
    error_of(client.get(USERS), 401)


def test_users_create_by_admin(client, auth):
    response = client.post(USERS, json=NEW, headers=auth("admin"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "chen@casebridge.example" and body["specialty"] == "radiology"
    assert isinstance(body["id"], int)


def test_users_create_refused_to_coordinator(client, auth):
    error_of(client.post(USERS, json=NEW, headers=auth("coordinator")), 403)


def test_users_create_validation(client, auth):
    error = error_of(client.post(USERS, json={**NEW, "password": "short"},
                                 headers=auth("admin")), 422, "invalid_input")
    assert error["details"]["field"] == "password"
    error = error_of(client.post(USERS, json={**NEW, "specialty": None},
                                 headers=auth("admin")), 422)
    assert error["details"]["field"] == "specialty"


def test_users_create_duplicate_email_conflicts(client, auth):
    client.post(USERS, json=NEW, headers=auth("admin"))
    error_of(client.post(USERS, json=NEW, headers=auth("admin")), 409, "conflict")


def test_users_me_needs_auth(client, demo):
    error_of(client.get(USERS + "/me"), 401)
