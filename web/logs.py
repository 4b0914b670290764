"""Logging that never writes a secret: tokens in query strings are redacted.

Guest links and the signaling socket carry their token as ``?token=``, and
uvicorn's access log prints every request's path with its query string; an
access log is read by more people than the tokens were meant for.
"""

from __future__ import annotations

import logging
import re

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


def install() -> None:
    """Attach the filter to uvicorn's loggers (access lines and socket errors)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
