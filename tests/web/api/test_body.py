from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of
from web.api.body import MAX_BODY_BYTES, field_path

CASES = "/api/v1/cases"


@pytest.fixture
def coord(auth: Callable[[str], Headers]) -> Headers:
    return auth("coordinator")


def test_body_not_json_is_400(client: TestClient, coord: Headers) -> None:
    for raw in (b"{", b"patient_ref=SPN-1", b"\xff\xfe\x00", b"", b"[" * 5000):
        response = client.post(CASES, content=raw,
                               headers={**coord, "Content-Type": "application/json"})
        error_of(response, 400, "bad_json")


def test_body_without_content_type_is_read_as_json(client: TestClient, coord: Headers,
                                                   item_ids: list[int]) -> None:
    response = client.patch(f"/api/v1/agenda-items/{item_ids[0]}",
                            content=b'{"planned_minutes": 7}', headers=coord)
    assert response.status_code == 200, response.text


def test_body_other_content_type_is_415(client: TestClient, coord: Headers) -> None:
    response = client.post(CASES, data={"patient_ref": "SPN-1"}, headers=coord)
    error_of(response, 415, "unsupported_media_type")


def test_body_too_large_is_413(client: TestClient, coord: Headers) -> None:
    response = client.post(CASES, content=b" " * (MAX_BODY_BYTES + 1),
                           headers={**coord, "Content-Type": "application/json"})
    error_of(response, 413, "too_large")


def test_body_too_large_without_content_length_is_413(client: TestClient, coord: Headers) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    response = client.post(CASES, content=chunks(),
                           headers={**coord, "Content-Type": "application/json"})
    error_of(response, 413, "too_large")


def test_body_not_an_object_is_422(client: TestClient, coord: Headers) -> None:
    for raw in (b"[]", b'"case"', b"3", b"null", b"true"):
        response = client.post(CASES, content=raw,
                               headers={**coord, "Content-Type": "application/json"})
        error = error_of(response, 422, "invalid_input")
        assert error["details"]["field"] is None


def test_body_lists_every_field_error(client: TestClient, coord: Headers) -> None:
    response = client.post(CASES, json={"age": "58", "sex": "robot", "extra": 1,
                                        "care_history": [{"kind": 1}]}, headers=coord)
    error = error_of(response, 422, "invalid_input")
    fields = {e["field"] for e in error["details"]["errors"]}
    assert {"age", "sex", "extra", "patient_ref", "care_history[0].kind",
            "care_history[0].description"} <= fields
    assert error["details"]["error_count"] == len(error["details"]["errors"])
    unknown = next(e for e in error["details"]["errors"] if e["field"] == "extra")
    assert unknown["message"] == "Unknown field."


def test_body_errors_never_echo_the_input(client: TestClient, coord: Headers) -> None:
    huge = "x" * 500_000
    response = client.post(CASES, json={"patient_ref": "SPN-1", "age": 5, "sex": "male",
                                        "summary": huge, "question": "q"}, headers=coord)
    error = error_of(response, 422)
    assert error["details"]["field"] == "summary"
    assert len(response.content) < 2000


def test_body_types_are_strict(client: TestClient, coord: Headers, item_ids: list[int]) -> None:
    url = f"/api/v1/agenda-items/{item_ids[0]}"
    for value in ("10", 10.0, True, None, 2**70):
        error_of(client.patch(url, json={"planned_minutes": value}, headers=coord), 422)


def test_body_huge_ids_are_refused_not_overflowed(client: TestClient, coord: Headers,
                                                  conference_id: int) -> None:
    response = client.post(f"/api/v1/conferences/{conference_id}/agenda",
                           json={"case_id": 2**63, "planned_minutes": 5}, headers=coord)
    assert error_of(response, 422)["details"]["field"] == "case_id"


def test_body_far_future_start_is_422(client: TestClient, coord: Headers, people: dict[str, int]
                                      ) -> None:
    body = {"title": "t", "starts_at": "9999-12-31T23:59:59-12:00", "duration_minutes": 30,
            "chair_id": people["okafor"]}
    error_of(client.post("/api/v1/conferences", json=body, headers=coord), 422)


def test_body_field_path_formats_like_invalid_input() -> None:
    assert field_path(("care_history", 0, "kind")) == "care_history[0].kind"
    assert field_path(()) is None
    assert field_path(("dissent", 2)) == "dissent[2]"


def test_body_unknown_route_and_method_are_json_errors(client: TestClient, coord: Headers) -> None:
    error_of(client.get("/api/v1/nowhere", headers=coord), 404)
    error_of(client.delete(CASES, headers=coord), 405)
