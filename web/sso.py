"""Single sign-on with the hospital's OpenID Connect provider, through Authlib: the
authorization-code flow with PKCE (S256), ``state`` and ``nonce``; discovery from
CASEBRIDGE_OIDC_ISSUER; the ID token's signature checked against the issuer's JWKS,
its issuer, audience, expiry and nonce checked too (all by Authlib, nothing here
parses a token). The verified address must belong to an active person: nobody is
created by signing in. Password sign-in and API tokens stay as they are.

The flow's state, nonce and PKCE verifier wait in the signed session cookie between
the two legs; a callback whose state is not this browser's, or whose code was used
before, is refused.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx2
from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from conference.errors import NotAuthenticated
from conference.signin import verified_email
from storage import users
from storage.clock import utcnow
from web.auth import client_address, public_base, sign_in
from web.db import db
from web.pages.session import safe_next
from web.settings import OidcClient
from web.templating import render

log = logging.getLogger(__name__)

CALLBACK = "/auth/oidc/callback"
CLOCK_SKEW_SECONDS = 60  # between our clock and the identity provider's
_NEXT = "oidc_next"


def client_for(oidc: OidcClient) -> StarletteOAuth2App:
    """The registered OpenID client (metadata is fetched on first use)."""
    oauth = OAuth()
    client: StarletteOAuth2App = oauth.register(
        "hospital", client_id=oidc.client_id, client_secret=oidc.client_secret,
        server_metadata_url=f"{oidc.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                       "timeout": 10})
    return client


def _client(request: Request) -> StarletteOAuth2App:
    client: StarletteOAuth2App | None = getattr(request.app.state, "oidc", None)
    if client is None:
        raise NotAuthenticated("Single sign-on is not set up here: sign in with your password.")
    return client


def _refused(request: Request, message: str, status: int) -> Response:
    oidc: OidcClient | None = request.app.state.settings.oidc
    return render(request, "pages/sso_refused.html", {
        "message": message, "name": oidc.name if oidc else "single sign-on"}, status)


async def oidc_login(request: Request) -> Response:
    """Off to the identity provider, remembering where to come back to."""
    try:
        client = _client(request)
    except NotAuthenticated as exc:
        return _refused(request, exc.message, 404)
    request.session[_NEXT] = safe_next(request.query_params.get("next"))
    try:
        response: Response = await client.authorize_redirect(
            request, f"{public_base(request)}{CALLBACK}")
    except (httpx2.HTTPError, OAuthError, ValueError, KeyError) as exc:
        log.warning("the identity provider cannot be reached: %s", exc)
        return _refused(request, "The hospital's sign-in service cannot be reached just now. "
                                 "Try again in a moment, or sign in with your password.", 503)
    return response


def _sign_in_verified(request: Request, claims: dict[str, Any]) -> Any:
    email = verified_email(claims)
    with db(request) as session:
        return users.single_sign_on(session, email, now=utcnow())


async def oidc_callback(request: Request) -> Response:
    """Back from the identity provider: check everything, then sign the person in."""
    try:
        client = _client(request)
    except NotAuthenticated as exc:
        return _refused(request, exc.message, 404)
    next_url = request.session.pop(_NEXT, "/")
    try:
        token = await client.authorize_access_token(request, leeway=CLOCK_SKEW_SECONDS)
        claims = token.get("userinfo")
        if not claims:
            raise OAuthError(description="the identity provider sent no ID token")
        if "email" not in claims:  # some providers keep it for the userinfo endpoint
            more = await client.userinfo(token=token)
            if more.get("sub") != claims.get("sub"):
                raise OAuthError(description="userinfo is about someone else")
            claims = {**more, **claims}
        user = await run_in_threadpool(_sign_in_verified, request, dict(claims))
    except (OAuthError, JoseError, httpx2.HTTPError, ValueError, KeyError) as exc:
        log.warning("single sign-on refused from %s: %s", client_address(request), exc)
        return _refused(request, "Sign-in with your hospital account could not be completed "
                                 "(the answer from the sign-in service did not check out). "
                                 "Start again, or sign in with your password.", 400)
    except NotAuthenticated as exc:
        return _refused(request, exc.message, 403)
    sign_in(request, user)
    return RedirectResponse(next_url, status_code=303)


routes = [
    Route("/auth/oidc/login", oidc_login),
    Route(CALLBACK, oidc_callback),
]
