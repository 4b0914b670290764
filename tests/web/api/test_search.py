"""Search and similar cases through the API and the search page."""

from collections.abc import Callable

from starlette.testclient import TestClient

from tests.web.api.conftest import Headers, error_of
from tests.web.conftest import sign_in

BOTH_BACKENDS = True  # outcomes, follow-ups and search on SQLite and PostgreSQL


def test_search_over_the_api(client: TestClient, auth: Callable[[str], Headers],
                             outsider: Headers) -> None:
    hits = client.get("/api/v1/search?q=claudication", headers=auth("coordinator")).json()
    assert [h["patient_ref"] for h in hits] == ["SPN-2026-0142"]
    assert set(hits[0]) == {"case_id", "patient_ref", "snippet", "outcome"}
    assert "[claudication]" in hits[0]["snippet"].lower()
    assert client.get("/api/v1/search?q=claudication", headers=outsider).json() == []
    error_of(client.get("/api/v1/search", headers=auth("coordinator")), 422)
    error_of(client.get("/api/v1/search?q=" + "x" * 501, headers=auth("coordinator")), 422)
    error_of(client.get("/api/v1/search?q=x&limit=0", headers=auth("coordinator")), 422)


def test_similar_lists_only_decided_cases(client: TestClient, auth: Callable[[str], Headers],
                                          item_ids: list[int]) -> None:
    # Nothing decided yet in the demo: no precedents.
    assert client.get("/api/v1/cases/2/similar", headers=auth("coordinator")).json() == []
    error_of(client.get("/api/v1/cases/2/similar?limit=99", headers=auth("coordinator")), 422)
    error_of(client.get("/api/v1/cases/999/similar", headers=auth("coordinator")), 404)


def test_the_search_page_marks_matches_and_escapes_the_rest(client: TestClient,
                                                           demo: None) -> None:
    sign_in(client, "coordinator@casebridge.example")
    page = client.get("/search?q=<b>claudication</b>").text
    assert "<mark>claudication</mark>" in page.lower() or "<mark>Claudication</mark>" in page
    assert "<b>claudication</b>" not in page
    assert 'href="/cases/2"' in page
    assert "No case you may open matches" in client.get("/search?q=zzzyx").text
