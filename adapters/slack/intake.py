"""How much Slack work runs at once, and what happens in a flood.

Every acknowledged request becomes a task that translates it and hands it to the dispatcher.
Unbounded, a flood would start thousands of them: each waits for one of a handful of database
connections, memory grows, garbage-collection pauses grow, and every answer gets slower. So at
most ``WORKERS`` requests are handled at once, the rest queue, and when ``MAX_WAITING``
acknowledged requests are queued, new ones wait briefly before their ack, which slows Slack's
deliveries down instead of filling memory (measured in ``bench/slack_commands.py``).

A request whose answer waits for its channel's pacing (Slack allows about one message a second
per channel: ten people committing at once in one meeting channel) gives its worker slot to the
next request while it waits (:meth:`Tracker.sleep`), and counts as queued meanwhile, so one busy
channel never stalls every other team's commands and the flood bound still holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Requests handled at once. Each spends most of its time waiting (the database, Slack), so
# with 8 the event loop sat idle a fifth of the time under a flood of /protocol list while the
# queue grew; 32 kept it busy (bench/slack_commands.py: 0.58x the bare app's acks became 0.9x).
WORKERS = 32
MAX_WAITING = 1000  # acknowledged, not yet handled; past this, acks wait for room
ACK_WAIT_SECONDS = 2.0  # ...but never so long that Slack's 3-second deadline passes


class Tracker:
    """The listener tasks still running after their ack (shutdown and tests wait for them),
    and the bound on how many run at once."""

    def __init__(
        self,
        workers: int = WORKERS,
        max_waiting: int = MAX_WAITING,
        ack_wait: float = ACK_WAIT_SECONDS,
        wait: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.workers = asyncio.Semaphore(workers)
        self.max_waiting = max_waiting
        self.ack_wait = ack_wait
        self._wait = wait
        self.waiting = 0
        self._admitting = 0
        self._room = asyncio.Condition()
        self._holding: set[asyncio.Task[Any]] = set()  # the tasks holding a worker slot

    async def admit(self) -> None:
        """Before an ack: wait (briefly) while the queue is full."""
        if self.waiting < self.max_waiting:
            return
        self._admitting += 1
        try:
            async with self._room:
                await asyncio.wait_for(
                    self._room.wait_for(lambda: self.waiting < self.max_waiting),
                    self.ack_wait,
                )
        except TimeoutError:
            log.warning(
                "plcbot is behind: %d Slack requests are waiting to be handled", self.waiting
            )
        finally:
            self._admitting -= 1

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        await self._take_slot()
        task = asyncio.current_task()
        assert task is not None
        self._holding.add(task)
        try:
            return await work()
        finally:
            if task in self._holding:
                self._holding.discard(task)
                self.workers.release()

    async def sleep(self, seconds: float) -> None:
        """Wait for pacing; a request's task frees its worker slot meanwhile (see above).

        Only the task that took the slot gives it up, never one it started: a slot is
        released once. Scheduled jobs, which hold no slot, just wait."""
        task = asyncio.current_task()
        if task is None or task not in self._holding:
            await self._wait(seconds)
            return
        self._holding.discard(task)
        self.workers.release()
        self.waiting += 1
        try:
            await self._wait(seconds)
        finally:
            self.waiting -= 1
        await self._take_slot()
        self._holding.add(task)

    async def _take_slot(self) -> None:
        self.waiting += 1
        try:
            await self.workers.acquire()
        finally:
            self.waiting -= 1
            if self._admitting:
                async with self._room:
                    self._room.notify_all()

    def track(self) -> None:
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def settled(self) -> None:
        current = asyncio.current_task()
        while pending := [t for t in self._tasks if t is not current and not t.done()]:
            await asyncio.wait(pending)
