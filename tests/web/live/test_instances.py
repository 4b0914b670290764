"""Several app instances on one database and one Redis: one hosts each room."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from aiortc.mediastreams import AudioStreamTrack
from sqlmodel import select
from starlette.applications import Starlette

from signaling.bus import open_backplane
from signaling.client import RoomClient
from storage.demo import load_demo
from storage.engine import session_scope
from storage.tables import Conference, User
from tests.factories import id_of
from tests.ports import free_port
from tests.signaling.conftest import SyntheticVideo
from web.app import create_app
from web.settings import Settings

# The two apps, their room socket URLs, and the demo's people by login name.
Instances = tuple[list[Starlette], list[str], dict[str, Any]]

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _serve(app: Starlette) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    return server, task, port


@pytest.fixture
async def two_instances(database_url: str
                        ) -> AsyncIterator[Instances]:
    prefix = f"casebridge-test-{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=database_url, secret_key="shared-secret",
                        redis_url=REDIS_URL)
    apps = [create_app(settings), create_app(settings)]
    for app in apps:
        # A private key space per test; production uses the default prefix.
        await app.state.backplane.aclose()
        app.state.backplane = open_backplane(REDIS_URL, prefix=prefix)
        app.state.hub.backplane = app.state.backplane
    try:
        await apps[0].state.backplane.ping()
    except Exception as exc:  # pragma: no cover - the machine runs Redis
        pytest.fail(f"Redis is not reachable on {REDIS_URL}: {exc}")
    with session_scope(apps[0].state.engine) as session:
        load_demo(session)
        conf_id = session.exec(select(Conference)).one().id
        people = {u.email.split("@")[0]: u.id for u in session.exec(select(User))}
    served = [await _serve(app) for app in apps]
    yield apps, [f"ws://127.0.0.1:{port}/ws/conferences/{conf_id}" for _, _, port in served], people
    for server, task, _ in served:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def test_instances_a_socket_on_either_instance_reaches_the_room(
        two_instances: Instances) -> None:
    """The second instance relays its socket to the host: one room, media between
    a client of each instance (the SDP and candidates are the host's)."""
    apps, urls, people = two_instances
    host = RoomClient(urls[0], token=apps[0].state.signer.issue_api(people["okafor"])[0])
    await host.open()
    assert (await host.join())["type"] == "welcome"
    await host.publish([AudioStreamTrack(), SyntheticVideo(fps=15)])
    relayed = RoomClient(urls[1], token=apps[1].state.signer.issue_api(people["lee"])[0])
    await relayed.open()
    welcome = await relayed.join()
    assert welcome["type"] == "welcome"
    assert len(welcome["participants"]) == 2
    await relayed.publish([AudioStreamTrack(), SyntheticVideo(fps=15)])
    assert set(apps[0].state.hub.rooms) and not apps[1].state.hub.rooms  # one host
    await RoomClient.wait_for(lambda: sum(relayed.received_from("video").values()) > 5,
                              timeout=20)
    await RoomClient.wait_for(lambda: sum(host.received_from("video").values()) > 5,
                              timeout=20)
    await relayed.close()
    await host.close()
    await RoomClient.wait_for(lambda: not apps[0].state.hub.rooms)
    key = f"conference:{urls[0].rsplit('/', 1)[1]}"
    for _ in range(100):  # the claim is released just after the room closes
        if await apps[0].state.backplane.owner(key) is None:
            break
        await asyncio.sleep(0.05)
    moved = RoomClient(urls[1], token=apps[1].state.signer.issue_api(people["lee"])[0])
    await moved.open()
    assert (await moved.join())["type"] == "welcome"  # released: the other may host it now
    assert set(apps[1].state.hub.rooms) and not apps[0].state.hub.rooms
    await moved.close()


async def test_instances_decision_signed_on_one_reaches_the_room_on_the_other(
        two_instances: Instances) -> None:
    from tests.web.live.test_room_socket import _sign_over_api

    apps, urls, people = two_instances
    host = RoomClient(urls[0], token=apps[0].state.signer.issue_api(people["raman"])[0])
    await host.open()
    await host.join()
    with session_scope(apps[0].state.engine) as session:
        from storage import agenda

        conf_id = int(urls[0].rsplit("/", 1)[1])
        item_id = id_of(agenda.items(session, conf_id)[0])
    base_b = "http://" + urls[1].split("/")[2]
    await _sign_over_api(base_b, apps[1].state.signer.issue_api(people["okafor"])[0], item_id,
                         [people["okafor"]])
    notice = await host.expect(lambda m: m["type"] == "decision-signed")
    assert notice["item_id"] == str(item_id)  # signed on B, heard in the room hosted on A
    await host.close()
