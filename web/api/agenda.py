"""The agenda of a conference: add cases, reorder them, change their minutes, defer."""

from __future__ import annotations

from storage import agenda
from web.api.endpoint import Call, operation
from web.api.schemas import AgendaItemIn, AgendaItemPatch, AgendaOrderIn, Empty
from web.api.views import AddedItemView, AgendaItemView, AlsoOnView


def add_item(call: Call[AgendaItemIn]) -> AddedItemView:
    others = agenda.also_on(call.session, case_id=call.body.case_id, conference_id=call.id())
    item = agenda.add_item(call.session, actor=call.user, conference_id=call.id(),
                           case_id=call.body.case_id, planned_minutes=call.body.planned_minutes)
    return AddedItemView(**AgendaItemView.model_validate(item).model_dump(), also_on=[
        AlsoOnView(conference_id=c.id or 0, title=c.title, starts_at=c.starts_at)
        for c in others])


def reorder(call: Call[AgendaOrderIn]) -> list[AgendaItemView]:
    items = agenda.reorder(call.session, actor=call.user, conference_id=call.id(),
                           item_ids=call.body.item_ids)
    return [AgendaItemView.model_validate(i) for i in items]


def set_minutes(call: Call[AgendaItemPatch]) -> AgendaItemView:
    item = agenda.set_minutes(call.session, actor=call.user, item_id=call.id(),
                              planned_minutes=call.body.planned_minutes)
    return AgendaItemView.model_validate(item)


def defer(call: Call[Empty]) -> AgendaItemView:
    item = agenda.defer(call.session, actor=call.user, item_id=call.id())
    return AgendaItemView.model_validate(item)


TAG = "agenda"
routes = [
    operation("POST", "/conferences/{id:int}/agenda", add_item, body=AgendaItemIn, tag=TAG,
              summary="Put a case at the end of the agenda (coordinators)",
              response=AddedItemView, status=201),
    operation("PUT", "/conferences/{id:int}/agenda/order", reorder, body=AgendaOrderIn,
              tag=TAG, summary="Reorder: exactly the current items, else 409",
              response=AgendaItemView, many=True),
    operation("PATCH", "/agenda-items/{id:int}", set_minutes, body=AgendaItemPatch, tag=TAG,
              summary="Change an item's planned minutes (coordinators)",
              response=AgendaItemView),
    operation("POST", "/agenda-items/{id:int}/defer", defer, body=Empty, optional_body=True,
              tag=TAG, summary="Defer a case to a later meeting (chair or coordinators)",
              response=AgendaItemView),
]
