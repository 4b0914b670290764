"""Signed tokens: API bearer tokens and guest links scoped to one agenda item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from conference.errors import NotAuthenticated
from storage.clock import utcnow
from storage.tables import GuestLink, OutcomeLink

API_TOKEN_TTL = timedelta(hours=12)


@dataclass(frozen=True)
class GuestGrant:
    """What a guest link lets its holder see: one agenda item of one conference. The
    stored link (``link_id``) decides whether it still does: see ``web.auth.guest_link``."""

    conference_id: int
    item_id: int
    name: str
    expires_at: datetime
    link_id: int


class TokenSigner:
    def __init__(self, secret_key: str) -> None:
        self._api = URLSafeTimedSerializer(secret_key, salt="casebridge.api-token")
        self._guest = URLSafeTimedSerializer(secret_key, salt="casebridge.guest-link")
        self._feed = URLSafeTimedSerializer(secret_key, salt="casebridge.calendar-feed")
        self._outcome = URLSafeTimedSerializer(secret_key, salt="casebridge.outcome-link")

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

    def issue_guest(self, link: GuestLink) -> str:
        """The token of a stored guest link: it names the row, so revoking the row
        ends it; its own expiry is the row's."""
        return self._guest.dumps({"lid": link.id, "cid": link.conference_id,
                                  "iid": link.agenda_item_id, "name": link.name,
                                  "exp": int(link.expires_at.timestamp())})

    def read_guest(self, token: str) -> GuestGrant:
        data = self._load(self._guest, token, "guest link")
        if not isinstance(data.get("lid"), int):
            # Signed before links were stored: nothing can revoke it, so it is refused.
            raise NotAuthenticated("This guest link is not valid any more: ask for a new one.")
        return GuestGrant(int(data["cid"]), int(data["iid"]), str(data["name"]),
                          datetime.fromtimestamp(int(data["exp"]), tz=utcnow().tzinfo),
                          int(data["lid"]))

    def issue_outcome(self, link: OutcomeLink) -> str:
        """A patient's questionnaire link: names the stored row (single use, expiring)."""
        return str(self._outcome.dumps({"lid": link.id,
                                        "exp": int(link.expires_at.timestamp())}))

    def read_outcome(self, token: str) -> int:
        """The stored link's id (the row decides whether it can still be answered)."""
        data = self._load(self._outcome, token, "questionnaire link")
        return int(data["lid"])

    def issue_feed(self, user_id: int, generation: int) -> str:
        """The secret part of a person's calendar feed address: no expiry (calendar
        programs poll it for months); raising ``generation`` revokes it."""
        return str(self._feed.dumps({"uid": user_id, "gen": generation}))

    def read_feed(self, token: str) -> tuple[int, int]:
        """The feed's person and the generation it was issued under."""
        try:
            data = self._feed.loads(token)
        except BadSignature as exc:
            raise NotAuthenticated("This calendar address is not valid.") from exc
        return int(data["uid"]), int(data["gen"])

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
