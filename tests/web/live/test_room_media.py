"""Media through the live room: real aiortc participants over loopback."""

import asyncio
import threading
import time
from functools import partial
from typing import Any

from aiortc.mediastreams import AudioStreamTrack

from signaling.client import RoomClient
from tests.factories import found, guest_token
from tests.signaling.conftest import SyntheticVideo
from tests.web.live.conftest import Live


async def close_all(*clients: RoomClient) -> None:
    for client in clients:
        await client.close()


async def test_media_three_participants_each_receive_the_other_two(live: Live) -> None:
    a, b, c = [await live.joined(who) for who in ("okafor", "raman", "lee")]
    ids = {client: client.participant_id for client in (a, b, c)}
    for client in (a, b, c):
        others = {ids[x] for x in (a, b, c) if x is not client}
        def flowing(client: RoomClient = client, others: set[str | None] = others) -> bool:
            return (set(client.received_from("video")) == others
                    and all(n >= 3 for n in client.received_from("video").values())
                    and set(client.received_from("audio")) == others
                    and all(n >= 3 for n in client.received_from("audio").values()))

        await RoomClient.wait_for(flowing, timeout=20)
    await close_all(a, b, c)


async def test_media_late_joiner_decodes_video_within_two_seconds(live: Live) -> None:
    a, b = await live.joined("okafor"), await live.joined("raman")
    await RoomClient.wait_for(lambda: len(b.received_from("video")) == 1, timeout=15)
    await asyncio.sleep(1.0)  # well into the publishers' keyframe interval
    late = live.client("lee")
    started = time.monotonic()
    await late.open()
    await late.join()
    await late.publish([AudioStreamTrack(), SyntheticVideo()])
    def decoding_both() -> bool:
        counts = late.received_from("video")
        return len(counts) == 2 and all(n > 0 for n in counts.values())

    await RoomClient.wait_for(decoding_both, timeout=10)
    first = max(min(late.first_frame_at[t.receiver.track] for t in late.receiving()
                    if t.kind == "video" and late.publisher_of(t) == pid
                    and t.receiver.track in late.first_frame_at)
                for pid in (a.participant_id, b.participant_id))
    assert first - started < 2.0, f"first frames after {first - started:.2f} s"
    await close_all(a, b, late)


async def test_media_leaving_ends_the_others_tracks(live: Live) -> None:
    a, b, c = [await live.joined(who) for who in ("okafor", "raman", "lee")]
    await RoomClient.wait_for(lambda: len(a.received_from("video")) == 2, timeout=20)
    leaver = c.participant_id
    await c.send({"type": "leave"})
    await a.expect(lambda m: m["type"] == "participant-left" and m["participant_id"] == leaver)
    await RoomClient.wait_for(lambda: leaver not in a.received_from("video")
                              and leaver not in b.received_from("video"), timeout=10)
    assert set(a.received_from("video")) == {b.participant_id}
    await close_all(a, b, c)


async def test_media_teardown_leaves_nothing_running(live: Live) -> None:
    before = {t.ident for t in threading.enumerate()}
    clients = [await live.joined(who) for who in ("okafor", "raman")]
    await RoomClient.wait_for(lambda: len(clients[0].received_from("video")) == 1, timeout=15)
    hub = live.app.state.hub
    room = hub.rooms[live.conference_id]
    assert len(room.media) == 2
    await close_all(*clients)
    await RoomClient.wait_for(lambda: not hub.rooms, timeout=10)
    assert room.media == set() and room.connections == {}

    def leftover_threads() -> set[int | None]:
        # asyncio_N are the loop's default executor (the database calls), kept by design.
        return {t.ident for t in threading.enumerate()
                if t.is_alive() and not t.name.startswith("asyncio_")} - before

    try:
        await RoomClient.wait_for(lambda: not leftover_threads(), timeout=10)
    except TimeoutError:
        raise AssertionError([t.name for t in threading.enumerate()
                              if t.ident in leftover_threads()]) from None
    def media_tasks() -> list[str]:
        return [repr(t.get_coro()) for t in asyncio.all_tasks()
                if not t.done() and any(word in repr(t.get_coro()) for word in
                                        ("RTC", "forwarding", "hub", "_Outlet", "_Source"))]

    try:
        await RoomClient.wait_for(lambda: not media_tasks(), timeout=10)
    except TimeoutError:
        raise AssertionError(media_tasks()) from None


async def test_media_server_shutdown_closes_live_rooms(live: Live) -> None:
    a = await live.joined("okafor")
    b = await live.joined("raman")
    await RoomClient.wait_for(lambda: len(a.received_from("video")) == 1, timeout=15)
    await live.app.state.hub.close()
    assert await a.wait_closed() == 1001
    assert live.app.state.hub.rooms == {}
    await close_all(a, b)


async def test_media_low_bandwidth_declines_video_keeps_audio(live: Live) -> None:
    a = await live.joined("okafor")
    thin = live.client("raman", receive_video=False)
    await thin.open()
    await thin.join()
    await thin.publish([AudioStreamTrack(), SyntheticVideo()])
    await RoomClient.wait_for(
        lambda: thin.received_from("audio").get(found(a.participant_id), 0) > 5
        and a.received_from("video").get(found(thin.participant_id), 0) > 5,
        timeout=20)
    video_in = [t for t in thin.pc.getTransceivers()
                if t.kind == "video" and t.mid and t.direction != "sendonly"]
    assert video_in and all(t.currentDirection == "inactive" for t in video_in)
    assert thin.received_from("video") == {}
    room = live.app.state.hub.rooms[live.conference_id]
    peer = room.router._peers[thin.participant_id]
    assert not [o for o in peer.outlets if o.kind == "video" and o.active]
    await close_all(a, thin)


async def test_media_client_hook_sees_each_server_offer_before_answering(live: Live) -> None:
    seen = []

    def on_remote_offer(pc: Any) -> None:
        # Called with the server's offer applied and no answer yet.
        seen.append((pc.signalingState, len(pc.getTransceivers())))

    a = await live.joined("okafor")
    b = live.client("raman", on_remote_offer=on_remote_offer)
    await b.open()
    await b.join()
    await b.publish([AudioStreamTrack(), SyntheticVideo()])
    await RoomClient.wait_for(lambda: b.received_from("video").get(found(a.participant_id), 0) > 0,
                              timeout=15)
    assert seen and seen[0] == ("have-remote-offer", 4)
    await close_all(a, b)


def tracks_from(client: RoomClient, publisher: str | None) -> list[Any]:
    """The tracks ``client`` receives from ``publisher``, as they are now."""
    return [t.receiver.track for t in client.receiving() if client.publisher_of(t) == publisher]


async def test_media_guest_hears_and_is_heard_only_while_their_case_is_current(
        live: Live) -> None:
    """Issue 9 item 1: a guest admitted for one case stayed connected, sending and
    receiving audio and video, while the panel discussed another patient. Counted in
    RTP packets and frames, not only in messages."""
    their_case, other_case = str(live.item_ids[-1]), str(live.item_ids[0])
    chair, member = await live.joined("okafor"), await live.joined("raman")
    await chair.send({"type": "advance", "item_id": their_case})
    guest = RoomClient(live.ws_url(), token=guest_token(live.app, item_id=int(their_case),
                                                          name="Dr. Ines Ortiz"))
    await guest.open()
    await guest.join()
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests" and m["guests"])
    await chair.send({"type": "admit", "participant_id": waiting["guests"][0]["participant_id"]})
    gid = (await guest.expect(lambda m: m["type"] == "welcome"))["participant_id"]
    await guest.publish([AudioStreamTrack(), SyntheticVideo(fps=15)])
    def hears_guest(panel: RoomClient) -> bool:
        return panel.received_from("audio").get(gid, 0) > 5 \
            and panel.received_from("video").get(gid, 0) > 5

    for panel in (chair, member):
        await RoomClient.wait_for(partial(hears_guest, panel), timeout=20)
    await RoomClient.wait_for(lambda: len(guest.received_from("video")) == 2, timeout=20)
    heard = {panel: tracks_from(panel, gid) for panel in (chair, member)}
    assert all(len(tracks) == 2 for tracks in heard.values())  # their audio and video

    mark = len(guest.messages)
    await chair.send({"type": "advance", "item_id": other_case})
    lobby = await guest.expect(lambda m: m["type"] == "lobby", after=mark)
    assert lobby == {"type": "lobby", "position": 1, "reason": "another_case"}
    assert not [m for m in guest.messages[mark:] if m["type"] == "agenda"]
    room = live.app.state.hub.rooms[live.conference_id]
    assert gid not in room.media and gid not in room.router._peers  # no media at the server
    await asyncio.sleep(1.0)  # whatever was in flight has arrived
    packets = await guest.packets_received()
    frames = {panel: [panel.frames[t] for t in heard[panel]] for panel in (chair, member)}
    await asyncio.sleep(2.0)
    assert await guest.packets_received() == packets  # the guest hears and sees nothing
    for panel in (chair, member):  # and nobody hears or sees the guest
        assert [panel.frames[t] for t in heard[panel]] == frames[panel]
        assert gid not in panel.received_from("audio") and gid not in panel.received_from("video")

    mark = len(guest.messages)
    await chair.send({"type": "advance", "item_id": their_case})
    back = await guest.expect(lambda m: m["type"] == "welcome", after=mark)  # no new admit
    assert back["participant_id"] == gid and back["current_item_id"] == their_case
    await guest.renew_peer()
    await guest.publish([AudioStreamTrack(), SyntheticVideo(fps=15)])
    await RoomClient.wait_for(lambda: chair.received_from("video").get(gid, 0) > 5, timeout=20)
    await RoomClient.wait_for(lambda: len(guest.received_from("audio")) == 2, timeout=20)
    await close_all(chair, member, guest)
