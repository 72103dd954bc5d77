"""Fixtures for the Teams tests: a loopback Bot Connector and activities aimed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.fake_connector import FakeConnector
from tests.teams.activities import Teams


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    async with FakeConnector().running() as connector:
        yield connector


@pytest.fixture
def teams(fake: FakeConnector) -> Teams:
    return Teams(fake.url)
