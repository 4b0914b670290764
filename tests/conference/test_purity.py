"""conference/ is pure: it imports no web, database, media or asyncio library."""

import ast
import pathlib
from collections.abc import Iterator
from pathlib import Path

ROOT = pathlib.Path(__file__).resolve().parents[2]
FORBIDDEN = {"starlette", "sqlmodel", "sqlalchemy", "aiortc", "av", "asyncio", "uvicorn",
             "psycopg", "redis", "jinja2", "httpx", "httpx2", "socket", "storage", "web",
             "signaling", "alembic", "pydantic", "threading", "subprocess"}


def imported_roots(path: pathlib.Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_conference_imports_no_io_library() -> None:
    files = sorted((ROOT / "conference").rglob("*.py"))
    assert len(files) >= 8
    offenders = {(f.name, m) for f in files for m in imported_roots(f) if m in FORBIDDEN}
    assert offenders == set()


def test_storage_and_signaling_do_not_import_web() -> None:
    for package in ("storage", "signaling"):
        for f in sorted((ROOT / package).rglob("*.py")):
            assert "web" not in set(imported_roots(f)), f


def test_purity_check_detects_an_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import asyncio\nfrom sqlmodel import Field\n")
    assert set(imported_roots(bad)) == {"asyncio", "sqlmodel"}
