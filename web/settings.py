"""Configuration from the environment (see the README's table)."""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import make_url

from conference.mail import DEFAULT_PUBLIC_URL, DEFAULT_SENDER
from conference.signoff import AUTO_CLOSE_GRACE, LIVE_WINDOW
from signaling.forwarding import FORWARDING
from signaling.hub import DEFAULT_CAPACITY
from signaling.turn import TurnRelay
from storage.cases import ImagingPolicy
from storage.engine import database_url
from web.dicomweb import Archive, Viewer

DEFAULT_INSTITUTION = "Multidisciplinary Spine Conference"
DEFAULT_PATIENT_SYSTEM = "urn:casebridge:patient-reference"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Institution:
    """Who sends the decision letters: the letterhead's name, address and phone."""

    name: str = DEFAULT_INSTITUTION
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes (CASEBRIDGE_SMTP_URL): ``smtp://`` plain, ``smtp+starttls://``
    upgraded with STARTTLS, ``smtps://`` TLS from the start; optional credentials."""

    host: str
    port: int
    security: str  # "plain" | "starttls" | "tls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OidcClient:
    """The hospital's OpenID provider (CASEBRIDGE_OIDC_*)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    name: str = "single sign-on"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    redis_url: str | None = None
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    imaging_hosts: frozenset[str] | None = None
    secure_cookies: bool = False
    development: bool = False
    institution: Institution = field(default_factory=Institution)
    # A licensed site's full ODI/NDI wording (CASEBRIDGE_INSTRUMENT_TEXT): instrument ->
    # ten sections, each a question and its six answers (0-5). Without it the patient
    # form shows the section titles and a plain 0-5 scale.
    instrument_text: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    live_window: timedelta = LIVE_WINDOW
    auto_close_grace: timedelta = AUTO_CLOSE_GRACE
    # CASEBRIDGE_PUBLIC_URL; None: pages use the address they were asked at, and mail
    # (which has no request to go by) uses ``fallback_url``.
    public_url: str | None = None
    fallback_url: str = DEFAULT_PUBLIC_URL  # `serve` sets it to where it listens
    smtp: SmtpServer | None = None
    mail_from: str = DEFAULT_SENDER
    # `serve --demo` without an SMTP server: mail is written to the log, labelled.
    mail_to_log: bool = False
    oidc: OidcClient | None = None
    # CASEBRIDGE_METRICS_TOKEN; None: /metrics answers loopback clients only.
    metrics_token: str | None = field(default=None, repr=False)
    room_capacity: int = DEFAULT_CAPACITY  # CASEBRIDGE_ROOM_CAPACITY
    json_logs: bool = False  # CASEBRIDGE_LOG_FORMAT=json
    forwarding: str = "packets"  # CASEBRIDGE_FORWARD: packets, or frames (the fallback)
    # CASEBRIDGE_TURN_URLS and CASEBRIDGE_TURN_SECRET: short-lived credentials per join.
    turn: TurnRelay | None = None
    # CASEBRIDGE_ICE_TRANSPORT_POLICY=relay: browsers send media only through the relay.
    ice_transport_policy: Literal["all", "relay"] = "all"
    # CASEBRIDGE_DICOMWEB_URL and CASEBRIDGE_VIEWER: studies found in the archive.
    dicomweb: Archive | None = None
    viewer: Viewer | None = None
    # CASEBRIDGE_FHIR_PATIENT_SYSTEM: the identifier system of the pseudonymous patient
    # reference in FHIR resources (the hospital's, so its systems can match it).
    fhir_patient_system: str = DEFAULT_PATIENT_SYSTEM

    @property
    def link_base(self) -> str:
        """The base of links in mail and invitations."""
        return self.public_url or self.fallback_url

    def imaging_policy(self) -> ImagingPolicy:
        """Which imaging links the hospital accepts (loopback http only in development)."""
        return ImagingPolicy(allowed_hosts=self.imaging_hosts,
                             allow_loopback_http=self.development)


def _ice_servers(raw: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(raw or "[]")
    except json.JSONDecodeError as exc:
        raise ConfigError(f"CASEBRIDGE_ICE_SERVERS is not JSON: {exc}") from exc
    if not isinstance(value, list):
        raise ConfigError("CASEBRIDGE_ICE_SERVERS must be a JSON list of objects.")
    for server in value:
        urls = server.get("urls") if isinstance(server, dict) else None
        if not (isinstance(urls, str) or (isinstance(urls, list) and urls)):
            raise ConfigError('Each CASEBRIDGE_ICE_SERVERS entry needs "urls" '
                              '(a string or a list of strings).')
        unknown = set(server) - {"urls", "username", "credential"}
        if unknown:
            raise ConfigError(f"Unknown ICE server fields: {', '.join(sorted(unknown))}.")
    return value


def _secret_key(db_url: str) -> str:
    configured = os.environ.get("CASEBRIDGE_SECRET_KEY", "").strip()
    if configured:
        return configured
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ConfigError("Set CASEBRIDGE_SECRET_KEY: every app instance must share it "
                          "(it is generated automatically only beside a SQLite file).")
    # Beside the SQLite file, readable by its owner only: it signs sessions and links.
    path = Path(url.database).resolve().with_suffix(".secret")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _institution() -> Institution:
    def value(name: str) -> str:
        text = os.environ.get(f"CASEBRIDGE_INSTITUTION_{name}", "").strip()
        if len(text) > 300:
            raise ConfigError(f"CASEBRIDGE_INSTITUTION_{name} is at most 300 characters.")
        return text
    # The address may be given on one line with " | " or "; " between its lines.
    lines = [part.strip() for part in value("ADDRESS").replace(";", "|").split("|")]
    return Institution(name=value("NAME") or DEFAULT_INSTITUTION,
                       address="\n".join(line for line in lines if line), phone=value("PHONE"))


def instrument_text(path: str) -> dict[str, list[dict[str, Any]]]:
    """Read and check the licensed questionnaire wording (see the README)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"CASEBRIDGE_INSTRUMENT_TEXT cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not set(data) <= {"odi", "ndi"}:
        raise ConfigError('CASEBRIDGE_INSTRUMENT_TEXT must be a JSON object with "odi" '
                          'and/or "ndi".')
    for name, sections in data.items():
        ok = isinstance(sections, list) and len(sections) == 10 and all(
            isinstance(s, dict) and isinstance(s.get("question"), str)
            and isinstance(s.get("answers"), list) and len(s["answers"]) == 6
            and all(isinstance(a, str) for a in s["answers"]) for s in sections)
        if not ok:
            raise ConfigError(f'CASEBRIDGE_INSTRUMENT_TEXT "{name}" needs 10 sections, each '
                              '{"question": text, "answers": [six texts, 0 to 5]}.')
    return data


def _archive() -> tuple[Archive | None, Viewer | None]:
    url = os.environ.get("CASEBRIDGE_DICOMWEB_URL", "").strip()
    template = os.environ.get("CASEBRIDGE_VIEWER", "").strip()
    try:
        archive = Archive.from_url(url) if url else None
        viewer = Viewer.parse(template) if template else None
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if archive is not None and viewer is None:
        raise ConfigError("CASEBRIDGE_DICOMWEB_URL needs CASEBRIDGE_VIEWER: the viewer that "
                          "opens the studies found (ohif:BASE, iid:BASE or a URL template).")
    return archive, viewer


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


def _patient_system(raw: str) -> str:
    if not raw:
        return DEFAULT_PATIENT_SYSTEM
    if not _URI.match(raw) or raw.startswith(("http:", "https:")) and "//" not in raw:
        raise ConfigError("CASEBRIDGE_FHIR_PATIENT_SYSTEM is an absolute URI naming the "
                          "hospital's patient identifiers, e.g. urn:oid:1.2.3.4 or "
                          "https://hospital.example/patient-reference")
    return raw


def _turn() -> TurnRelay | None:
    urls = [u.strip() for u in os.environ.get("CASEBRIDGE_TURN_URLS", "").split(",") if u.strip()]
    secret = os.environ.get("CASEBRIDGE_TURN_SECRET", "").strip()
    if not urls and not secret:
        return None
    if not urls or not secret:
        raise ConfigError("CASEBRIDGE_TURN_URLS and CASEBRIDGE_TURN_SECRET go together: "
                          "set both (the relay's URLs and the secret it shares) or neither.")
    for url in urls:
        if not url.startswith(("turn:", "turns:")) or len(url) <= len("turns:"):
            raise ConfigError(f"CASEBRIDGE_TURN_URLS: {url!r} is not a turn: or turns: URL "
                              "(for example turn:turn.hospital.example:3478?transport=udp).")
    return TurnRelay(urls=tuple(urls), secret=secret)


def _ice_transport_policy(turn: TurnRelay | None) -> Literal["all", "relay"]:
    raw = os.environ.get("CASEBRIDGE_ICE_TRANSPORT_POLICY", "").strip().lower()
    if raw in ("", "all"):
        return "all"
    if raw != "relay":
        raise ConfigError("CASEBRIDGE_ICE_TRANSPORT_POLICY is all or relay.")
    if turn is None:
        raise ConfigError("CASEBRIDGE_ICE_TRANSPORT_POLICY=relay needs a relay: set "
                          "CASEBRIDGE_TURN_URLS and CASEBRIDGE_TURN_SECRET.")
    return "relay"


def _forwarding(raw: str) -> str:
    if raw and raw not in FORWARDING:
        raise ConfigError(f"CASEBRIDGE_FORWARD is {' or '.join(FORWARDING)}.")
    return raw or "packets"


def _log_format(raw: str) -> bool:
    if raw not in ("", "text", "json"):
        raise ConfigError("CASEBRIDGE_LOG_FORMAT is text or json.")
    return raw == "json"


def _count(name: str, default: int, least: int, most: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not least <= int(raw) <= most:
        raise ConfigError(f"{name} is a whole number from {least} to {most}.")
    return int(raw)


def _minutes(name: str, default: timedelta, most: int) -> timedelta:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= most:
        raise ConfigError(f"{name} is a number of minutes from 0 to {most}.")
    return timedelta(minutes=int(raw))


_SMTP_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587),
                 "smtps": ("tls", 465)}


def smtp_server(raw: str) -> SmtpServer | None:
    """Read CASEBRIDGE_SMTP_URL (unset: None, mail waits in the outbox)."""
    if not raw:
        return None
    parts = urlsplit(raw)
    scheme = _SMTP_SCHEMES.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme is None or not parts.hostname or port == -1 or parts.path not in ("", "/") \
            or parts.query:
        raise ConfigError("CASEBRIDGE_SMTP_URL must look like smtp://host:port, "
                          "smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465.")
    if parts.password is not None and not parts.username:
        raise ConfigError("CASEBRIDGE_SMTP_URL has a password without a user name.")
    return SmtpServer(host=parts.hostname, port=port or scheme[1], security=scheme[0],
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None)


def _web_address(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise ConfigError(f"{name} must be an http(s) address such as "
                          "https://casebridge.example.org (no query).")
    return raw.rstrip("/")


def _mail_from(raw: str) -> str:
    if not raw:
        return DEFAULT_SENDER
    _, address = parseaddr(raw)
    if "@" not in address or address != raw.strip():
        raise ConfigError("CASEBRIDGE_MAIL_FROM must be a plain mail address, such as "
                          "casebridge@hospital.example.")
    return address


def oidc_client() -> OidcClient | None:
    """Read CASEBRIDGE_OIDC_* (no issuer: password sign-in only)."""
    issuer = os.environ.get("CASEBRIDGE_OIDC_ISSUER", "").strip()
    client_id = os.environ.get("CASEBRIDGE_OIDC_CLIENT_ID", "").strip()
    secret = os.environ.get("CASEBRIDGE_OIDC_CLIENT_SECRET", "").strip()
    name = os.environ.get("CASEBRIDGE_OIDC_NAME", "").strip() or "single sign-on"
    if not issuer:
        if client_id or secret:
            raise ConfigError("CASEBRIDGE_OIDC_CLIENT_ID is set but CASEBRIDGE_OIDC_ISSUER "
                              "is not.")
        return None
    issuer = _web_address("CASEBRIDGE_OIDC_ISSUER", issuer)
    if not client_id or not secret:
        raise ConfigError("CASEBRIDGE_OIDC_ISSUER needs CASEBRIDGE_OIDC_CLIENT_ID and "
                          "CASEBRIDGE_OIDC_CLIENT_SECRET.")
    if len(name) > 60:
        raise ConfigError("CASEBRIDGE_OIDC_NAME is at most 60 characters.")
    return OidcClient(issuer=issuer, client_id=client_id, client_secret=secret, name=name)


def load_settings() -> Settings:
    """Read every ``CASEBRIDGE_*`` variable; raise :class:`ConfigError` on a bad one."""
    db_url = database_url()
    try:
        make_url(db_url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError or ValueError
        raise ConfigError(f"CASEBRIDGE_DATABASE_URL is not a database URL: {exc}") from exc
    hosts = os.environ.get("CASEBRIDGE_IMAGING_HOSTS", "").strip()
    public = os.environ.get("CASEBRIDGE_PUBLIC_URL", "").strip()
    turn = _turn()
    dicomweb, viewer = _archive()
    return Settings(
        database_url=db_url,
        secret_key=_secret_key(db_url),
        redis_url=os.environ.get("CASEBRIDGE_REDIS_URL", "").strip() or None,
        ice_servers=_ice_servers(os.environ.get("CASEBRIDGE_ICE_SERVERS", "")),
        imaging_hosts=frozenset(h.strip().lower() for h in hosts.split(",") if h.strip())
        if hosts else None,
        secure_cookies=os.environ.get("CASEBRIDGE_SECURE_COOKIES", "").lower() in ("1", "true"),
        development=os.environ.get("CASEBRIDGE_DEVELOPMENT", "").lower() in ("1", "true"),
        institution=_institution(),
        instrument_text=instrument_text(os.environ.get("CASEBRIDGE_INSTRUMENT_TEXT", "").strip()),
        live_window=_minutes("CASEBRIDGE_LIVE_WINDOW_MINUTES", LIVE_WINDOW, 24 * 60),
        auto_close_grace=_minutes("CASEBRIDGE_AUTO_CLOSE_GRACE_MINUTES", AUTO_CLOSE_GRACE,
                                  24 * 60),
        public_url=_web_address("CASEBRIDGE_PUBLIC_URL", public) if public else None,
        smtp=smtp_server(os.environ.get("CASEBRIDGE_SMTP_URL", "").strip()),
        mail_from=_mail_from(os.environ.get("CASEBRIDGE_MAIL_FROM", "").strip()),
        oidc=oidc_client(),
        metrics_token=os.environ.get("CASEBRIDGE_METRICS_TOKEN", "").strip() or None,
        room_capacity=_count("CASEBRIDGE_ROOM_CAPACITY", DEFAULT_CAPACITY, 2, 200),
        json_logs=_log_format(os.environ.get("CASEBRIDGE_LOG_FORMAT", "").strip().lower()),
        forwarding=_forwarding(os.environ.get("CASEBRIDGE_FORWARD", "").strip().lower()),
        turn=turn,
        dicomweb=dicomweb,
        viewer=viewer,
        ice_transport_policy=_ice_transport_policy(turn),
        fhir_patient_system=_patient_system(
            os.environ.get("CASEBRIDGE_FHIR_PATIENT_SYSTEM", "").strip()),
    )
