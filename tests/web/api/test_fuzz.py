"""Bad input of any shape, sent to every write route, gets a 4xx error body, never a 500.

Bodies are arbitrary JSON, near-valid objects (the model's own field names with
arbitrary values) and arbitrary bytes; the caller is one who may use the route,
so bodies that pass validation also reach the domain rules.
"""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of
from web.api import routes
from web.api.endpoint import WRITES, ApiRoute

WRITE_ROUTES = [r for r in routes if isinstance(r, ApiRoute) and r.method in WRITES]

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                                 allow_infinity=False)
           | st.text(max_size=30)
           | st.sampled_from(["", "2026-01-01", "2026-01-01T07:00:00+02:00", "surgery",
                              "https://pacs.example.org/x", "SPN-2026-0001", "chair", "MR",
                              "physical_therapy", "x" * 3000]))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def near_valid(route: ApiRoute) -> st.SearchStrategy[Any]:
    fields = list(route.op.body.model_fields) if route.op.body else []
    small = st.integers(min_value=-2, max_value=130) | json_values
    return st.fixed_dictionaries({}, optional={name: small for name in fields})


def bodies(route: ApiRoute) -> st.SearchStrategy[bytes]:
    as_json = (json_values | near_valid(route)).map(lambda v: json.dumps(v).encode())
    return as_json | st.binary(max_size=64)


def caller(route: ApiRoute) -> str:
    if route.path.startswith("/agenda-items/{id:int}/decision"):
        return "okafor"  # the chair: drafts, signs and amends
    if route.path.startswith("/users"):
        return "admin"
    return "coordinator"


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_fuzz_write_route_never_500(client: TestClient, auth: Callable[[str], Headers],
                                    route: ApiRoute) -> None:
    url = "/api/v1" + re.sub(r"{\w+:int}", "1", route.path)
    headers = {**auth(caller(route)), "Content-Type": "application/json"}

    @settings(max_examples=75, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(body=bodies(route))
    def check(body: bytes) -> None:
        response = client.request(route.method, url, content=body, headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            error_of(response, response.status_code)

    check()


@settings(max_examples=75, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["entity", "id", "x"]) | st.text(max_size=8),
                              st.text(max_size=30) | st.integers().map(str), max_size=4))
def test_fuzz_audit_query_never_500(client: TestClient, auth: Callable[[str], Headers],
                                    params: dict[str, str]) -> None:
    response = client.get("/api/v1/audit", params=params, headers=auth("coordinator"))
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error_of(response, response.status_code)
