"""Outbound pacing per channel, so a burst of sends never turns into a wall of 429s.

Slack allows about one ``chat.postMessage`` per second per channel, with short bursts. A token
bucket per channel lets a few messages out at once (a summary split in three, a card and its
chart) and then spaces the rest a second apart. When Slack still answers 429, :meth:`hold`
closes the channel for the ``Retry-After`` it named, so every waiting send respects it, not
only the one that was refused.

Waiting is done by reservation: each caller takes its slot before sleeping, so concurrent sends
to one channel leave in the order they asked and never bunch up after a pause.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MAX_IDLE_CHANNELS = 5_000


@dataclass
class _Bucket:
    tokens: float
    updated: float
    blocked_until: float = 0.0


class ChannelPacer:
    def __init__(
        self,
        *,
        rate: float = 1.0,
        burst: int = 3,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("pacing needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._monotonic = monotonic
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_IDLE_CHANNELS:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated=now)
        else:
            bucket.tokens = self._refilled(bucket, now)
            bucket.updated = now
        return bucket

    def _refilled(self, bucket: _Bucket, now: float) -> float:
        return min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)

    def _wait(self, bucket: _Bucket, tokens_left: float, now: float) -> float:
        """Until the token a send takes (leaving ``tokens_left``) exists and the channel is open."""
        wait_for_token = -tokens_left / self.rate if tokens_left < 0 else 0.0
        return max(wait_for_token, bucket.blocked_until - now, 0.0)

    def _forget_idle(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if self._refilled(bucket, now) >= self.burst and bucket.blocked_until <= now:
                del self._buckets[key]

    def delay_for(self, key: str) -> float:
        """Reserve the next slot for ``key``; returns how long to wait before using it."""
        now = self._monotonic()
        bucket = self._bucket(key, now)
        bucket.tokens -= 1.0
        return self._wait(bucket, bucket.tokens, now)

    def free_in(self, key: str) -> float:
        """How long until a send to ``key`` could go, without reserving the slot."""
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        return self._wait(bucket, self._refilled(bucket, now) - 1.0, now)

    def refund(self, key: str) -> None:
        """Give back a slot reserved by :meth:`delay_for` that will not be used after all."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(float(self.burst), bucket.tokens + 1.0)

    async def wait(self, key: str) -> None:
        delay = self.delay_for(key)
        if delay > 0:
            await self._sleep(delay)

    def hold(self, key: str, seconds: float) -> None:
        """Slack said "retry after ``seconds``": nothing more goes to ``key`` until then."""
        now = self._monotonic()
        bucket = self._bucket(key, now)
        bucket.blocked_until = max(bucket.blocked_until, now + max(seconds, 0.0))
