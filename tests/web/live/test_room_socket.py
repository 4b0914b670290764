"""The signaling socket end to end: auth, protocol errors, agenda, attendance."""

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from sqlmodel import Session

from conference.people import ConferenceRole
from signaling.client import RoomClient
from signaling.turn import TurnRelay
from storage import agenda, conferences, users
from storage.engine import session_scope
from storage.tables import Case
from tests.factories import guest_token, other_conference_item
from tests.web.live.conftest import Live

# The app's whole path, from request to SQL, on PostgreSQL as well as SQLite.
BOTH_BACKENDS = True


async def test_socket_refuses_without_sign_in(live: Live) -> None:
    client = RoomClient(live.ws_url())
    await client.open()
    assert await client.wait_closed() == 4401
    await client.close()


async def test_socket_refuses_bad_token(live: Live) -> None:
    client = RoomClient(live.ws_url(), token="forged")
    await client.open()
    assert await client.wait_closed() == 4401
    await client.close()


async def test_socket_refuses_non_member(live: Live) -> None:
    with Session(live.app.state.engine) as session:
        from tests import factories

        outsider = factories.user(session)
        session.commit()
        token = live.app.state.signer.issue_api(outsider.id)[0]
    client = RoomClient(live.ws_url(), token=token)
    await client.open()
    assert await client.wait_closed() == 4403
    await client.close()


@pytest.mark.parametrize("conference", ["999", "abc"])
async def test_socket_unknown_conference(live: Live, conference: str) -> None:
    client = RoomClient(f"ws://{live.base}/ws/conferences/{conference}",
                        token=live.token("okafor"))
    await client.open()
    assert await client.wait_closed() == 4404
    await client.close()


async def test_socket_welcome_carries_turn_credentials_made_for_each_participant(
        live: Live) -> None:
    secret = "shared-with-the-relay"
    live.app.state.hub.turn = TurnRelay(urls=("turn:turn.hospital.example:3478",),
                                        secret=secret)
    chair, pt = live.client("okafor"), live.client("lee")
    await chair.open()
    await pt.open()
    welcomes = [await chair.join(), await pt.join()]
    seen = []
    for welcome in welcomes:
        [server] = welcome["ice_servers"]
        expiry, participant = server["username"].split(":", 1)
        assert participant == welcome["participant_id"]
        assert time.time() + 11 * 3600 < int(expiry) <= time.time() + 12 * 3600 + 5
        digest = hmac.new(secret.encode(), server["username"].encode(), hashlib.sha1).digest()
        assert server["credential"] == base64.b64encode(digest).decode()
        assert server["urls"] == ["turn:turn.hospital.example:3478"]
        seen.append(server["username"])
    assert seen[0] != seen[1]
    await chair.close()
    await pt.close()


async def test_socket_welcome_lists_everyone(live: Live) -> None:
    chair = await live.joined("okafor", publish=False)
    pt = live.client("lee")
    await pt.open()
    welcome = await pt.join()
    assert welcome["type"] == "welcome"
    names = {p["display_name"] for p in welcome["participants"]}
    assert names == {"Dr. Amara Okafor", "Jordan Lee, DPT"}
    me = next(p for p in welcome["participants"]
              if p["participant_id"] == welcome["participant_id"])
    assert (me["specialty"], me["role"]) == ("physical_therapy", "specialist")
    joined = await chair.expect(lambda m: m["type"] == "participant-joined")
    assert joined["participant"]["display_name"] == "Jordan Lee, DPT"
    await pt.close()
    left = await chair.expect(lambda m: m["type"] == "participant-left")
    assert left["participant_id"] == welcome["participant_id"]
    await chair.close()


@pytest.mark.parametrize(("frame", "code"), [
    ("{not json", "bad_json"),
    ('{"type": "teleport"}', "unknown_type"),
    ('{"type": "media", "audio": "yes", "video": true}', "invalid_message"),
    ("[1, 2]", "invalid_message"),
    ('{"type": 5}', "invalid_message"),
    ('{"type": "welcome", "participant_id": "p"}', "unknown_type"),  # a server message
    ("x" * 200_000, "too_large"),  # measured before it is parsed
    ('{"type": "offer", "sdp": "v=0 garbage"}', "invalid_sdp"),
    (json.dumps({"type": "offer", "sdp": "x" * 200_000}), "too_large"),
    ('{"type": "advance", "item_id": "424242"}', "not_found"),
    ('{"type": "admit", "participant_id": "nobody"}', "not_found"),
])
async def test_socket_bad_messages_get_error_and_connection_lives(live: Live, frame: str,
                                                                  code: str) -> None:
    client = await live.joined("okafor", publish=False)
    await client.send_raw(frame)
    error = await client.expect(lambda m: m["type"] == "error")
    assert error["code"] == code and error["message"]
    mark = len(client.messages)
    await client.send({"type": "media", "audio": False, "video": True})
    await client.send({"type": "advance", "item_id": str(live.item_ids[0])})
    agenda_msg = await client.expect(lambda m: m["type"] == "agenda", after=mark)
    assert agenda_msg["current_item_id"] == str(live.item_ids[0])
    await client.close()


async def test_socket_member_cannot_advance(live: Live) -> None:
    client = await live.joined("lee", publish=False)
    await client.send({"type": "advance", "item_id": str(live.item_ids[1])})
    error = await client.expect(lambda m: m["type"] == "error")
    assert error["code"] == "forbidden"
    await client.close()


async def test_socket_offer_before_join_is_invalid_state(live: Live) -> None:
    client = live.client("okafor")
    await client.open()
    await client.send({"type": "offer", "sdp": "v=0"})
    error = await client.expect(lambda m: m["type"] == "error")
    assert error["code"] == "invalid_state"
    await client.close()


async def test_socket_rate_limited(live: Live) -> None:
    client = await live.joined("lee", publish=False)
    for _ in range(80):
        await client.send({"type": "media", "audio": True, "video": True})
    error = await client.expect(lambda m: m["type"] == "error" and m["code"] == "rate_limited")
    assert error["message"]
    await client.close()


async def test_socket_advance_is_stored_followed_and_counts_attendance(live: Live) -> None:
    chair = await live.joined("okafor", publish=False)
    pain = await live.joined("raman", publish=False)
    item = str(live.item_ids[2])
    await chair.send({"type": "advance", "item_id": item})
    for client in (chair, pain):
        message = await client.expect(lambda m: m["type"] == "agenda")
        assert message["current_item_id"] == item and message["started_at"]
    late = await live.joined("brooks", publish=False)
    welcome = next(m for m in late.messages if m["type"] == "welcome")
    assert welcome["current_item_id"] == item and welcome["started_at"]
    expected = {live.users["okafor"], live.users["raman"], live.users["brooks"]}

    def stored() -> bool:  # written off the loop: poll (a loaded machine is slow)
        with Session(live.app.state.engine) as session:
            return set(agenda.present_for(session, int(item))) == expected

    await RoomClient.wait_for(stored, timeout=10)
    with Session(live.app.state.engine) as session:
        conf = conferences.get_conference(session, live.conference_id)
        assert conf.current_item_id == int(item) and conf.status.value == "live"
    for client in (chair, pain, late):
        await client.close()


async def test_socket_reopened_room_resumes_current_item(live: Live) -> None:
    chair = await live.joined("okafor", publish=False)
    await chair.send({"type": "advance", "item_id": str(live.item_ids[1])})
    await chair.expect(lambda m: m["type"] == "agenda")
    await chair.close()
    await RoomClient.wait_for(lambda: not live.app.state.hub.rooms)
    again = await live.joined("lee", publish=False)
    welcome = next(m for m in again.messages if m["type"] == "welcome")
    assert welcome["current_item_id"] == str(live.item_ids[1])
    await again.close()


async def test_socket_guest_link_waits_in_lobby_until_admitted(live: Live) -> None:
    token = guest_token(live.app, item_id=live.item_ids[-1], name="Dr. Hale")
    chair = await live.joined("okafor", publish=False)
    guest = RoomClient(live.ws_url(), token=token)
    await guest.open()
    lobby = await guest.join(display_name="Dr. Hale (guest)")
    # No case is current: the guest waits for theirs (not yet for the chair).
    assert lobby == {"type": "lobby", "position": 1, "reason": "another_case"}
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests" and m["guests"])
    guest_id = waiting["guests"][0]["participant_id"]
    assert waiting["guests"][0]["item_ids"] == [str(live.item_ids[-1])]
    await chair.send({"type": "admit", "participant_id": guest_id})
    refused = await chair.expect(lambda m: m["type"] == "error")
    assert refused["code"] == "invalid_state" and "not under discussion" in refused["message"]
    await chair.send({"type": "advance", "item_id": str(live.item_ids[-1])})
    assert await guest.expect(lambda m: m["type"] == "lobby" and m["reason"] is None)
    await chair.send({"type": "admit", "participant_id": guest_id})
    welcome = await guest.expect(lambda m: m["type"] == "welcome")
    assert welcome["participant_id"] == guest_id
    await guest.send({"type": "advance", "item_id": str(live.item_ids[0])})
    assert (await guest.expect(lambda m: m["type"] == "error"))["code"] == "forbidden"
    for client in (chair, guest):
        await client.close()


async def test_socket_guest_link_for_another_conference_refused(live: Live) -> None:
    token = guest_token(live.app, item_id=other_conference_item(live.app), name="Someone")
    client = RoomClient(live.ws_url(), token=token)
    await client.open()
    assert await client.wait_closed() == 4403
    await client.close()


async def test_socket_one_seat_per_person(live: Live) -> None:
    first = await live.joined("okafor", publish=False)
    other = await live.joined("lee", publish=False)
    second = live.client("okafor")
    await second.open()
    welcome = await second.join()
    assert await first.wait_closed() == 4001
    await other.expect(lambda m: m["type"] == "participant-left"
                       and m["participant_id"] == first.participant_id)
    room = live.app.state.hub.rooms[live.conference_id]
    await RoomClient.wait_for(lambda: len(room.connections) == 2)
    seats = [p.display_name for p in room.room.present]
    assert sorted(seats) == ["Dr. Amara Okafor", "Jordan Lee, DPT"]
    assert welcome["participant_id"] != first.participant_id
    for client in (first, second, other):
        await client.close()


async def test_socket_ending_the_item_is_stored(live: Live) -> None:
    chair = await live.joined("okafor", publish=False)
    await chair.send({"type": "advance", "item_id": str(live.item_ids[0])})
    await chair.expect(lambda m: m["type"] == "agenda" and m["current_item_id"])
    mark = len(chair.messages)
    await chair.send({"type": "advance", "item_id": None})
    message = await chair.expect(lambda m: m["type"] == "agenda", after=mark)
    assert message["current_item_id"] is None
    with Session(live.app.state.engine) as session:
        assert conferences.get_conference(session, live.conference_id).current_item_id is None
    await chair.close()


async def test_socket_survives_a_failing_database_write(live: Live, monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    client = await live.joined("okafor", publish=False)
    await client.send({"type": "advance", "item_id": str(live.item_ids[0])})
    await client.expect(lambda m: m["type"] == "agenda")

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    # Storing the new current item fails (attendance is only written when it changes).
    monkeypatch.setattr(live.app.state.hub.store, "advance", broken)
    mark = len(client.messages)
    await client.send({"type": "advance", "item_id": str(live.item_ids[1])})
    error = await client.expect(lambda m: m["type"] == "error", after=mark)
    assert error["code"] == "invalid_state" and "could not handle" in error["message"]
    monkeypatch.undo()
    mark = len(client.messages)
    await client.send({"type": "advance", "item_id": str(live.item_ids[1])})
    assert (await client.expect(lambda m: m["type"] == "agenda", after=mark))["current_item_id"]
    await client.close()


async def test_socket_refuses_another_sites_page(live: Live) -> None:
    client = RoomClient(live.ws_url(), token=live.token("okafor"),
                        headers={"Origin": "https://evil.example.com"})
    await client.open()
    assert await client.wait_closed() == 4403
    await client.close()
    same = RoomClient(live.ws_url(), token=live.token("okafor"),
                      headers={"Origin": f"http://{live.base}"})
    await same.open()
    assert (await same.join())["type"] == "welcome"
    await same.close()


async def test_socket_denied_guest_is_told_and_closed(live: Live) -> None:
    token = guest_token(live.app, item_id=live.item_ids[0], name="Unknown caller")
    chair = await live.joined("okafor", publish=False)
    guest = RoomClient(live.ws_url(), token=token)
    await guest.open()
    await guest.join(display_name="Unknown caller")
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests" and m["guests"])
    await chair.send({"type": "deny", "participant_id": waiting["guests"][0]["participant_id"]})
    await guest.expect(lambda m: m["type"] == "denied")
    assert await guest.wait_closed() == 4403
    emptied = await chair.expect(lambda m: m["type"] == "lobby-guests" and not m["guests"])
    assert emptied["guests"] == []
    for client in (chair, guest):
        await client.close()


async def _sign_over_api(base: str, token: str, item_id: int, present: list[int]) -> None:
    import httpx2

    headers = {"Authorization": f"Bearer {token}"}
    body = {"outcome": "physical_therapy", "rationale": "Plateau in ROM; no red flags.",
            "plan": "Six more weeks of supervised PT.", "follow_up_weeks": 6,
            "present_user_ids": present, "version": 0,
            "attendance_note": "Present when the panel decided."}
    async with httpx2.AsyncClient(base_url=base, headers=headers) as api:
        conference = None
        for listed in (await api.get("/api/v1/conferences")).json():
            detail = (await api.get(f"/api/v1/conferences/{listed['id']}")).json()
            if item_id in [i["id"] for i in detail["agenda"]]:
                conference = listed["id"]
        status = f"/api/v1/conferences/{conference}/status"
        live = await api.put(status, json={"status": "live"})  # the meeting has started
        assert live.status_code in (200, 409), live.text
        url = f"/api/v1/agenda-items/{item_id}/decision"
        assert (await api.put(url, json=body)).status_code == 200
        signed = await api.post(f"{url}/sign")
        assert signed.status_code == 200, signed.text


async def test_socket_room_hears_of_a_decision_signed_over_the_api(live: Live) -> None:
    chair = await live.joined("okafor", publish=False)
    pain = await live.joined("raman", publish=False)
    token = guest_token(live.app, item_id=live.item_ids[0], name="Waiting guest")
    guest = RoomClient(live.ws_url(), token=token)
    await guest.open()
    await guest.join(display_name="Waiting guest")  # in the lobby: hears nothing
    await _sign_over_api(f"http://{live.base}", live.token("okafor"), live.item_ids[0],
                         [live.users["okafor"]])
    for client in (chair, pain):
        notice = await client.expect(lambda m: m["type"] == "decision-signed")
        assert notice == {"type": "decision-signed", "item_id": str(live.item_ids[0]),
                          "outcome": "physical_therapy", "revision": 1}
    await asyncio.sleep(0.2)
    assert not [m for m in guest.messages if m["type"] == "decision-signed"]
    for client in (chair, pain, guest):
        await client.close()


async def test_socket_advances_to_a_case_added_while_the_room_is_open(live: Live) -> None:
    import httpx2

    chair = await live.joined("okafor", publish=False)
    headers = {"Authorization": f"Bearer {live.token('coordinator')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=headers) as api:
        case = await api.post("/api/v1/cases", json={
            "patient_ref": "SPN-2026-0999", "age": 47, "sex": "female",
            "summary": "Acute cauda equina symptoms resolved after decompression.",
            "question": "Rehabilitation plan?"})
        item = await api.post(f"/api/v1/conferences/{live.conference_id}/agenda",
                              json={"case_id": case.json()["id"], "planned_minutes": 10})
        assert item.status_code == 201, item.text
    new_id = str(item.json()["id"])
    await chair.send({"type": "advance", "item_id": new_id})
    message = await chair.expect(lambda m: m["type"] in ("agenda", "error"))
    assert message == {"type": "agenda", "current_item_id": new_id,
                       "started_at": message["started_at"]}
    await chair.close()


async def test_socket_room_told_when_the_agenda_changes(live: Live) -> None:
    import httpx2

    chair = await live.joined("okafor", publish=False)
    headers = {"Authorization": f"Bearer {live.token('coordinator')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=headers) as api:
        response = await api.patch(f"/api/v1/agenda-items/{live.item_ids[1]}",
                                   json={"planned_minutes": 25})
        assert response.status_code == 200
    assert (await chair.expect(lambda m: m["type"] == "agenda-changed")) == {
        "type": "agenda-changed"}
    await chair.close()


async def test_socket_mute_toggles_do_not_rewrite_attendance(live: Live,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    client = await live.joined("okafor", publish=False)
    await client.send({"type": "advance", "item_id": str(live.item_ids[0])})
    await client.expect(lambda m: m["type"] == "agenda")
    store = live.app.state.hub.store
    writes = []
    original = store.attendance

    async def counted(*args: Any, **kwargs: Any) -> None:
        writes.append(args)
        await original(*args, **kwargs)

    monkeypatch.setattr(store, "attendance", counted)
    for audio in (False, True, False, True):
        await client.send({"type": "media", "audio": audio, "video": True})
    other = await live.joined("raman", publish=False)  # presence changed: one write
    await RoomClient.wait_for(lambda: len(writes) == 1)
    await asyncio.sleep(0.2)
    assert len(writes) == 1 and len(writes[0][1]) == 2
    for c in (client, other):
        await c.close()


async def test_socket_people_joining_at_once_write_attendance_one_at_a_time(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two joins racing each other must not write the same attendance rows at once
    (the loser failed on the unique key and the newcomer went unrecorded)."""
    chair = await live.joined("okafor", publish=False)
    item = str(live.item_ids[0])
    await chair.send({"type": "advance", "item_id": item})
    await chair.expect(lambda m: m["type"] == "agenda")
    store = live.app.state.hub.store
    original = store.attendance
    in_flight, most = 0, 0

    async def slow(*args: Any, **kwargs: Any) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.3)  # long enough for the other join to arrive
        try:
            await original(*args, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(store, "attendance", slow)
    others = await asyncio.gather(live.joined("raman", publish=False),
                                  live.joined("brooks", publish=False))
    expected = {live.users[who] for who in ("okafor", "raman", "brooks")}

    def recorded() -> set[int]:
        with Session(live.app.state.engine) as session:
            return set(agenda.present_for(session, int(item)))

    await RoomClient.wait_for(lambda: recorded() == expected)
    assert most == 1
    for client in (chair, *others):
        await client.close()


async def _in_the_room(live: Live, who: str) -> list[RoomClient]:
    """``who`` in the room (made a plain member first if they belong to no role
    here; a guest member admitted by the chair); their client comes first."""
    with Session(live.app.state.engine) as session:
        coordinator = users.get_user(session, live.users["coordinator"])
        person = users.get_user(session, live.users[who])
        if who == "admin" and conferences.role_in(
                session, conference_id=live.conference_id, user_id=live.users[who]) is None:
            conferences.add_member(session, actor=coordinator,
                                   conference_id=live.conference_id, user_id=live.users[who],
                                   conference_role=ConferenceRole.MEMBER)
            session.commit()
        guest = conferences.role_in(session, conference_id=live.conference_id,
                                    user_id=live.users[who]) is ConferenceRole.GUEST
        assert person.active
    if not guest:
        return [await live.joined(who, publish=False)]
    chair = await live.joined("okafor", publish=False)
    client = live.client(who)
    await client.open()
    assert (await client.join())["type"] == "lobby"
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests" and m["guests"])
    # A guest is admitted for their own case, which the chair brings up first.
    await chair.send({"type": "advance", "item_id": waiting["guests"][0]["item_ids"][0]})
    await client.expect(lambda m: m["type"] == "lobby" and m["reason"] is None)
    await chair.send({"type": "admit", "participant_id": waiting["guests"][0]["participant_id"]})
    await client.expect(lambda m: m["type"] == "welcome")
    return [client, chair]


async def _conference_over_api(live: Live) -> dict[str, Any]:
    import httpx2

    headers = {"Authorization": f"Bearer {live.token('coordinator')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=headers) as api:
        response = await api.get(f"/api/v1/conferences/{live.conference_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("who", "role", "allowed"), [
    ("okafor", "chair", True),
    ("coordinator", "coordinator (not a member)", True),
    ("admin", "admin who is a plain member", True),
    ("lee", "plain member", False),
    ("hale", "guest member, admitted", False),
])
async def test_socket_advance_one_answer_in_room_and_database(live: Live, who: str, role: str,
                                                              allowed: bool) -> None:
    """The room's answer to ``advance`` and the conference the API shows afterwards
    agree for every role: an advance is stored only when the room accepts it."""
    clients = await _in_the_room(live, who)
    before = await _conference_over_api(live)
    item = str(live.item_ids[1])
    mark = len(clients[0].messages)
    await clients[0].send({"type": "advance", "item_id": item})
    answer = await clients[0].expect(lambda m: m["type"] in ("agenda", "error"), after=mark)
    await asyncio.sleep(0.2)  # a stray write would have landed by now
    after = await _conference_over_api(live)
    status = {i["id"]: i["status"] for i in after["agenda"]}
    if allowed:
        assert answer["type"] == "agenda" and answer["current_item_id"] == item, role
        assert after["current_item_id"] == live.item_ids[1], role
        assert status[live.item_ids[1]] == "discussing" and after["status"] == "live"
    else:
        assert answer == {"type": "error", "code": "forbidden", "message": answer["message"]}
        # Nothing stored: the same status, current item and agenda (timing is the clock's).
        assert {**after, "timing": None} == {**before, "timing": None}, role
    for client in clients:
        await client.close()


async def test_socket_deactivation_closes_open_sockets_and_refuses_the_old_token(
        live: Live) -> None:
    """Security issue item 2: a deactivated person's token still opened a room and
    their open socket stayed; now deactivation closes it at once (4401)."""
    import httpx2

    lee = await live.joined("lee", publish=False)
    old_token = live.token("lee")
    admin = {"Authorization": f"Bearer {live.token('admin')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=admin) as api:
        response = await api.patch(f"/api/v1/users/{live.users['lee']}", json={"active": False})
        assert response.status_code == 200, response.text
    assert await lee.wait_closed(timeout=5) == 4401
    again = RoomClient(live.ws_url(), token=old_token)
    await again.open()
    assert await again.wait_closed() == 4401
    await again.close()
    await lee.close()


async def test_socket_guest_is_the_name_on_the_link(live: Live) -> None:
    """Security issue item 6: a link issued for "Guest Gina" joined as "Dr. Amara
    Okafor" and the chair's lobby showed only that name."""
    token = guest_token(live.app, item_id=live.item_ids[-1], name="Guest Gina")
    chair = await live.joined("okafor", publish=False)
    guest = RoomClient(live.ws_url(), token=token)
    await guest.open()
    await guest.join(display_name="Dr. Amara Okafor")
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests" and m["guests"])
    assert [g["display_name"] for g in waiting["guests"]] == ["Guest Gina"]
    await guest.close()
    await chair.close()


async def test_socket_revoked_guest_link_closes_the_guests_socket_at_once(live: Live) -> None:
    """Issue 9 item 3: links can be revoked; a connected guest is closed at once."""
    import httpx2

    chair = await live.joined("okafor", publish=False)
    coordinator = {"Authorization": f"Bearer {live.token('coordinator')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=coordinator) as api:
        made = await api.post(f"/api/v1/agenda-items/{live.item_ids[0]}/guest-links",
                              json={"name": "Dr. Ines Ortiz"})
        link = made.json()
        kept = (await api.post(f"/api/v1/agenda-items/{live.item_ids[0]}/guest-links",
                               json={"name": "Dr. Kept"})).json()
        guest, other = (RoomClient(live.ws_url(), token=t) for t in (link["token"],
                                                                      kept["token"]))
        for client in (guest, other):
            await client.open()
            await client.join()
        assert (await api.delete(f"/api/v1/guest-links/{link['id']}")).status_code == 200
    assert await guest.wait_closed(timeout=5) == 4401
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests"
                                 and [g["display_name"] for g in m["guests"]] == ["Dr. Kept"])
    assert waiting["guests"][0]["display_name"] == "Dr. Kept"
    assert other.close_code is None  # another link of the same case is not touched
    again = RoomClient(live.ws_url(), token=link["token"])
    await again.open()
    assert await again.wait_closed() == 4401
    for client in (chair, guest, other, again):
        await client.close()


async def test_socket_guest_member_takes_part_in_their_own_case_only(live: Live) -> None:
    """Issue 9 item 1, for a member whose conference role is guest: Dr. Hale, who
    referred one of the cases, stayed in the room for every other patient."""
    with session_scope(live.app.state.engine) as session:
        own = [str(i.id) for i in agenda.items(session, live.conference_id)
               if session.get(Case, i.case_id).requested_by_id == live.users["hale"]]  # type: ignore[union-attr]
    others = [str(i) for i in live.item_ids if str(i) not in own]
    assert own and others
    chair = await live.joined("okafor", publish=False)
    hale = live.client("hale")
    await hale.open()
    assert await hale.join() == {"type": "lobby", "position": 1, "reason": "another_case"}
    await chair.send({"type": "advance", "item_id": own[0]})
    await hale.expect(lambda m: m["type"] == "lobby" and m["reason"] is None)
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests" and m["guests"])
    assert waiting["guests"][0]["item_ids"] == own
    await chair.send({"type": "admit", "participant_id": waiting["guests"][0]["participant_id"]})
    await hale.expect(lambda m: m["type"] == "welcome")
    mark = len(hale.messages)
    await chair.send({"type": "advance", "item_id": others[0]})
    assert (await hale.expect(lambda m: m["type"] == "lobby", after=mark))["reason"] == \
        "another_case"
    left = await chair.expect(lambda m: m["type"] == "participant-left")
    assert left["participant_id"] == waiting["guests"][0]["participant_id"]
    with session_scope(live.app.state.engine) as session:
        present = agenda.present_for(session, int(others[0]))
    assert live.users["hale"] not in present  # not counted for another patient's case
    for client in (chair, hale):
        await client.close()


async def test_socket_a_full_room_refuses_clearly_but_keeps_a_seat(live: Live) -> None:
    live.app.state.hub.capacity = 2
    chair = await live.joined("okafor", publish=False)
    pt = await live.joined("lee", publish=False)
    third = live.client("raman")
    await third.open()
    refused = await third.expect(lambda m: m["type"] == "error")
    assert refused["code"] == "room_full" and "full (2 people)" in refused["message"]
    assert await third.wait_closed() == 4429
    await third.close()
    # Someone already seated who comes back (a dropped network) still gets in.
    again = await live.joined("lee", publish=False)
    assert await pt.wait_closed() == 4001
    for client in (chair, pt, again):
        await client.close()
