"""Group calls: many concurrent callers, one database round trip.

Fan-out work (a prompt to every member of a team) runs hundreds of small jobs at once. Opening
a session per job to check it, record it and finish it costs more than the send itself, so
callers that arrive while a call is running wait for the next one, which serves them all
together (the "group commit" databases use for their logs). The first caller never waits for
others: a lone job is checked and recorded at once, which keeps windows for duplicates small.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class GroupCall(Generic[K, V]):
    def __init__(self, run: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]) -> None:
        self._run = run
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._worker: asyncio.Task[None] | None = None

    async def __call__(self, key: K) -> V | None:
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._drain())
            self._worker.add_done_callback(self._ended)
        return await future

    def _ended(self, worker: asyncio.Task[None]) -> None:
        """A worker cancelled before it ever ran skipped its ``finally``: free its waiters."""
        if self._worker is not worker:
            return
        self._worker = None
        waiting, self._waiting = self._waiting, {}
        for futures in waiting.values():
            for future in futures:
                if not future.done():
                    future.cancel()

    async def _drain(self) -> None:
        batch: dict[K, list[asyncio.Future[V | None]]] = {}
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, {}
                try:
                    results = await self._run(list(batch))
                except Exception as exc:
                    _settle(batch, error=exc)
                else:
                    _settle(batch, results=results)
                batch = {}
        finally:
            self._worker = None
            for key, futures in self._waiting.items():  # left only if this task was cancelled
                batch.setdefault(key, []).extend(futures)
            self._waiting = {}
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.cancel()


def _settle(
    batch: Mapping[K, list[asyncio.Future[V | None]]],
    *,
    results: Mapping[K, V] | None = None,
    error: Exception | None = None,
) -> None:
    for key, futures in batch.items():
        for future in futures:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result((results or {}).get(key))
