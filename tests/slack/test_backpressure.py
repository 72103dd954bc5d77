"""A flood of requests is queued up to a bound; past it, acknowledgements wait for room."""

from __future__ import annotations

import asyncio

import pytest

from adapters.slack.intake import Tracker
from bot.clock import FakeClock
from bot.settings import SettingsError
from tests.slack.workspace import running_slack
from tests.support.fake_slack import FakeSlack


async def test_handling_is_bounded_and_a_full_queue_holds_the_next_ack() -> None:
    tracker = Tracker(workers=1, max_waiting=1)
    release_first = asyncio.Event()
    order: list[str] = []

    async def work(name: str, gate: asyncio.Event | None = None) -> str:
        order.append(f"start {name}")
        if gate is not None:
            await gate.wait()
        return name

    first = asyncio.create_task(tracker.run(lambda: work("first", release_first)))
    await asyncio.sleep(0)  # let it take the only worker
    second = asyncio.create_task(tracker.run(lambda: work("second")))
    await asyncio.sleep(0)
    assert tracker.waiting == 1 and order == ["start first"]

    admitted = asyncio.create_task(tracker.admit())  # the queue is full: this ack must wait
    await asyncio.sleep(0)
    assert not admitted.done()
    release_first.set()
    assert await first == "first" and await second == "second"
    await asyncio.wait_for(admitted, 1)  # room again: the ack goes out
    assert order == ["start first", "start second"]


async def test_queue_settings_are_checked(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    with pytest.raises(SettingsError, match="PLCBOT_SLACK_QUEUE: expected a whole number"):
        async with running_slack(sqlite_url, clock, fake, PLCBOT_SLACK_QUEUE="lots"):
            pass
    async with running_slack(
        sqlite_url, clock, fake, PLCBOT_SLACK_QUEUE="5", PLCBOT_SLACK_WORKERS="2"
    ) as slack:
        assert slack.adapter.tracker.max_waiting == 5


async def test_a_request_waiting_for_its_channels_pacing_lends_its_worker_to_the_next() -> None:
    """Ten commitments at once in one meeting channel must not stall other teams' commands."""
    paced = asyncio.Event()
    waits: list[float] = []

    async def pacing(seconds: float) -> None:
        waits.append(seconds)
        await paced.wait()

    tracker = Tracker(workers=1, max_waiting=5, wait=pacing)
    order: list[str] = []

    async def commit() -> str:
        order.append("commit stored")
        await tracker.sleep(2.0)  # its team note waits for the channel
        order.append("commit note sent")
        return "commit"

    async def other() -> str:
        order.append("other handled")
        return "other"

    async def helper() -> None:
        await tracker.sleep(1.0)  # a task the request started holds no slot of its own

    first = asyncio.create_task(tracker.run(commit))
    await asyncio.sleep(0)
    assert tracker.waiting == 1  # the pacing wait counts against the flood bound
    second = asyncio.create_task(tracker.run(other))
    assert await asyncio.wait_for(second, 1) == "other"  # it got the only worker meanwhile
    assert order == ["commit stored", "other handled"]

    inner = asyncio.create_task(tracker.run(lambda: asyncio.gather(helper(), other())))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert tracker.workers.locked()  # the helper's wait did not give its parent's slot away
    paced.set()
    assert await first == "commit"
    await inner
    assert order.count("other handled") == 2 and order[-1] == "commit note sent"
    assert waits == [2.0, 1.0] and tracker.waiting == 0 and not tracker.workers.locked()
