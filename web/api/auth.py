"""API tokens: trade an email and password for a bearer token.

The same throttling and lockout as the sign-in form apply (``web.auth.authenticate``):
a wrong password is 401, a locked account 429 with ``Retry-After``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.api.body import read_body
from web.api.endpoint import ApiRoute, Operation
from web.api.schemas import TokenIn
from web.api.views import Token
from web.auth import authenticate, signer


async def issue_token(request: Request) -> Response:
    body = await read_body(request, TokenIn)
    user = await authenticate(request, body.email, body.password)
    assert user.id is not None
    token, expires_at = signer(request).issue_api(user.id,
                                                  generation=user.credential_generation)
    return JSONResponse(Token(access_token=token, expires_at=expires_at).model_dump(mode="json"))


routes = [
    ApiRoute("/auth/token", issue_token, method="POST", op=Operation(
        summary="Trade an email and password for a bearer token", tag="auth", body=TokenIn,
        response=Token, authenticated=False)),
]
