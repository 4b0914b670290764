"""A real app served by uvicorn on the test's own event loop, demo data loaded."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
import uvicorn
from aiortc import RTCPeerConnection
from aiortc.mediastreams import AudioStreamTrack
from sqlmodel import col, select
from starlette.applications import Starlette

from conference.conferences import ConferenceStatus
from signaling.client import RoomClient
from storage.demo import load_demo
from storage.engine import session_scope
from storage.tables import AgendaItem, Conference, User
from tests.factories import id_of
from tests.ports import free_port
from tests.signaling.conftest import SyntheticVideo
from web.app import create_app
from web.settings import Settings


@dataclass
class Live:
    app: Starlette
    base: str
    conference_id: int
    item_ids: list[int]
    users: dict[str, int]

    def ws_url(self, conference_id: int | None = None) -> str:
        return f"ws://{self.base}/ws/conferences/{conference_id or self.conference_id}"

    def token(self, who: str) -> str:
        token: str = self.app.state.signer.issue_api(self.users[who])[0]
        return token

    def client(self, who: str, *, receive_video: bool = True,
               on_remote_offer: Callable[[RTCPeerConnection], None] | None = None) -> RoomClient:
        return RoomClient(self.ws_url(), token=self.token(who), receive_video=receive_video,
                          on_remote_offer=on_remote_offer)

    async def joined(self, who: str, *, publish: bool = True) -> RoomClient:
        client = self.client(who)
        await client.open()
        await client.join()
        if publish:
            await client.publish([AudioStreamTrack(), SyntheticVideo(fps=15)])
        return client


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[Live]:
    app = create_app(Settings(database_url=database_url, secret_key="live-test-secret"))
    with session_scope(app.state.engine) as session:
        load_demo(session)
        conf = session.exec(select(Conference)).one()
        assert conf.id is not None and conf.status is ConferenceStatus.PUBLISHED
        items = [id_of(i) for i in session.exec(
            select(AgendaItem).where(AgendaItem.conference_id == conf.id)
            .order_by(col(AgendaItem.position)))]
        people = {u.email.split("@")[0]: id_of(u) for u in session.exec(select(User))}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws_max_size=1 << 20, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield Live(app, f"127.0.0.1:{port}", id_of(conf), items, people)
    server.should_exit = True
    await asyncio.wait_for(task, 15)


def media_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.is_alive()}
