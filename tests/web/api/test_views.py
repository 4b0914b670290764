from pydantic import BaseModel

from storage.tables import Decision, DecisionFields, DecisionRevision
from web.api.views import DecisionView, RevisionView

CLINICAL = ["outcome", "rationale", "plan", "follow_up_weeks", "responsible_clinician_id",
            "present_user_ids"]


def test_views_decision_fields_written_once() -> None:
    assert list(DecisionFields.model_fields) == CLINICAL
    models: list[type[BaseModel]] = [Decision, DecisionRevision, DecisionView, RevisionView]
    for model in models:
        assert issubclass(model, DecisionFields)
        assert not set(CLINICAL) & set(model.__annotations__), model  # none re-declared


def test_views_decision_keys_keep_their_served_order() -> None:
    # Clients and the OpenAPI document saw this order before DecisionFields existed.
    assert list(DecisionView.model_fields) == [
        "id", "agenda_item_id", "status", "version", *CLINICAL,
        "dissent", "updated_by_id", "updated_at",
        "presence_edited", "attendance_note", "present_by_hand"]  # added after, at the end
    assert list(RevisionView.model_fields) == [
        "id", "agenda_item_id", "case_id", "status", "revision", "version", *CLINICAL,
        "dissent", "amendment_reason", "signed_by_id", "signed_at",
        "present_by_hand", "attendance_note"]
