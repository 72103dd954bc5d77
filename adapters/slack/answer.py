"""A slash command's first private answer, carried in the command's own acknowledgement.

Slack shows a message that comes back in a slash command's HTTP answer (or Socket Mode ack)
just as it shows one sent to the command's ``response_url``: only to the person, by default.
Most commands know their answer within milliseconds (``/protocol list``, ``/commit`` once it is
stored), so plcbot holds the ack for up to :data:`ANSWER_WAIT_SECONDS` and lets the first
private reply ride on it. That saves a request to Slack per command, which under a flood of
commands was a fifth of plcbot's work, and the person sees the answer as soon as Slack does.

A command that is slower than that (a busy database, a queue of requests) is acknowledged
empty when the time is up, and its answers go to the ``response_url`` as before, so Slack's
3-second deadline is always kept. Replies that cannot ride on an ack (public ones, more than one
message's worth of blocks, files, a second reply) take their usual way.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

ANSWER_WAIT_SECONDS = 1.0  # how long an ack may wait for the command's first answer
MAX_ANSWER_WAIT_MS = 2000  # PLCBOT_SLACK_ANSWER_WAIT's limit, well inside the 3 seconds
ACK_DEADLINE_SECONDS = 2.5  # from the request's arrival, inside Slack's 3 seconds


class AckAnswer:
    """The ack of one slash command: given once, with the first answer or empty."""

    def __init__(self, ack: AsyncAck, response_url: str, within: float) -> None:
        self._ack = ack
        self.response_url = response_url
        self._given = False
        self._late: asyncio.Task[Any] | None = None
        self._timer = asyncio.get_running_loop().call_later(max(0.0, within), self._time_up)

    @property
    def open(self) -> bool:
        """Not given yet: an answer may still ride on it."""
        return not self._given

    def _take(self) -> bool:
        """Claim the one ack (synchronously, so two callers can never both give it)."""
        if self._given:
            return False
        self._given = True
        self._timer.cancel()
        return True

    def _time_up(self) -> None:
        if self._take():
            self._late = asyncio.ensure_future(self._ack())

    async def answer(self, text: str, blocks: list[dict[str, Any]]) -> bool:
        """Carry this answer in the ack, if the ack is still to be given; True if it was."""
        if not self._take():
            return False
        await self._ack(text=text, blocks=blocks, response_type="ephemeral")
        return True

    async def close(self) -> None:
        """The command is handled: acknowledge now if nothing answered it."""
        if self._take():
            await self._ack()
        elif self._late is not None:
            await self._late


ANSWER: ContextVar[AckAnswer | None] = ContextVar("slack_ack_answer", default=None)
