"""The ``casebridge`` command: serve, db upgrade, users add, demo.

Exit status: 0 on success, 2 for bad usage or input, 1 for other errors, always
with one line on stderr and never a traceback for a user error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from conference.errors import CasebridgeError, InvalidInput
from conference.people import Role, Specialty
from web.settings import ConfigError, Settings, load_settings


class UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casebridge", description="Virtual case conferences for spine care teams.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database, then serve the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true",
                       help="load the demo data first if the database is empty")
    serve.add_argument("--workers", type=int, default=1,
                       help="processes to serve with (one per core; above 1 needs Redis)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply migrations")

    users = commands.add_parser("users", help="manage people")
    users_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = users_commands.add_parser("add", help="create a person; prints the id")
    add.add_argument("email")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--specialty", choices=[s.value for s in Specialty])
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from the first line of standard input")

    commands.add_parser("demo", help="load the demo data set into the configured database")
    return parser


def _engine(settings: Settings) -> Engine:
    from storage.engine import make_engine

    return make_engine(settings.database_url)


def _migrate(settings: Settings) -> None:
    from storage.migrate import upgrade

    engine = _engine(settings)
    upgrade(engine)
    engine.dispose()


def _print_logins(logins: Sequence[object]) -> None:
    from storage.demo import DEMO_PASSWORD

    print(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for login in logins:
        print(f"  {login.role:<20} {login.email:<34} {login.name}")  # type: ignore[attr-defined]


def _load_demo(settings: Settings, *, only_if_empty: bool) -> bool:
    from storage.demo import PEOPLE, Login, load_demo
    from storage.demo_history import load_history
    from storage.engine import session_scope
    from storage.users import count_users

    engine = _engine(settings)
    try:
        with session_scope(engine) as session:
            if count_users(session):
                if not only_if_empty:
                    raise UsageError("The database already has people in it; "
                                     "load the demo into an empty database.")
                _print_logins([Login(e, n, r.value) for e, n, r, _ in PEOPLE])
                return False
            logins = load_demo(session)
            load_history(session)  # a past meeting, for the charts and follow-ups
            _print_logins(logins)
            return True
    finally:
        engine.dispose()


def _users_add(settings: Settings, args: argparse.Namespace) -> None:
    from storage.engine import session_scope
    from storage.users import create_user

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("No password on standard input.")
    engine = _engine(settings)
    try:
        with session_scope(engine) as session:
            user = create_user(session, email=args.email, name=args.name, role=Role(args.role),
                               specialty=Specialty(args.specialty) if args.specialty else None,
                               password=password)
        print(user.id)
    finally:
        engine.dispose()


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    from web.server import serve

    if args.workers < 1 or args.workers > 64:
        raise UsageError("--workers is a number from 1 to 64.")
    if args.workers > 1 and settings.redis_url is None:
        raise UsageError("--workers above 1 needs CASEBRIDGE_REDIS_URL: the workers "
                         "reach each other's rooms through Redis.")
    _migrate(settings)
    if args.demo:
        _load_demo(settings, only_if_empty=True)
        if settings.smtp is None:
            # The demo shows its mail in the log (labelled: not sent) instead of
            # leaving it in the outbox.
            settings = replace(settings, mail_to_log=True)
    if settings.public_url is None:
        # Links in mail go where this server listens, unless configured otherwise.
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        settings = replace(settings, fallback_url=f"http://{host}:{args.port}")
    workers = f" with {args.workers} workers" if args.workers > 1 else ""
    print(f"Casebridge is serving on http://{args.host}:{args.port}/{workers}", flush=True)
    serve(settings, host=args.host, port=args.port, workers=args.workers)


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    if args.command == "serve":
        _serve(settings, args)
    elif args.command == "db":
        _migrate(settings)
        print("Database is up to date.")
    elif args.command == "users":
        _migrate(settings)
        _users_add(settings, args)
    elif args.command == "demo":
        _migrate(settings)
        _load_demo(settings, only_if_empty=False)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except (UsageError, InvalidInput, ConfigError) as exc:
        message = exc.message if isinstance(exc, CasebridgeError) else str(exc)
        print(f"casebridge: {message}", file=sys.stderr)
        return 2
    except CasebridgeError as exc:
        print(f"casebridge: {exc.message}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        print(f"casebridge: cannot reach the database: {reason}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"casebridge: database error: {exc.__class__.__name__}: {exc}".splitlines()[0],
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
