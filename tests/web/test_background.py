"""web.background.in_thread: a cancelled task still lets its thread's work finish."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from web.background import in_thread


async def test_a_cancelled_caller_waits_for_the_thread() -> None:
    started, finished = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        time.sleep(0.2)
        finished.set()

    task = asyncio.create_task(in_thread(work))
    while not started.is_set():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()


async def test_results_and_errors_pass_through() -> None:
    assert await in_thread(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await in_thread(lambda: 1 / 0)
