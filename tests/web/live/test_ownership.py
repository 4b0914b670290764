"""Room ownership across a Redis restart (security issue item 8: after a restart the
owner key was gone, a second instance claimed a room the first still hosted, and an
amended decision reached one instance's participants only). A private Redis is
restarted; the shared one is never touched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlmodel import select
from starlette.applications import Starlette

from signaling.client import RoomClient
from storage import conferences
from storage.demo import load_demo
from storage.engine import session_scope
from storage.tables import Conference, User
from tests.servers import PrivateRedis, private_redis
from tests.web.live.test_instances import _serve
from web.app import create_app
from web.settings import Settings

TTL = timedelta(seconds=1.5)  # renewed every 0.5 s


@dataclass
class Pair:
    rds: PrivateRedis
    apps: list[Starlette]
    urls: list[str]
    people: dict[str, int]
    conf_id: int

    def token(self, n: int, who: str) -> str:
        token: str = self.apps[n].state.signer.issue_api(self.people[who])[0]
        return token


@asynccontextmanager
async def two_apps(database_url: str) -> AsyncIterator[Pair]:
    """Two instances on one database and a private Redis (which the test may stop)."""
    with private_redis() as rds:
        settings = Settings(database_url=database_url, secret_key="shared-secret",
                            redis_url=rds.url)
        apps = [create_app(settings), create_app(settings)]
        for app in apps:
            app.state.hub.ownership_ttl = TTL
        with session_scope(apps[0].state.engine) as session:
            load_demo(session)
            conf_id = session.exec(select(Conference)).one().id or 0
            people = {u.email.split("@")[0]: u.id or 0 for u in session.exec(select(User))}
        served = [await _serve(app) for app in apps]
        urls = [f"ws://127.0.0.1:{port}/ws/conferences/{conf_id}" for _, _, port in served]
        try:
            yield Pair(rds, apps, urls, people, conf_id)
        finally:
            for server, task, _ in served:
                server.should_exit = True
                await asyncio.wait_for(task, 15)


async def test_ownership_survives_a_redis_restart_and_is_fenced(database_url: str) -> None:
    async with two_apps(database_url) as pair:
        apps, urls, key = pair.apps, pair.urls, f"conference:{pair.conf_id}"
        host = RoomClient(urls[0], token=pair.token(0, "okafor"))
        await host.open()
        assert (await host.join())["type"] == "welcome"

        pair.rds.stop()   # Redis restarts empty: the owner key is gone
        await asyncio.sleep(0.6)  # a renewal fails meanwhile; the room keeps going
        pair.rds.start()
        await asyncio.sleep(1.0)  # the owner re-asserts its claim
        assert await apps[0].state.backplane.owner(key) == apps[0].state.hub.instance_id
        other = RoomClient(urls[1], token=pair.token(1, "lee"))
        await other.open()
        # Relayed to the host, whose listener came back with Redis: not a second host.
        assert (await other.join())["type"] == "welcome"
        assert not apps[1].state.hub.rooms
        await other.close()

        # Fenced: should another instance hold the claim all the same (it won the
        # window before the owner's renewal), the first stops hosting and tells
        # its clients to reconnect.
        client = aioredis.from_url(pair.rds.url)
        await client.set(f"casebridge:room-owner:{key}", "another-instance")
        await client.aclose()
        reconnect = await host.expect(lambda m: m["type"] == "reconnect", timeout=5)
        assert reconnect == {"type": "reconnect"}
        assert await host.wait_closed() == 1012
        await RoomClient.wait_for(lambda: pair.conf_id not in apps[0].state.hub.rooms)
        await host.close()


async def test_redis_down_rooms_go_on_and_relayed_joins_are_told_to_retry(
        database_url: str) -> None:
    async with two_apps(database_url) as pair:
        host = RoomClient(pair.urls[0], token=pair.token(0, "okafor"))
        await host.open()
        assert (await host.join())["type"] == "welcome"
        relayed = RoomClient(pair.urls[1], token=pair.token(1, "brooks"))
        await relayed.open()
        assert (await relayed.join())["type"] == "welcome"
        pair.rds.stop()
        # A socket relayed at the time is told the link between servers is down,
        # with the code that means "later" (its client reconnects by itself).
        cut = await relayed.expect(lambda m: m["type"] == "error")
        assert "servers is down" in cut["message"]
        assert await relayed.wait_closed() == 1013
        await relayed.close()
        # The host's room goes on: its people still talk to it.
        await host.send({"type": "chat", "body": "Still here without Redis."})
        said = await host.expect(lambda m: m["type"] == "chat")
        assert said["message"]["body"] == "Still here without Redis."
        # A join that needs the relay is told why, with a code that means "later".
        late = RoomClient(pair.urls[1], token=pair.token(1, "lee"))
        await late.open()
        error = await late.expect(lambda m: m["type"] == "error")
        assert "backplane" in error["message"] or "cannot be reached" in error["message"]
        assert await late.wait_closed() == 1013
        await late.close()
        pair.rds.start()
        await asyncio.sleep(1.5)  # the host re-asserts its claim, its listener is back
        again = RoomClient(pair.urls[1], token=pair.token(1, "lee"))
        await again.open()
        assert (await again.join())["type"] == "welcome"
        assert not pair.apps[1].state.hub.rooms  # relayed to the host, not a second room
        await again.close()
        await host.close()


async def test_a_new_room_goes_to_the_instance_hosting_fewest(database_url: str) -> None:
    """Two rooms opened through one instance: the second is hosted by the other
    (its socket relayed there), so each instance forwards one room's media."""
    async with two_apps(database_url) as pair:
        apps = pair.apps
        with session_scope(apps[0].state.engine) as session:
            coordinator = session.get(User, pair.people["coordinator"])
            assert coordinator is not None
            second = conferences.create_conference(
                session, actor=coordinator, title="Second room",
                starts_at=datetime.now(UTC), duration_minutes=60,
                chair_id=pair.people["okafor"])
            second_id = second.id or 0
        first = RoomClient(pair.urls[0], token=pair.token(0, "okafor"))
        await first.open()
        assert (await first.join())["type"] == "welcome"
        assert pair.conf_id in apps[0].state.hub.rooms

        url = f"{pair.urls[0].rsplit('/', 1)[0]}/{second_id}"
        other = RoomClient(url, token=pair.token(0, "okafor"))
        await other.open()
        assert (await other.join())["type"] == "welcome"
        assert second_id in apps[1].state.hub.rooms  # placed on the idle instance
        assert second_id not in apps[0].state.hub.rooms
        owner = await apps[0].state.backplane.owner(f"conference:{second_id}")
        assert owner == apps[1].state.hub.instance_id
        loads = await apps[0].state.backplane.loads()
        assert loads == {apps[0].state.hub.instance_id: 1, apps[1].state.hub.instance_id: 1}

        await other.close()  # the last one out: the room closes, the count follows
        await RoomClient.wait_for(lambda: second_id not in apps[1].state.hub.rooms)
        assert (await apps[1].state.backplane.loads())[apps[1].state.hub.instance_id] == 0
        await first.close()
