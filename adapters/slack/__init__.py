"""The Slack adapter: plcbot in Slack through slack-bolt, over HTTP or Socket Mode.

This module stays light (no Slack SDK import) because the schema imports
:mod:`adapters.slack.tables` whether or not Slack is configured; the composition root calls
:func:`create_adapter` only when ``SLACK_BOT_TOKEN`` or ``SLACK_CLIENT_ID`` is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import PlcBot
    from bot.ports import Adapter


def create_adapter(bot: PlcBot) -> Adapter:
    from adapters.slack.adapter import SlackAdapter

    return SlackAdapter(bot)


__all__ = ["create_adapter"]
