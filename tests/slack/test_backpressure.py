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
