"""A room's signaling from any instance: a socket that lands on an instance that does
not host its room is relayed, frame by frame, over the backplane (Redis pub/sub) to the
instance that does.

The edge (where the socket is) asks the host, on the host's own channel, to ``open`` a
relayed connection; the host subscribes to the connection's upward channel, says
``ready`` on its downward one, and serves it like a local socket (the same
:meth:`signaling.hub.Hub.serve`), so the SDP and ICE candidates the client receives
are the host's and media flows straight to the host. The edge then pumps frames both
ways until either side closes. Should the host stop owning the room (it died and its
claim ran out, or it is draining), the edge tells its client ``reconnect`` and closes
with 1012: the client connects again and lands on the new host.

Channels: ``instance:{id}`` (requests to open), ``relay:{conn}:up`` (client frames),
``relay:{conn}:down`` (server frames, ``ready`` and ``close``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from signaling import errors
from signaling.bus import Backplane, Payload
from signaling.live_room import Transport
from signaling.protocol import Reconnect, dump, error_message
from signaling.room import Identity

log = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 5.0
OWNER_CHECK_SECONDS = 1.0
CLOSE_RECONNECT = 1012  # "service restart": the client connects again
CLOSE_UNAVAILABLE = 1013  # "try again later": the relay (the backplane) is unavailable


def instance_channel(instance_id: str) -> str:
    return f"instance:{instance_id}"


def _up(conn_id: str) -> str:
    return f"relay:{conn_id}:up"


def _down(conn_id: str) -> str:
    return f"relay:{conn_id}:down"


def identity_payload(identity: Identity) -> dict[str, Any]:
    return {"user_id": identity.user_id, "display_name": identity.display_name,
            "role": identity.role.value,
            "specialty": identity.specialty.value if identity.specialty else None,
            "conference_role": identity.conference_role.value
            if identity.conference_role else None,
            "item_ids": sorted(identity.item_ids), "guest_link_id": identity.guest_link_id}


def identity_from(payload: dict[str, Any]) -> Identity:
    return Identity(**payload)


class OpenRequest:
    """An edge's request that this instance serve a relayed connection."""

    def __init__(self, payload: Payload) -> None:
        self.conn_id = str(payload["conn"])
        self.conference_id = int(payload["conference"])
        self.identity = identity_from(payload["identity"])


class RelayedTransport:
    """On the host: the edge's socket, as a :class:`~signaling.live_room.Transport`."""

    def __init__(self, backplane: Backplane, conn_id: str,
                 frames: AsyncIterator[Payload]) -> None:
        self.backplane = backplane
        self.conn_id = conn_id
        self.frames = frames
        self.closed = False

    async def send(self, text: str) -> None:
        if self.closed:
            return
        with contextlib.suppress(errors.BackplaneUnavailable):
            await self.backplane.publish(_down(self.conn_id), {"frame": text})

    async def receive(self) -> str | None:
        if self.closed:
            return None
        try:
            payload = await anext(self.frames)
        except (errors.BackplaneUnavailable, StopAsyncIteration):
            return None
        if "frame" in payload:
            return str(payload["frame"])
        self.closed = True  # {"closed": true}: the client is gone
        return None

    async def close(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(errors.BackplaneUnavailable):
                await self.backplane.publish(_down(self.conn_id), {"close": code})


async def serve_relayed(backplane: Backplane, request: OpenRequest,
                        serve: Callable[[Transport], Awaitable[None]]) -> None:
    """On the host: subscribe to the connection's frames, say ``ready``, serve it."""
    async with backplane.subscribe(_up(request.conn_id)) as frames:
        transport = RelayedTransport(backplane, request.conn_id, frames)
        await backplane.publish(_down(request.conn_id), {"ready": True})
        try:
            await serve(transport)
        finally:
            await transport.close(CLOSE_RECONNECT)


async def relay_edge(backplane: Backplane, *, owner: str, conference_id: int,
                     identity: Identity, transport: Transport,
                     still_hosted_by: Callable[[str], Awaitable[bool]]) -> None:
    """At the edge: carry one client socket to the room's host and back."""
    conn_id = secrets.token_urlsafe(12)
    async with backplane.subscribe(_down(conn_id)) as down:
        await backplane.publish(instance_channel(owner), {
            "op": "open", "conn": conn_id, "conference": conference_id,
            "identity": identity_payload(identity)})
        try:
            first = await asyncio.wait_for(anext(down), READY_TIMEOUT_SECONDS)
        except (TimeoutError, StopAsyncIteration):
            first = {}
        if not first.get("ready"):
            log.warning("room %s: its host %s did not answer a relayed join", conference_id,
                        owner, extra={"conference_id": conference_id})
            await transport.send(dump(Reconnect()))
            await transport.close(CLOSE_RECONNECT)
            return

        async def upward() -> None:
            try:
                while (text := await transport.receive()) is not None:
                    await backplane.publish(_up(conn_id), {"frame": text})
            finally:
                with contextlib.suppress(errors.BackplaneUnavailable):
                    await backplane.publish(_up(conn_id), {"closed": True})

        async def downward() -> None:
            async for payload in down:
                if "frame" in payload:
                    await transport.send(str(payload["frame"]))
                elif "close" in payload:
                    await transport.close(int(payload["close"]))
                    return

        async def watch() -> None:
            while True:
                await asyncio.sleep(OWNER_CHECK_SECONDS)
                try:
                    hosted = await still_hosted_by(owner)
                except errors.BackplaneUnavailable:
                    continue
                if not hosted:
                    log.info("room %s: its host %s is gone; the client reconnects",
                             conference_id, owner, extra={"conference_id": conference_id})
                    await transport.send(dump(Reconnect()))
                    await transport.close(CLOSE_RECONNECT)
                    return

        tasks = [asyncio.create_task(t()) for t in (upward, downward, watch)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if (exc := task.exception()) is not None and not isinstance(
                        exc, errors.BackplaneUnavailable):
                    raise exc
                if isinstance(task.exception(), errors.BackplaneUnavailable):
                    await transport.send(dump(error_message(errors.InvalidState(
                        "The connection between Casebridge servers is down; "
                        "reconnecting."))))
                    await transport.close(CLOSE_UNAVAILABLE)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
