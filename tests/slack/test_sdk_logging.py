"""slack_sdk and bolt format whole payloads into DEBUG messages whenever their logger's own
level is unset, debug output wanted or not; plcbot gives them a level unless it logs at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from adapters.slack.adapter import SDK_LOGGERS, skip_sdk_debug


@pytest.fixture
def unset_sdk_loggers() -> Iterator[list[logging.Logger]]:
    loggers = [logging.getLogger(name) for name in SDK_LOGGERS]
    before = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.NOTSET)
    yield loggers
    for logger, level in zip(loggers, before, strict=True):
        logger.setLevel(level)


def test_the_sdk_loggers_skip_debug_formatting_unless_plcbot_logs_at_debug(
    unset_sdk_loggers: list[logging.Logger],
) -> None:
    skip_sdk_debug("DEBUG")
    assert all(logger.level == logging.NOTSET for logger in unset_sdk_loggers)

    # what they would log anyway stays as it was (quiet stays quiet), minus DEBUG
    expected = [max(logger.getEffectiveLevel(), logging.INFO) for logger in unset_sdk_loggers]
    skip_sdk_debug("INFO")
    assert [logger.level for logger in unset_sdk_loggers] == expected


def test_a_level_someone_set_on_purpose_is_kept(unset_sdk_loggers: list[logging.Logger]) -> None:
    unset_sdk_loggers[0].setLevel(logging.DEBUG)
    skip_sdk_debug("INFO")
    assert unset_sdk_loggers[0].level == logging.DEBUG
    assert all(logger.level > logging.DEBUG for logger in unset_sdk_loggers[1:])
