"""Search over the cases a reader may open, and similar decided cases (precedents)."""

from __future__ import annotations

from storage import search
from web.api.body import read_query
from web.api.endpoint import Call, operation
from web.api.schemas import Empty, SearchQuery, SimilarQuery
from web.api.views import SearchHitView, SimilarCaseView
from web.precedents import latest_scores


def search_cases(call: Call[Empty]) -> list[SearchHitView]:
    query = read_query(call.request.query_params, SearchQuery)
    return [SearchHitView.model_validate(hit) for hit in search.search(
        call.session, viewer=call.user, query=query.q, limit=query.limit)]


def similar_cases(call: Call[Empty]) -> list[SimilarCaseView]:
    query = read_query(call.request.query_params, SimilarQuery)
    return [SimilarCaseView(**SearchHitView.model_validate(hit).model_dump(),
                            scores=latest_scores(call.session, hit.case_id))
            for hit in search.similar(call.session, viewer=call.user, case_id=call.id(),
                                      limit=query.limit)]


routes = [
    operation("GET", "/search", search_cases, body=Empty, query=SearchQuery, tag="search",
              response=SearchHitView, many=True,
              summary="Cases you may open holding every word of q, best match first"),
    operation("GET", "/cases/{id:int}/similar", similar_cases, body=Empty, query=SimilarQuery,
              tag="search", response=SimilarCaseView, many=True,
              summary="Past cases with a signed decision most like this one, with their "
                      "outcome and latest scores; never one you may not open"),
]
