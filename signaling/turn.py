"""Short-lived TURN credentials for each participant (the TURN REST API convention).

Browsers behind a hospital firewall that blocks UDP to the media server reach it
through a TURN relay (RFC 8656) on ports the firewall allows. The relay and Casebridge
share a secret; Casebridge hands each participant, in ``welcome.ice_servers``, a
username ``"<unix expiry>:<participant id>"`` and the password
``base64(HMAC-SHA1(secret, username))``. The relay (coturn with ``use-auth-secret``)
checks the HMAC and the expiry itself: nothing to store, nothing to revoke, and a
leaked credential is worthless after it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from signaling.protocol import IceServer

__all__ = ["CREDENTIAL_LIFETIME", "TurnRelay"]

CREDENTIAL_LIFETIME = timedelta(hours=12)
"""Long enough for the longest conference, short enough to be worthless by tomorrow."""


@dataclass(frozen=True)
class TurnRelay:
    """The hospital's TURN relays and the secret shared with them."""

    urls: Sequence[str]
    secret: str = field(repr=False)
    lifetime: timedelta = CREDENTIAL_LIFETIME

    def credential(self, participant_id: str, now: float) -> IceServer:
        """The ICE server entry for one participant; ``now`` is a Unix time."""
        expiry = int(now + self.lifetime.total_seconds())
        username = f"{expiry}:{participant_id}"
        digest = hmac.new(self.secret.encode(), username.encode(), hashlib.sha1).digest()
        return IceServer(urls=tuple(self.urls), username=username,
                         credential=base64.b64encode(digest).decode())
