from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from conference.errors import CasebridgeError, NotAuthenticated
from web.templating import render


def error_page(request: Request, exc: CasebridgeError, status: int) -> Response:
    if isinstance(exc, NotAuthenticated) and request.method == "GET":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render(request, "pages/error.html", {"error": exc, "status": status}, status)
