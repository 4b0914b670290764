"""The JSON API under /api/v1 (see CONTRACT and /api/v1/openapi.json)."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
