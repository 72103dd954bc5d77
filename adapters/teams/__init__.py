"""Microsoft Teams, on the Microsoft 365 Agents SDK.

The composition root imports this package only when Teams is enabled, and the SDK is loaded
only when :func:`create_adapter` runs, so ``plcbot`` commands that don't need Teams (and the
``teams-manifest`` command, which needs only Pillow) start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import PlcBot
    from bot.ports import Adapter


def create_adapter(bot: PlcBot) -> Adapter:
    """The Teams adapter, configured from ``bot.settings`` (see :mod:`adapters.teams.auth`)."""
    from adapters.teams.adapter import TeamsAdapter

    return TeamsAdapter(bot)
