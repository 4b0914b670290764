"""FHIR R4 out of Casebridge: the read endpoints, the per-case and per-conference
bundles, validated and round-tripped through ``fhir.resources`` R4B, the codes we
promise checked (``web.fhir.terminology``), access as the API's, every read audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlmodel import Session, col, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conference.decision import DecisionContent, Dissent
from conference.decision_outcomes import Outcome
from conference.imaging import Modality
from conference.referrals import RequestStatus
from storage import cases, conferences, decisions, outcomes
from storage.clock import utcnow
from storage.engine import session_scope
from storage.tables import AgendaItem, Attendance, Case, SecondOpinionRequest, User
from tests import factories
from tests.factories import found, id_of
from web.dicomweb import Archive, Viewer
from web.fhir.terminology import problems
from web.settings import Settings

Headers = dict[str, str]
BOTH_BACKENDS = True  # timestamps, JSON columns and ids as PostgreSQL returns them too
PATIENT_SYSTEM = "urn:oid:1.2.826.0.1.3680043.10.1234"
UID = "1.2.826.0.1.3680043.8.498.12345678901234567890"
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """An archive whose address carries credentials (never contacted here: the study's
    details are given), a viewer, and the hospital's patient identifier system."""
    return replace(settings, fhir_patient_system=PATIENT_SYSTEM,
                   dicomweb=Archive.from_url("https://reader:s3cret@pacs.hospital.example/dicom-web"),
                   viewer=Viewer.parse("ohif:https://viewer.hospital.example"))


@pytest.fixture
def decided(app: Starlette, demo: None) -> dict[str, int]:
    """The demo's referred case discussed and signed, then amended; a study with its UID,
    two outcome measures, a dissent. Returns the ids the tests need."""
    with session_scope(app.state.engine) as session:
        request = session.exec(select(SecondOpinionRequest).where(
            SecondOpinionRequest.status == RequestStatus.SCHEDULED)).one()
        item = found(session.get(AgendaItem, request.agenda_item_id))
        conf = conferences.get_conference(session, item.conference_id)
        chair = found(session.get(User, conf.chair_id))
        present = sorted(conferences.member_ids(session, id_of(conf)))
        factories.hold(session, id_of(conf), item_ids=[id_of(item)], user_ids=present)
        other = next(p for p in present if p != chair.id)
        decisions.save_draft(session, actor=chair, item_id=id_of(item), read_version=0,
                             content=DecisionContent(
                                 outcome=Outcome.SURGICAL_CONSULT,
                                 rationale="New motor deficit with concordant imaging.",
                                 plan="See a spine surgeon within two weeks.",
                                 follow_up_weeks=6, present_user_ids=tuple(present),
                                 responsible_clinician_id=chair.id,
                                 dissent=(Dissent(other, "I would try an injection first."),)))
        decisions.sign(session, actor=chair, item_id=id_of(item))
        decisions.amend(session, actor=chair, item_id=id_of(item), reason="Plan corrected",
                        changes={"plan": "See a spine surgeon within one week."})
        coordinator = session.exec(select(User).where(User.role == "coordinator")).first()
        link = cases.add_imaging(session, actor=found(coordinator), case_id=item.case_id,
                                 url=f"https://viewer.hospital.example/viewer?StudyInstanceUIDs={UID}",
                                 modality=Modality.MR, study_date=utcnow().date(),
                                 description="MRI lumbar spine", study_instance_uid=UID)
        for instrument, total in (("nrs_leg", 7), ("odi", 42.2)):
            outcomes.record(session, actor=found(coordinator), case_id=item.case_id,
                            instrument=instrument, collected_on=utcnow().date(), total=total,
                            timepoint="baseline")
        return {"case": item.case_id, "item": id_of(item), "conference": id_of(conf),
                "request": id_of(request), "imaging": id_of(link), "chair": id_of(chair),
                "other_case": _other_case(session, item.case_id)}


def _other_case(session: Session, case_id: int) -> int:
    return id_of(found(session.exec(select(Case).where(Case.id != case_id)
                                    .order_by(col(Case.id))).first()))


def fhir_json(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body = response.json()
    assert isinstance(body, dict)
    return body


def valid(body: dict[str, Any]) -> dict[str, Any]:
    """Validated by its R4B model, unchanged by the round trip, every promise kept."""
    model = get_fhir_model_class(body["resourceType"]).model_validate(body)
    assert model.model_dump(mode="json") == body
    assert problems(body) == []
    return body


def outcome_of(response: Any, status: int, issue: str) -> str:
    body = fhir_json(response, status)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == issue
    return str(body["issue"][0]["diagnostics"])


def by_type(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        found.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    return found


@pytest.fixture
def case_bundle(client: TestClient, auth: Callable[[str], Headers],
                decided: dict[str, int]) -> dict[str, Any]:
    response = client.get(f"/api/v1/cases/{decided['case']}/fhir", headers=auth("coordinator"))
    return valid(fhir_json(response))


def test_case_bundle_holds_every_resource_about_the_case(
        case_bundle: dict[str, Any], decided: dict[str, int]) -> None:
    assert case_bundle["type"] == "collection"
    kinds = by_type(case_bundle)
    assert set(kinds) == {"ServiceRequest", "Appointment", "Encounter", "CarePlan",
                          "Provenance", "ImagingStudy", "Endpoint", "Observation"}
    assert [p["id"] for p in kinds["CarePlan"]] == [str(decided["item"])]
    assert len(kinds["Provenance"]) == 2 and len(kinds["Observation"]) == 2
    urls = [e["fullUrl"] for e in case_bundle["entry"]]
    assert len(urls) == len(set(urls))
    resources = [e["resource"] for e in case_bundle["entry"]]
    assert urls == [f"http://testserver/fhir/R4/{r['resourceType']}/{r['id']}"
                    for r in resources]


def test_the_patient_is_a_pseudonymous_identifier_only(
        app: Starlette, case_bundle: dict[str, Any], decided: dict[str, int]) -> None:
    with Session(app.state.engine) as session:
        ref = found(session.get(Case, decided["case"])).patient_ref
    subjects = [r["subject"] for r in map(lambda e: e["resource"], case_bundle["entry"])
                if "subject" in r]
    assert len(subjects) >= 6
    assert all(s == {"type": "Patient", "identifier": {"system": PATIENT_SYSTEM, "value": ref}}
               for s in subjects)
    text = str(case_bundle)
    assert "birthDate" not in text and "'Patient/" not in text
    with Session(app.state.engine) as session:
        chart = found(session.get(SecondOpinionRequest, decided["request"])).referrer_patient_id
    assert chart and chart not in text  # the referrer's chart number identifies the patient


def test_service_request_is_the_second_opinion_order(
        case_bundle: dict[str, Any], decided: dict[str, int]) -> None:
    (order,) = by_type(case_bundle)["ServiceRequest"]
    assert order["id"] == str(decided["request"])
    assert order["intent"] == "order" and order["status"] == "completed"  # answered
    assert order["category"][0]["coding"][0]["code"] == "11429006"
    assert order["reasonCode"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/v2-0336", "code": "S",
        "display": "Second Opinion"}
    assert order["requester"]["display"]
    assert {c["code"] for c in order["performerType"]["coding"]} >= {"neurosurgery"}
    assert order["supportingInfo"] == [{"reference": f"ImagingStudy/{decided['imaging']}"}]


def test_appointment_and_encounter_carry_the_meeting_and_its_attendance(
        app: Starlette, case_bundle: dict[str, Any], decided: dict[str, int]) -> None:
    (meeting,) = by_type(case_bundle)["Appointment"]
    assert meeting["status"] == "arrived"
    (service,) = meeting["extension"]
    assert service["url"].endswith("extension-Appointment.virtualService")
    assert service["extension"] == [{
        "url": "addressUrl",
        "valueUrl": f"http://testserver/conferences/{decided['conference']}/room"}]
    assert {p["status"] for p in meeting["participant"]} == {"accepted"}
    (visit,) = by_type(case_bundle)["Encounter"]
    assert visit["class"]["code"] == "VR" and visit["status"] == "finished"
    assert visit["appointment"] == [{"reference": f"Appointment/{decided['conference']}"}]
    with Session(app.state.engine) as session:
        rows = session.exec(select(Attendance).where(
            Attendance.agenda_item_id == decided["item"])).all()
    seen = {p["individual"]["identifier"]["value"] for p in visit["participant"]}
    assert seen == {str(r.user_id) for r in rows}
    assert all(p["period"]["start"] <= p["period"]["end"] for p in visit["participant"])


def test_care_plan_is_the_signed_decision_and_amendments_are_versions(
        client: TestClient, auth: Callable[[str], Headers], case_bundle: dict[str, Any],
        decided: dict[str, int]) -> None:
    (plan,) = by_type(case_bundle)["CarePlan"]
    assert plan["meta"]["versionId"] == "2"
    assert plan["status"] == "active" and plan["intent"] == "plan"
    assert plan["category"][0]["coding"][0]["code"] == "312384001"
    assert plan["activity"][0]["detail"]["description"] == "See a spine surgeon within one week."
    assert plan["activity"][1]["detail"]["kind"] == "Appointment"
    assert plan["note"][0]["text"] == "I would try an injection first."
    assert plan["addresses"][0]["identifier"]["value"] == str(decided["case"])
    headers = auth("coordinator")
    path = f"/fhir/R4/CarePlan/{decided['item']}"
    history = valid(fhir_json(client.get(f"{path}/_history", headers=headers)))
    assert history["type"] == "history" and history["total"] == 2
    versions = [e["resource"] for e in history["entry"]]
    assert [v["meta"]["versionId"] for v in versions] == ["2", "1"]
    first = valid(fhir_json(client.get(f"{path}/_history/1", headers=headers)))
    assert first["activity"][0]["detail"]["description"] == "See a spine surgeon within two weeks."
    current = client.get(path, headers=headers)
    assert current.headers["etag"] == 'W/"2"'
    assert outcome_of(client.get(f"{path}/_history/3", headers=headers), 404, "not-found")
    signed, amended = sorted(by_type(case_bundle)["Provenance"], key=lambda p: p["recorded"])
    assert signed["target"] == [{"reference": f"CarePlan/{decided['item']}/_history/1"}]
    assert signed["activity"]["coding"][0]["code"] == "CREATE"
    assert amended["activity"]["coding"][0]["code"] == "UPDATE"
    assert amended["reason"] == [{"text": "Plan corrected"}]
    assert amended["entity"][0]["what"]["reference"].endswith("/_history/1")
    assert amended["signature"][0]["who"]["identifier"]["value"] == str(decided["chair"])


def test_imaging_study_names_its_uid_and_the_archive_without_credentials(
        client: TestClient, auth: Callable[[str], Headers], case_bundle: dict[str, Any],
        decided: dict[str, int]) -> None:
    (study,) = by_type(case_bundle)["ImagingStudy"]
    assert study["identifier"] == [{"system": "urn:dicom:uid", "value": f"urn:oid:{UID}"}]
    assert study["modality"] == [{"system": "http://dicom.nema.org/resources/ontology/DCM",
                                  "code": "MR"}]
    assert [e["reference"] for e in study["endpoint"]] == [
        "Endpoint/archive", f"Endpoint/viewer-{decided['imaging']}"]
    endpoints = {e["id"]: e for e in by_type(case_bundle)["Endpoint"]}
    archive = endpoints["archive"]
    assert archive["connectionType"]["code"] == "dicom-wado-rs"
    assert archive["address"] == "https://pacs.hospital.example/dicom-web"
    assert "s3cret" not in str(case_bundle)
    viewer = valid(fhir_json(client.get(f"/fhir/R4/Endpoint/viewer-{decided['imaging']}",
                                        headers=auth("coordinator"))))
    assert viewer["address"].endswith(UID)


def test_outcomes_are_observations_with_loinc_where_it_exists(
        case_bundle: dict[str, Any]) -> None:
    found = {o["code"]["coding"][-1]["code"]: o for o in by_type(case_bundle)["Observation"]}
    leg, odi = found["nrs_leg"], found["odi"]
    assert leg["code"]["coding"][0] == {
        "system": "http://loinc.org", "code": "72514-3",
        "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}
    assert leg["valueQuantity"]["value"] == 7
    assert odi["valueQuantity"] == {"value": 42.2, "unit": "%",
                                    "system": "http://unitsofmeasure.org", "code": "%"}
    assert all(o["category"][0]["coding"][0]["code"] == "survey" for o in found.values())


def test_every_bundle_entry_reads_the_same_at_its_address(
        client: TestClient, auth: Callable[[str], Headers], case_bundle: dict[str, Any]) -> None:
    headers = auth("coordinator")
    for entry in case_bundle["entry"]:
        path = entry["fullUrl"].removeprefix("http://testserver")
        body = valid(fhir_json(client.get(path, headers=headers)))
        assert body == entry["resource"], path


def test_conference_bundle_gathers_its_cases(
        client: TestClient, auth: Callable[[str], Headers], decided: dict[str, int]) -> None:
    bundle = valid(fhir_json(client.get(f"/api/v1/conferences/{decided['conference']}/fhir",
                                        headers=auth("coordinator"))))
    kinds = by_type(bundle)
    assert [a["id"] for a in kinds["Appointment"]] == [str(decided["conference"])]
    assert len(kinds["Encounter"]) >= 2  # every item of the demo agenda


def test_reads_are_audited_with_the_network_address(
        client: TestClient, auth: Callable[[str], Headers], decided: dict[str, int]) -> None:
    headers = auth("coordinator")
    fhir_json(client.get(f"/fhir/R4/ServiceRequest/{decided['request']}", headers=headers))
    trail = client.get(f"/api/v1/audit?entity=request&id={decided['request']}",
                       headers=headers).json()
    read = [e for e in trail if e["action"] == "viewed"]
    assert read and read[-1]["detail"] == {
        "via": "fhir", "resource": f"ServiceRequest/{decided['request']}",
        "interaction": "read", "address": "testclient"}
    event = valid(fhir_json(client.get(f"/fhir/R4/AuditEvent/{read[-1]['id']}",
                                       headers=headers)))
    assert event["type"]["code"] == "rest" and event["subtype"][0]["code"] == "read"
    assert event["action"] == "R"
    user, server = event["agent"]
    assert user["requestor"] and user["network"] == {"address": "testclient", "type": "1"}
    assert server["network"]["address"] == "testserver"
    patient, data = event["entity"]
    assert patient["role"]["code"] == "1" and patient["what"]["identifier"]["system"] == \
        PATIENT_SYSTEM
    assert data["what"] == {"reference": f"ServiceRequest/{decided['request']}"}
    # The read of the AuditEvent is itself on the trail.
    again = client.get(f"/api/v1/audit?entity=request&id={decided['request']}",
                       headers=headers).json()
    assert len(again) == len(trail)
    sign = next(e for e in client.get(f"/api/v1/audit?entity=case&id={decided['case']}",
                                      headers=headers).json() if e["action"] == "signed")
    signed = valid(fhir_json(client.get(f"/fhir/R4/AuditEvent/{sign['id']}", headers=headers)))
    assert signed["subtype"][0]["code"] == "update" and signed["action"] == "U"


def test_a_referrer_reads_their_own_requests_only(
        client: TestClient, auth: Callable[[str], Headers], decided: dict[str, int]) -> None:
    hale = auth("hale")
    own = valid(fhir_json(client.get(f"/api/v1/cases/{decided['case']}/fhir", headers=hale)))
    assert {"ServiceRequest", "CarePlan", "Provenance"} <= set(by_type(own))
    response = client.get(f"/api/v1/cases/{decided['other_case']}/fhir", headers=hale)
    assert response.status_code == 404
    # A guest of the conference for their own case: its bundle holds that case only.
    meeting = valid(fhir_json(client.get(f"/api/v1/conferences/{decided['conference']}/fhir",
                                         headers=hale)))
    assert [e["id"] for e in by_type(meeting)["Encounter"]] == [str(decided["item"])]
    assert outcome_of(client.get("/fhir/R4/AuditEvent/1", headers=hale), 403, "forbidden")


def test_outsiders_learn_nothing(client: TestClient, outsider: Headers,
                                 decided: dict[str, int]) -> None:
    for path in (f"ServiceRequest/{decided['request']}", f"Encounter/{decided['item']}",
                 f"CarePlan/{decided['item']}", f"ImagingStudy/{decided['imaging']}",
                 f"Endpoint/viewer-{decided['imaging']}", f"CarePlan/{decided['item']}/_history",
                 "Observation/1", "Provenance/1", "ServiceRequest/999999"):
        message = outcome_of(client.get(f"/fhir/R4/{path}", headers=outsider), 404, "not-found")
        assert "No " in message, path


def test_reads_need_a_signed_in_person(client: TestClient, decided: dict[str, int]) -> None:
    response = client.get(f"/fhir/R4/CarePlan/{decided['item']}")
    outcome_of(response, 401, "login")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["Patient/1", "CarePlan/abc", "CarePlan/0", "CarePlan/-1",
                                  "CarePlan/99999999999", "Endpoint/elsewhere",
                                  "Endpoint/viewer-x"])
def test_unknown_types_and_ids_are_not_found(client: TestClient, auth: Callable[[str], Headers],
                                             demo: None, path: str) -> None:
    outcome_of(client.get(f"/fhir/R4/{path}", headers=auth("coordinator")), 404, "not-found")


def test_writes_are_not_supported(client: TestClient, auth: Callable[[str], Headers],
                                  demo: None) -> None:
    response = client.put("/fhir/R4/CarePlan/1", headers=auth("coordinator"), json={})
    outcome_of(response, 405, "not-supported")


def test_capability_statement(client: TestClient) -> None:
    body = fhir_json(client.get("/fhir/R4/metadata"))
    statement = CapabilityStatement.model_validate(body)
    assert statement.fhirVersion == "4.0.1"
    served = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert set(served) == {"ServiceRequest", "Appointment", "Encounter", "CarePlan",
                           "Provenance", "ImagingStudy", "Endpoint", "Observation", "AuditEvent"}
    assert {i["code"] for i in served["CarePlan"]["interaction"]} == {
        "read", "vread", "history-instance"}


def test_bundles_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/cases/{id}/fhir", "/conferences/{id}/fhir"):
        assert FHIR_JSON in paths[path]["get"]["responses"]["200"]["content"]


def test_a_bundle_is_a_bundle_for_every_demo_case(
        client: TestClient, auth: Callable[[str], Headers], app: Starlette, demo: None) -> None:
    """Cases in every state (a request still submitted, cases with no decision yet)."""
    with Session(app.state.engine) as session:
        ids = [id_of(c) for c in session.exec(select(Case))]
    headers = auth("coordinator")
    for case_id in ids:
        bundle = valid(fhir_json(client.get(f"/api/v1/cases/{case_id}/fhir", headers=headers)))
        Bundle.model_validate(bundle)


def test_a_signed_in_browser_reads_with_its_session(
        client: TestClient, decided: dict[str, int]) -> None:
    from tests.web.conftest import sign_in
    sign_in(client, "okafor@casebridge.example")
    plan = valid(fhir_json(client.get(f"/fhir/R4/CarePlan/{decided['item']}")))
    assert plan["meta"]["versionId"] == "2"
