"""The room's chat through the real socket: stored in the current case's thread, sent
to everyone present, never from (or to) a guest waiting in the lobby."""

from __future__ import annotations

import asyncio

import httpx2

from signaling.client import RoomClient
from tests.factories import case_of, guest_token
from tests.web.live.conftest import Live


async def _thread(live: Live, path: str) -> list[dict[str, object]]:
    headers = {"Authorization": f"Bearer {live.token('lee')}"}
    async with httpx2.AsyncClient(base_url=f"http://{live.base}", headers=headers) as api:
        response = await api.get(path)
        assert response.status_code == 200, response.text
        lines: list[dict[str, object]] = response.json()
        return lines


async def test_chat_is_stored_in_the_current_case_and_reaches_everyone_present(
        live: Live) -> None:
    theirs = live.item_ids[-1]
    chair = await live.joined("okafor", publish=False)
    pain = await live.joined("raman", publish=False)
    guest = RoomClient(live.ws_url(), token=guest_token(live.app, item_id=theirs,
                                                       name="Dr. Hale"))
    await guest.open()
    await guest.join()
    # No case current: the line is kept with the conference.
    await pain.send({"type": "chat", "body": "Good morning, all."})
    first = await chair.expect(lambda m: m["type"] == "chat")
    assert first["message"]["case_id"] is None and first["message"]["item_id"] is None
    assert first["message"]["author_name"] == "Dr. Priya Raman"
    lines = await _thread(live, f"/api/v1/conferences/{live.conference_id}/messages")
    assert [line["body"] for line in lines] == ["Good morning, all."]
    # The guest's case current, the guest admitted: they hear the chat, but do not write.
    await chair.send({"type": "advance", "item_id": str(theirs)})
    waiting = await chair.expect(lambda m: m["type"] == "lobby-guests" and m["guests"])
    await chair.send({"type": "admit", "participant_id": waiting["guests"][0]["participant_id"]})
    await guest.expect(lambda m: m["type"] == "welcome")
    seen = len(pain.messages)
    await chair.send({"type": "chat", "body": "  New L5 weakness: see https://pacs.example/1  "})
    for client in (chair, pain, guest):
        line = await client.expect(lambda m: m["type"] == "chat" and m["message"]["item_id"],
                                   after=seen if client is pain else 0)
        assert line["message"]["body"] == "New L5 weakness: see https://pacs.example/1"
        assert line["message"]["item_id"] == str(theirs)
        assert line["message"]["case_id"] == case_of(live.app, theirs)
    await guest.send({"type": "chat", "body": "Thank you"})
    refused = await guest.expect(lambda m: m["type"] == "error")
    assert refused["code"] == "forbidden"
    thread = await _thread(live, f"/api/v1/cases/{case_of(live.app, theirs)}/messages")
    assert [(line["body"], line["item_id"]) for line in thread] == [
        ("New L5 weakness: see https://pacs.example/1", theirs)]
    # Another case: the guest goes back to the lobby and hears no more of the chat.
    before = len(guest.messages)  # (the guest was told "another_case" on arrival too)
    await chair.send({"type": "advance", "item_id": str(live.item_ids[0])})
    await guest.expect(lambda m: m["type"] == "lobby" and m["reason"] == "another_case",
                       after=before)
    heard = len(guest.messages)
    await pain.send({"type": "chat", "body": "On to the next patient."})
    await chair.expect(lambda m: m["type"] == "chat" and m["message"]["body"].startswith("On"))
    await asyncio.sleep(0.2)
    assert not [m for m in guest.messages[heard:] if m["type"] == "chat"]
    # An empty line is refused and stores nothing.
    await pain.send({"type": "chat", "body": "   "})
    empty = await pain.expect(lambda m: m["type"] == "error")
    assert empty["code"] == "invalid_message" and "empty" in empty["message"]
    for client in (chair, pain, guest):
        await client.close()
