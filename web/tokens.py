"""Signed tokens: API bearer tokens and guest links scoped to one agenda item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from conference.errors import NotAuthenticated
from storage.clock import utcnow

API_TOKEN_TTL = timedelta(hours=12)
GUEST_LINK_TTL = timedelta(days=2)


@dataclass(frozen=True)
class GuestGrant:
    """What a guest link lets its holder see: one agenda item of one conference."""

    conference_id: int
    item_id: int
    name: str
    expires_at: datetime


class TokenSigner:
    def __init__(self, secret_key: str) -> None:
        self._api = URLSafeTimedSerializer(secret_key, salt="casebridge.api-token")
        self._guest = URLSafeTimedSerializer(secret_key, salt="casebridge.guest-link")

    def issue_api(self, user_id: int, *, generation: int = 0,
                  ttl: timedelta = API_TOKEN_TTL) -> tuple[str, datetime]:
        """A bearer token for ``user_id``, valid while their credential generation
        is still ``generation`` (raising it revokes the token)."""
        expires = utcnow() + ttl
        return self._api.dumps({"uid": user_id, "gen": generation,
                                "exp": int(expires.timestamp())}), expires

    def read_api(self, token: str) -> tuple[int, int]:
        """The token's person and the credential generation it was issued under."""
        data = self._load(self._api, token, "API token")
        return int(data["uid"]), int(data.get("gen", 0))

    def issue_guest(self, *, conference_id: int, item_id: int, name: str,
                    ttl: timedelta = GUEST_LINK_TTL) -> tuple[str, datetime]:
        expires = utcnow() + ttl
        token = self._guest.dumps({"cid": conference_id, "iid": item_id, "name": name,
                                   "exp": int(expires.timestamp())})
        return token, expires

    def read_guest(self, token: str) -> GuestGrant:
        data = self._load(self._guest, token, "guest link")
        return GuestGrant(int(data["cid"]), int(data["iid"]), str(data["name"]),
                          datetime.fromtimestamp(int(data["exp"]), tz=utcnow().tzinfo))

    @staticmethod
    def _load(serializer: URLSafeTimedSerializer, token: str, what: str) -> dict[str, Any]:
        try:
            data = serializer.loads(token)
        except SignatureExpired as exc:
            raise NotAuthenticated(f"This {what} has expired.") from exc
        except BadSignature as exc:
            raise NotAuthenticated(f"This {what} is not valid.") from exc
        if not isinstance(data, dict) or int(data.get("exp", 0)) < utcnow().timestamp():
            raise NotAuthenticated(f"This {what} has expired.")
        return data
