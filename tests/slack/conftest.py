"""Fixtures for the Slack tests: a fake Slack and a running plcbot talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from tests.slack.showcase import Showcase
from tests.slack.workspace import SlackWorkspace, fake_slack, running_slack
from tests.support.fake_slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as server:
        yield server


@pytest.fixture
def showcase() -> Showcase:
    return Showcase()


@pytest.fixture
async def slack(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack, showcase: Showcase, tmp_path: Path
) -> AsyncIterator[SlackWorkspace]:
    async with running_slack(sqlite_url, clock, fake, features=[showcase]) as workspace:
        yield workspace
