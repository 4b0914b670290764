"""Configuration from the environment (see the README's table)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from conference.signoff import AUTO_CLOSE_GRACE, LIVE_WINDOW
from storage.cases import ImagingPolicy
from storage.engine import database_url

DEFAULT_INSTITUTION = "Multidisciplinary Spine Conference"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Institution:
    """Who sends the decision letters: the letterhead's name, address and phone."""

    name: str = DEFAULT_INSTITUTION
    address: str = ""
    phone: str = ""


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


def _minutes(name: str, default: timedelta, most: int) -> timedelta:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= most:
        raise ConfigError(f"{name} is a number of minutes from 0 to {most}.")
    return timedelta(minutes=int(raw))


def load_settings() -> Settings:
    """Read every ``CASEBRIDGE_*`` variable; raise :class:`ConfigError` on a bad one."""
    db_url = database_url()
    try:
        make_url(db_url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError or ValueError
        raise ConfigError(f"CASEBRIDGE_DATABASE_URL is not a database URL: {exc}") from exc
    hosts = os.environ.get("CASEBRIDGE_IMAGING_HOSTS", "").strip()
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
    )
