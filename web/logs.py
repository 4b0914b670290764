"""Logging that never writes a secret: tokens in query strings are redacted.

Guest links and the signaling socket carry their token as ``?token=``, and
uvicorn's access log prints every request's path with its query string; an
access log is read by more people than the tokens were meant for.

With ``CASEBRIDGE_LOG_FORMAT=json`` every line is one JSON object (time, level,
logger, message, and the request id or conference id it concerns), and each HTTP
request is logged once by :mod:`web.metrics`'s middleware with its request id (the
``X-Request-ID`` header, taken from the proxy when it sent a sane one).
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_FIELDS = ("conference_id", "request_id", "method", "path", "status", "duration_ms",
           "client")

_TOKEN = re.compile(r"([?&](?:token|access_token)=)[^&\s\"]+")


def redact(text: str) -> str:
    """``/x?token=abc&a=1`` -> ``/x?token=[redacted]&a=1``."""
    return _TOKEN.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line, for a log collector."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(), "logger": record.name,
            "message": redact(record.getMessage())}
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        for name in _FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def install(*, json_lines: bool = False) -> None:
    """Attach the filter to uvicorn's loggers (access lines and socket errors); with
    ``json_lines``, write every log line as JSON instead."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    if not json_lines:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # each request is logged once, ours
