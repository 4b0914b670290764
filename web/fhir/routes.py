"""The FHIR R4 read endpoints under ``/fhir/R4`` and the bundle exports of the API.

``GET /fhir/R4/metadata`` is the CapabilityStatement (public, as FHIR clients
expect, and holds no data). Reads (``/{type}/{id}``), version reads and history
(``/{type}/{id}/_history[/{vid}]``) authenticate as the API does (a bearer token
or the session cookie), answer ``application/fhir+json``, and carry the version in
``ETag`` and ``Last-Modified``. Errors are OperationOutcomes (``web/errors.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.clock import utcnow
from storage.tables import User
from web.api.endpoint import Call, operation
from web.api.schemas import Empty
from web.auth import client_address, public_base, require_user
from web.db import db
from web.fhir import resources as r
from web.fhir.records import ENTITIES, VERSIONED, Records
from web.settings import Settings

FHIR_JSON = "application/fhir+json"
SERVER_STARTED = utcnow()


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


def site_of(request: Request) -> r.Site:
    settings: Settings = request.app.state.settings
    return r.Site(base_url=public_base(request), patient_system=settings.fhir_patient_system,
                  archive_url=settings.dicomweb.base_url if settings.dicomweb else None)


def records(request: Request, session: Session, user: User) -> Records:
    return Records(session, user, site_of(request), client_address(request))


def _version(resource: Resource) -> str:
    meta = getattr(resource, "meta", None)
    return str(meta.versionId) if meta is not None and meta.versionId else "1"


async def _serve(request: Request, work: Callable[[Records], Resource]) -> Response:
    """Authenticate, read in a worker thread (audited, committed), answer FHIR JSON."""
    def run() -> Resource:
        with db(request) as session:
            user = require_user(request, session)
            return work(records(request, session, user))
    resource = await run_in_threadpool(run)
    return FhirResponse(r.dump(resource), headers={"ETag": f'W/"{_version(resource)}"'})


def _history_bundle(request: Request, kind: str, rid: str,
                    versions: list[Resource]) -> Bundle:
    base = site_of(request)
    entries = []
    for version in versions:
        vid = _version(version)
        entries.append({
            "fullUrl": base.full_url(kind, rid), "resource": version,
            "request": {"method": "POST" if vid == "1" else "PUT", "url": f"{kind}/{rid}"},
            "response": {"status": "201 Created" if vid == "1" else "200 OK",
                         "etag": f'W/"{vid}"'},
        })
    return Bundle.model_validate({"type": "history", "total": len(entries),
                                  "timestamp": utcnow(), "entry": entries})


async def read(request: Request) -> Response:
    kind, rid = request.path_params["type"], request.path_params["id"]
    return await _serve(request, lambda rec: rec.read(kind, rid))


async def vread(request: Request) -> Response:
    kind, rid, vid = (request.path_params[k] for k in ("type", "id", "vid"))
    return await _serve(request, lambda rec: rec.vread(kind, rid, vid))


async def history(request: Request) -> Response:
    kind, rid = request.path_params["type"], request.path_params["id"]
    return await _serve(
        request, lambda rec: _history_bundle(request, kind, rid, rec.history(kind, rid)))


def capability_statement(base_url: str) -> CapabilityStatement:
    """What this server does: reads of the resources it maps, version reads and history
    of CarePlan (one version per signed revision), JSON only."""
    interactions = [{"code": "read"}]
    return CapabilityStatement.model_validate({
        "status": "active",
        "date": SERVER_STARTED,
        "publisher": "Casebridge",
        "kind": "instance",
        "software": {"name": "Casebridge"},
        "implementation": {"description": "Casebridge virtual spine case conferences",
                           "url": f"{base_url}/fhir/R4"},
        "fhirVersion": "4.0.1",
        "format": [FHIR_JSON, "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Bundles per case and per conference: GET "
                             "/api/v1/cases/{id}/fhir and /api/v1/conferences/{id}/fhir.",
            "security": {"description": "A bearer token from POST /api/v1/auth/token, or "
                                        "the session cookie; every read is audited."},
            "resource": [{
                "type": kind,
                "interaction": interactions + ([{"code": "vread"}, {"code": "history-instance"}]
                                               if kind in VERSIONED else []),
                "versioning": "versioned" if kind in VERSIONED else "no-version",
                "readHistory": kind in VERSIONED,
            } for kind in ENTITIES],
        }],
    })


async def metadata(request: Request) -> Response:
    return FhirResponse(r.dump(capability_statement(public_base(request))))


class FhirBundle(BaseModel):
    """A FHIR R4 Bundle (type collection): see https://hl7.org/fhir/R4/bundle.html."""

    model_config = ConfigDict(extra="allow")
    resourceType: str
    type: str
    entry: list[dict[str, Any]] = []


def case_bundle(call: Call[Empty]) -> Bundle:
    return records(call.request, call.session, call.user).case_bundle(call.id())


def conference_bundle(call: Call[Empty]) -> Bundle:
    return records(call.request, call.session, call.user).conference_bundle(call.id())


routes = [
    Route("/fhir/R4/metadata", metadata, methods=["GET"]),
    Route("/fhir/R4/{type}/{id}", read, methods=["GET"]),
    Route("/fhir/R4/{type}/{id}/_history", history, methods=["GET"]),
    Route("/fhir/R4/{type}/{id}/_history/{vid}", vread, methods=["GET"]),
]

api_routes = [
    operation("GET", "/cases/{id:int}/fhir", case_bundle, body=Empty, tag="fhir",
              response=FhirBundle, media_type=FHIR_JSON,
              summary="Every FHIR R4 resource about the case, as a Bundle (collection); "
                      "audited"),
    operation("GET", "/conferences/{id:int}/fhir", conference_bundle, body=Empty, tag="fhir",
              response=FhirBundle, media_type=FHIR_JSON,
              summary="The conference's Appointment and each of its cases' FHIR R4 "
                      "resources you may read, as a Bundle (collection); audited"),
]
