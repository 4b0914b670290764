"""Case threads and the room's chat lines kept with a conference."""

from __future__ import annotations

from conference.errors import NotFound
from conference.permissions import may_enter_conference
from storage import conferences, threads
from web.api.endpoint import Call, operation
from web.api.schemas import Empty, MessageIn
from web.api.views import MessageView


def _view(line: threads.Line) -> MessageView:
    return MessageView.model_validate(line)


def case_thread(call: Call[Empty]) -> list[MessageView]:
    return [_view(line) for line in threads.thread(call.session, viewer=call.user,
                                                   case_id=call.id())]


def post_message(call: Call[MessageIn]) -> MessageView:
    return _view(threads.post(call.session, actor=call.user, case_id=call.id(),
                              body=call.body.body, mentions=call.body.mentions))


def conference_chat(call: Call[Empty]) -> list[MessageView]:
    conf = conferences.get_conference(call.session, call.id())
    assert conf.id is not None and call.user.id is not None
    role = conferences.role_in(call.session, conference_id=conf.id, user_id=call.user.id)
    if not may_enter_conference(role=call.user.role, conference_role=role):
        raise NotFound(f"No conference with id {conf.id}.")
    return [_view(line) for line in threads.conference_lines(call.session,
                                                             conference_id=conf.id)]


TAG = "threads"
routes = [
    operation("GET", "/cases/{id:int}/messages", case_thread, body=Empty, tag=TAG,
              response=MessageView, many=True,
              summary="The case's thread, oldest first (whoever may open the case)"),
    operation("POST", "/cases/{id:int}/messages", post_message, body=MessageIn, tag=TAG,
              response=MessageView, status=201,
              summary="Write in the case's thread, mentioning colleagues who may open the "
                      "case (not guests); a mention of anyone else is 422"),
    operation("GET", "/conferences/{id:int}/messages", conference_chat, body=Empty, tag=TAG,
              response=MessageView, many=True,
              summary="Room chat typed while no case was current (members)"),
]
