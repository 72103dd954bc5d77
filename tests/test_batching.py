"""GroupCall: callers arriving while a call runs are served together by the next one."""

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from bot.batching import GroupCall


async def test_concurrent_callers_share_round_trips_and_a_lone_caller_goes_at_once() -> None:
    calls: list[list[int]] = []

    async def double(keys: Sequence[int]) -> Mapping[int, int]:
        calls.append(sorted(keys))
        await asyncio.sleep(0)  # a round trip: lets more callers queue up meanwhile
        return {k: k * 2 for k in keys}

    group = GroupCall(double)
    assert await group(1) == 2
    assert calls == [[1]]
    results = await asyncio.gather(*(group(k) for k in range(2, 12)))
    assert results == [k * 2 for k in range(2, 12)]
    assert len(calls) == 2 and calls[1] == list(range(2, 12))


async def test_a_failure_reaches_every_caller_of_that_group_only() -> None:
    attempts = 0

    async def flaky(keys: Sequence[str]) -> Mapping[str, str]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("database went away")
        return {k: k.upper() for k in keys}

    group = GroupCall(flaky)
    outcomes = await asyncio.gather(group("a"), group("b"), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert await group("c") == "C"


@pytest.mark.parametrize("started", [False, True])
async def test_missing_keys_come_back_as_none_and_cancellation_frees_waiters(
    started: bool,
) -> None:
    release = asyncio.Event()

    async def slow(keys: Sequence[int]) -> Mapping[int, str]:
        await release.wait()
        return {k: "found" for k in keys if k != 2}

    group = GroupCall(slow)
    first = asyncio.ensure_future(group(1))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(group(2))
    if started:  # the worker is inside its call when it is cancelled
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    worker = group._worker
    assert worker is not None
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    with pytest.raises(asyncio.CancelledError):
        await second
    release.set()
    assert await group(3) == "found" and await group(2) is None
