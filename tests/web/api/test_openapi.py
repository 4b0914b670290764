from openapi_spec_validator import validate
from starlette.testclient import TestClient

from tests.factories import found
from web.api import routes
from web.api.endpoint import ApiRoute
from web.api.openapi import document

# Every route the CONTRACT names, exactly as it names it.
CONTRACT = [
    ("post", "/auth/token"),
    ("post", "/conferences"),
    ("get", "/conferences/{id}"),
    ("post", "/conferences/{id}/members"),
    ("post", "/cases"),
    ("get", "/cases/{id}"),
    ("post", "/cases/{id}/imaging"),
    ("post", "/conferences/{id}/agenda"),
    ("put", "/conferences/{id}/agenda/order"),
    ("put", "/agenda-items/{id}/decision"),
    ("post", "/agenda-items/{id}/decision/sign"),
    ("post", "/agenda-items/{id}/decision/amend"),
    ("get", "/agenda-items/{id}/decision/history"),
    ("post", "/requests"),
    ("get", "/requests/{id}"),
    ("post", "/requests/{id}/schedule"),
    ("post", "/requests/{id}/accept"),
    ("post", "/requests/{id}/decline"),
    ("get", "/audit"),
]


def test_openapi_served_without_auth_and_valid(client: TestClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    validate(doc)
    assert doc["openapi"].startswith("3.")


def test_openapi_has_every_contract_route(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    missing = [(m, p) for m, p in CONTRACT if m not in paths.get(p, {})]
    assert missing == []


def test_openapi_lists_every_route_of_the_app() -> None:
    paths = document(routes)["paths"]
    api_routes = [r for r in routes if isinstance(r, ApiRoute)]
    assert len(api_routes) == sum(len(ops) for ops in paths.values())


def test_openapi_bodies_are_the_models_routes_validate_with() -> None:
    doc = document(routes)
    schemas = doc["components"]["schemas"]
    for route in (r for r in routes if isinstance(r, ApiRoute) and r.op.body is not None):
        path = route.path.replace(":int", "")
        ref = doc["paths"][path][route.method.lower()]["requestBody"]["content"][
            "application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[1]]
        expected = found(route.op.body).model_json_schema()
        assert set(schema["properties"]) == set(expected["properties"]), route.path
        assert set(schema.get("required", [])) == set(expected.get("required", [])), route.path
        assert schema["additionalProperties"] is False


def test_openapi_documents_contract_fields() -> None:
    schemas = document(routes)["components"]["schemas"]
    assert set(schemas["ConferenceIn"]["required"]) == {"title", "starts_at",
                                                        "duration_minutes", "chair_id"}
    assert set(schemas["DecisionIn"]["required"]) >= {"outcome", "rationale", "plan",
                                                      "follow_up_weeks", "version"}
    assert "present_user_ids" not in schemas["DecisionIn"]["required"]
    assert schemas["Token"]["properties"]["token_type"]["const"] == "bearer"
    item = schemas["AgendaItemView"]["properties"]
    assert {"id", "case_id", "position", "planned_minutes", "status"} <= set(item)


def test_openapi_describes_errors_and_auth() -> None:
    doc = document(routes)
    sign = doc["paths"]["/agenda-items/{id}/decision/sign"]["post"]
    assert {"401", "403", "404", "409"} <= set(sign["responses"])
    assert sign["requestBody"]["required"] is False
    assert doc["paths"]["/auth/token"]["post"]["security"] == []
    audit = doc["paths"]["/audit"]["get"]
    assert {p["name"] for p in audit["parameters"]} == {"entity", "id"}


def test_openapi_token_route_documents_lockout() -> None:
    token = document(routes)["paths"]["/auth/token"]["post"]["responses"]
    assert {"200", "401", "422", "429"} <= set(token) and "403" not in token
