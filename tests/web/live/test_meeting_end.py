"""A conference goes live only shortly before its start, the chair ends the meeting
(everyone in the room is told: close code 4410), and a room left empty past its
planned end closes by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
from sqlmodel import select

from conference.conferences import ConferenceStatus
from signaling.client import RoomClient
from storage import conferences, users
from storage.engine import session_scope
from storage.tables import Conference
from tests.factories import found, guest_token
from tests.web.live.conftest import Live
from web.sweeper import sweep


async def test_going_live_a_week_early_is_refused(live: Live) -> None:
    headers = {"Authorization": f"Bearer {live.token('coordinator')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=headers) as api:
        later = await api.post("/api/v1/conferences", json={
            "title": "Next week", "starts_at": (datetime.now(UTC) + timedelta(days=7))
            .isoformat(), "duration_minutes": 60, "chair_id": live.users["okafor"]})
        conf = later.json()["id"]
        assert (await api.put(f"/api/v1/conferences/{conf}/status",
                              json={"status": "published"})).status_code == 200
        early = await api.put(f"/api/v1/conferences/{conf}/status", json={"status": "live"})
        assert early.status_code == 409
        assert early.json()["error"]["code"] == "too_early_to_go_live"


async def test_ending_the_meeting_closes_everyones_socket(live: Live) -> None:
    chair = await live.joined("okafor", publish=False)
    pain = await live.joined("raman", publish=False)
    guest = RoomClient(live.ws_url(), token=guest_token(live.app, item_id=live.item_ids[0],
                                                       name="Dr. Guest"))
    await guest.open()
    await guest.join()
    await chair.send({"type": "advance", "item_id": str(live.item_ids[0])})
    await pain.expect(lambda m: m["type"] == "agenda" and m["current_item_id"])
    headers = {"Authorization": f"Bearer {live.token('okafor')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=headers) as api:
        ended = await api.put(f"/api/v1/conferences/{live.conference_id}/status",
                              json={"status": "closed"})
        assert ended.status_code == 200, ended.text
    for client in (chair, pain, guest):
        assert await client.wait_closed() == 4410
    with session_scope(live.app.state.engine) as session:
        conf = conferences.get_conference(session, live.conference_id)
        assert conf.current_item_id is None and conf.status is ConferenceStatus.CLOSED
    late = live.client("lee")
    await late.open()
    assert await late.wait_closed() == 4410  # nobody comes into an ended meeting
    for client in (chair, pain, guest, late):
        await client.close()


async def test_an_empty_room_past_its_end_closes_by_itself(live: Live) -> None:
    with session_scope(live.app.state.engine) as session:
        conf = session.exec(select(Conference)).one()
        conf.status = ConferenceStatus.LIVE
        session.add(conf)
        end = conf.starts_at + timedelta(minutes=conf.duration_minutes)
    chair = await live.joined("okafor", publish=False)
    # Past the end and the grace, but someone is still in the room: it stays open.
    assert await sweep(live.app, now=end + timedelta(minutes=20)) == []
    await chair.close()
    for _ in range(50):
        if not await live.app.state.hub.occupied(live.conference_id):
            break
        import asyncio
        await asyncio.sleep(0.1)
    # Within the grace: stays open; past it: closed, by nobody.
    assert await sweep(live.app, now=end + timedelta(minutes=5)) == []
    assert await sweep(live.app, now=end + timedelta(minutes=16)) == [live.conference_id]
    with session_scope(live.app.state.engine) as session:
        assert conferences.get_conference(session, live.conference_id).status \
            is ConferenceStatus.CLOSED
        assert found(users.find_by_email(session, "okafor@casebridge.example"))
