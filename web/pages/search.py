"""The search page: cases the reader may open, best match first."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from storage import search
from web.pages.action import Visit, view
from web.pages.common import page

MAX_QUERY = 500


@view
def search_page(visit: Visit) -> Response:
    query = visit.request.query_params.get("q", "").strip()[:MAX_QUERY]
    hits = search.search(visit.session, viewer=visit.user, query=query) if query else []
    return page(visit.request, "pages/search.html", {
        "q": query, "hits": hits, "words": search.terms(query) if query else []})


routes = [Route("/search", search_page)]
