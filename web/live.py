"""The live room, wired: the signaling socket, its database store and the room page.

``GET /ws/conferences/{id}`` authenticates (session cookie, or ``?token=`` with
an API token or a guest link), checks membership, then hands the socket to the
``signaling.hub.Hub``. Close codes (CONTRACT): 4401 not signed in, 4403 not a
member, 4404 no such conference.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from conference.conferences import ConferenceStatus
from conference.decision_outcomes import Outcome
from conference.errors import (
    CasebridgeError,
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from conference.people import ConferenceRole, Role, Specialty
from conference.permissions import (
    may_advance,
    may_change_status,
    may_draft,
    may_enter_conference,
)
from conference.signoff import LIVE_WINDOW
from signaling.hub import Hub
from signaling.protocol import ChatMessage, IceServer, parse_ice_servers
from signaling.room import Identity
from storage import agenda, cases, conferences, referrals, threads, users
from storage.engine import session_scope
from storage.tables import AgendaItem, CareEntry, Conference, ImagingLink, User
from web.auth import credential_holder, guest_link, optional_user, signer
from web.db import db
from web.pages.case_view import OUTCOME_OPTIONS, timeline
from web.pages.common import Viewer
from web.precedents import latest_scores
from web.templating import label, render
from web.tokens import GuestGrant

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_ENDED = 4410


def ice_servers(configured: list[dict[str, object]]) -> tuple[IceServer, ...]:
    return parse_ice_servers(json.dumps(configured))


class DatabaseRoomStore:
    """``signaling.live_room.RoomStore`` on the repositories, off the event loop."""

    def __init__(self, engine: Engine, *, live_window: timedelta = LIVE_WINDOW) -> None:
        self.engine = engine
        self.live_window = live_window

    async def agenda(self, conference_id: int) -> tuple[list[str], str | None, datetime | None]:
        def read() -> tuple[list[str], str | None, datetime | None]:
            with session_scope(self.engine) as session:
                conf = conferences.get_conference(session, conference_id)
                ids = [str(i.id) for i in agenda.items(session, conference_id)]
                current = str(conf.current_item_id) if conf.current_item_id else None
                return ids, current if current in ids else None, conf.current_started_at
        return await asyncio.to_thread(read)

    async def advance(self, conference_id: int, user_id: str, item_id: str | None,
                      now: datetime) -> None:
        if not user_id.isdigit():
            raise PermissionDenied("Guests do not move the agenda.")
        if item_id is not None and not item_id.isdigit():
            raise NotFound(f"No agenda item {item_id}.")

        def write() -> None:
            with session_scope(self.engine) as session:
                actor = users.get_user(session, int(user_id))
                if item_id is None:
                    agenda.end_current(session, actor=actor, conference_id=conference_id,
                                       now=now)
                else:
                    agenda.advance(session, actor=actor, conference_id=conference_id,
                                   item_id=int(item_id), now=now,
                                   live_window=self.live_window)
        await asyncio.to_thread(write)

    async def attendance(self, item_id: str, user_ids: frozenset[str], now: datetime) -> None:
        def write() -> None:
            with session_scope(self.engine) as session:
                item = agenda.get_item(session, int(item_id))
                members = conferences.member_ids(session, item.conference_id)
                present = [int(u) for u in user_ids if u.isdigit() and int(u) in members]
                agenda.record_attendance(session, item_id=item.id or 0, user_ids=present,
                                         now=now)
        await asyncio.to_thread(write)


    async def chat(self, conference_id: int, user_id: str, item_id: str | None, body: str,
                   now: datetime) -> ChatMessage:
        def write() -> ChatMessage:
            with session_scope(self.engine) as session:
                actor = users.get_user(session, int(user_id))
                line = threads.post_in_room(
                    session, actor=actor, conference_id=conference_id,
                    item_id=int(item_id) if item_id and item_id.isdigit() else None,
                    body=body, now=now)
                return ChatMessage(id=line.id, author_id=str(line.author_id),
                                   author_name=line.author_name, body=line.body,
                                   created_at=line.created_at,
                                   item_id=str(line.item_id) if line.item_id else None,
                                   case_id=line.case_id)
        return await asyncio.to_thread(write)


class SocketTransport:
    """``signaling.live_room.Transport`` over a Starlette WebSocket."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def send(self, text: str) -> None:
        try:
            await self.websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client is gone; the reader will see it

    async def receive(self) -> str | None:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        if message.get("text") is not None:
            return str(message["text"])
        raw = message.get("bytes") or b""
        return raw.decode("utf-8", errors="replace")

    async def close(self, code: int) -> None:
        try:
            await self.websocket.close(code)
        except RuntimeError:
            pass  # already closed


def _guest_identity(grant: GuestGrant) -> Identity:
    # A guest-link holder has no account: a stable pseudonymous id per stored link.
    return Identity(user_id=f"guest-link-{grant.link_id}", display_name=grant.name,
                    role=Role.REFERRING_CLINICIAN, conference_role=ConferenceRole.GUEST,
                    item_ids=frozenset({str(grant.item_id)}), guest_link_id=grant.link_id)


def _member_identity(session: Session, conf: Conference, user: User,
                     role: ConferenceRole | None) -> Identity:
    # A guest member takes part for the cases they referred (their own requests).
    own = frozenset(str(i.id) for i in agenda.items(session, conf.id or 0)
                    if cases.get_case(session, i.case_id).requested_by_id == user.id) \
        if role is ConferenceRole.GUEST else frozenset()
    return Identity(
        user_id=str(user.id), display_name=user.name, role=user.role,
        specialty=user.specialty, conference_role=role, item_ids=own,
    )


def _api_claim(websocket: WebSocket, token: str) -> tuple[int, int] | None:
    try:
        return signer(websocket).read_api(token)
    except NotAuthenticated:
        return None  # perhaps a guest link


def _identify(websocket: WebSocket, conference_id: int) -> Identity:
    """Who is connecting, or a domain error naming why not (mapped to close codes)."""
    token = websocket.query_params.get("token")
    with db(websocket) as session:
        conf = conferences.get_conference(session, conference_id)
        if conf.status is ConferenceStatus.CLOSED:
            raise Conflict("This meeting has ended.", code="meeting_ended")
        user: User | None = None
        if token:
            claim = _api_claim(websocket, token)
            if claim is None:
                grant = guest_link(websocket, session, token)
                if grant.conference_id != conf.id:
                    raise PermissionDenied("This guest link is for another conference.")
                return _guest_identity(grant)
            user = credential_holder(session, *claim)
            if user is None:
                raise NotAuthenticated("This API token is no longer valid: sign in again.")
        else:
            user = optional_user(websocket, session)
        if user is None or user.id is None:
            raise NotAuthenticated("Sign in first.")
        role = conferences.role_in(session, conference_id=conference_id, user_id=user.id)
        if not may_enter_conference(role=user.role, conference_role=role):
            raise PermissionDenied("You are not a member of this conference.")
        return _member_identity(session, conf, user, role)


def _same_origin(websocket: WebSocket) -> bool:
    """Browsers always send Origin on a WebSocket; another site's page may not use
    our cookie to open one (cross-site WebSocket hijacking). Non-browser clients,
    which send none, authenticate with a token instead."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()


async def room_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    raw_id = websocket.path_params.get("conference_id", "")
    try:
        if not _same_origin(websocket):
            raise PermissionDenied("This room cannot be opened from another site.")
        if not str(raw_id).isdigit():
            raise NotFound("No such conference.")
        identity = await asyncio.to_thread(_identify, websocket, int(raw_id))
    except CasebridgeError as exc:
        code = {NotAuthenticated: CLOSE_UNAUTHENTICATED, NotFound: CLOSE_NOT_FOUND,
                Conflict: CLOSE_ENDED}.get(type(exc), CLOSE_FORBIDDEN)
        await websocket.close(code, reason=exc.message[:120])
        return
    hub: Hub = websocket.app.state.hub
    await hub.serve(int(raw_id), identity, SocketTransport(websocket))


def _room_context(request: Request) -> dict[str, Any]:
    """What the room page (and its refreshed side panel) shows this person."""
    raw_id = request.path_params["conference_id"]
    token = request.query_params.get("token")
    with db(request) as session:
        conf = conferences.get_conference(session, int(raw_id))
        assert conf.id is not None
        user = optional_user(request, session)
        grant = guest_link(request, session, token) if token and user is None else None
        if user is None and grant is None:
            raise NotAuthenticated("Sign in first.")
        if user is not None and user.id is not None:
            request.state.user = Viewer.of(session, user)
            conferences.visible_conference(session, viewer=user, conference_id=conf.id)
            is_chair = user.id == conf.chair_id
        else:
            assert grant is not None
            if grant.conference_id != conf.id:
                raise NotFound(f"No conference with id {conf.id}.")
            is_chair = False
        if grant is not None:
            items = [i for i in agenda.items(session, conf.id) if i.id == grant.item_id]
        else:
            assert user is not None
            items = agenda.items_for(session, viewer=user, conference_id=conf.id)
        # Every case shown here is a view of case content: audited as one.
        if user is not None:
            case_rows = {i.case_id: cases.view_case(session, viewer=user, case_id=i.case_id,
                                                    via="room") for i in items}
        else:
            assert grant is not None
            case_rows = {i.case_id: cases.view_case_as_guest(
                session, case_id=i.case_id, guest=grant.name, item_id=grant.item_id,
                via="room") for i in items}
        conference_role = (conferences.role_in(session, conference_id=conf.id, user_id=user.id)
                           if user is not None and user.id is not None else None)
        return {
            "conference": conf, "items": items, "cases": case_rows, "is_chair": is_chair,
            "can_advance": user is not None and may_advance(role=user.role, is_chair=is_chair),
            "may_draft": may_draft(conference_role), "guest": grant,
            "may_end": user is not None and may_change_status(role=user.role,
                                                              is_chair=is_chair),
            "is_guest": grant is not None or conference_role is ConferenceRole.GUEST,
            "token": token or "",
            "briefs": _briefs(session, items),
            "members": conferences.members(session, conf.id),
            "outcome_options": OUTCOME_OPTIONS,
        }


@dataclass(frozen=True)
class Brief:
    """What the room shows of one case beside the video: the history of care, the
    imaging (each link opens the viewer in a new tab), who referred it and which
    specialties they asked for."""

    history: list[CareEntry]
    imaging: list[ImagingLink]
    referrer: User | None
    specialties: list[Specialty]
    scores: list[str]  # the latest of each outcome measure, against its baseline


def _briefs(session: Session, items: list[AgendaItem]) -> dict[int, Brief]:
    out: dict[int, Brief] = {}
    for item in items:
        if item.case_id in out:
            continue
        request = referrals.request_for_case(session, item.case_id)
        case = cases.get_case(session, item.case_id)
        referrer_id = request.requested_by_id if request else case.requested_by_id
        asked = [Specialty(s) for s in (request.requested_specialties if request else [])
                 if s in Specialty._value2member_map_]
        out[item.case_id] = Brief(
            history=timeline(cases.care_history(session, item.case_id)),
            imaging=cases.imaging(session, item.case_id),
            referrer=users.get_user(session, referrer_id) if referrer_id else None,
            specialties=asked, scores=latest_scores(session, item.case_id))
    return out


ROOM_LABELS: dict[str, type[Enum]] = {
    "specialties": Specialty, "outcomes": Outcome, "conference_roles": ConferenceRole,
}


def room_labels() -> dict[str, dict[str, str]]:
    """The labels the room's script shows, by the pages' own ``label`` rule: served in
    the page as JSON, never copied (a copy drifted: "Orthopedic spine" for "Orthopedic
    spine surgery")."""
    return {name: {v.value: label(v) for v in kind} for name, kind in ROOM_LABELS.items()}


async def room_page(request: Request) -> Response:
    """The live room: video grid, current case, agenda."""
    context = await run_in_threadpool(_room_context, request)
    # Names for the ids the room hears about (who is present, who signed): never
    # "#4" on a screen.
    people = {str(u.id): u.name for _, u in context["members"]}
    return render(request, "pages/room.html",
                  {**context, "labels": room_labels(), "people": people})


async def room_agenda(request: Request) -> Response:
    """The room's side panel alone: the page swaps it in when the agenda changes."""
    context = await run_in_threadpool(_room_context, request)
    return render(request, "pages/_room_agenda.html", context)


routes: list[BaseRoute] = [
    WebSocketRoute("/ws/conferences/{conference_id}", room_socket),
    Route("/conferences/{conference_id:int}/room", room_page),
    Route("/conferences/{conference_id:int}/room/agenda", room_agenda),
]
