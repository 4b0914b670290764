"""Serving the app: uvicorn, with a drain on SIGTERM, in one process or in several.

``SIGTERM`` first hands every live room over (:meth:`signaling.hub.Hub.drain`: claims
released, clients told to reconnect, peers closed), then uvicorn stops, giving
requests in flight ``DRAIN_SECONDS``.

With ``workers`` above 1, this process binds the socket and runs that many worker
processes on it, each with its own event loop, app and UDP ports: a room is hosted by
one worker and reached from the others over the Redis relay, so two cores forward two
rooms. A worker that dies is replaced; ``SIGTERM`` or ``SIGINT`` here drains and stops
them all.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn
from starlette.applications import Starlette

from web.settings import Settings

log = logging.getLogger(__name__)

DRAIN_SECONDS = 20  # SIGTERM to exit: rooms handed over, then requests finish or are cut
RESTART_PAUSE_SECONDS = 1.0


class DrainingServer(uvicorn.Server):
    """uvicorn, but SIGTERM first hands every live room over to another instance
    (``Hub.drain``) before the server stops, so clients reconnect elsewhere at once
    instead of waiting for this instance's claims to run out."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.app = app
        self.draining = False

    def handle_exit(self, sig: int, frame: Any) -> None:
        if sig != signal.SIGTERM or self.draining or self.should_exit:
            super().handle_exit(sig, frame)
            return
        self.draining = True
        # In the signal handler: start the drain on the loop, not from here.
        asyncio.get_running_loop().call_soon_threadsafe(self._drain, sig, frame)

    def _drain(self, sig: int, frame: Any) -> None:
        task = asyncio.get_running_loop().create_task(self.app.state.hub.drain())
        task.add_done_callback(lambda _: super(DrainingServer, self).handle_exit(sig, frame))


def _config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level="info", ws_max_size=1 << 20,
                          lifespan="on", timeout_graceful_shutdown=DRAIN_SECONDS)


def _worker(settings: Settings, host: str, port: int, sock: socket.socket) -> None:
    from web import logs
    from web.app import create_app

    app = create_app(settings)
    config = _config(app, host, port)
    logs.install(json_lines=settings.json_logs)
    DrainingServer(config, app).run(sockets=[sock])


def serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    """Serve until stopped (the caller has migrated the database)."""
    from web import logs
    from web.app import create_app

    if workers == 1:
        app = create_app(settings)
        config = _config(app, host, port)
        logs.install(json_lines=settings.json_logs)  # after uvicorn's own set-up (Config)
        DrainingServer(config, app).run()
        return
    sock = uvicorn.Config(Starlette(), host=host, port=port).bind_socket()
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=(settings, host, port, sock),
                                  name="casebridge-worker")
        process.start()
        return process

    def stop(sig: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    running = [start() for _ in range(workers)]
    while not stopping:
        time.sleep(0.2)
        for n, process in enumerate(running):
            if not process.is_alive() and not stopping:
                log.warning("worker %s exited with %s; starting another", process.pid,
                            process.exitcode)
                time.sleep(RESTART_PAUSE_SECONDS)
                running[n] = start()
    for process in running:
        if process.is_alive() and process.pid is not None:
            process.terminate()  # SIGTERM: each drains its rooms, then stops
    deadline = time.monotonic() + DRAIN_SECONDS + 5
    for process in running:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
    sock.close()
