"""A chat platform that says "slow down" or stumbles doesn't leave the channel on an old step:
the card and the announcements come later through durable jobs, once each; a refusal for good
is logged and left alone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from adapters.console.messenger import PLATFORM, ConsoleMessenger
from bot.clock import FakeClock
from bot.events import ConversationRef, InboundEvent, MemberRef
from bot.messages import Form, OutMessage
from bot.ports import Adapter, DeliveryError, Messenger, RateLimited, SentMessage
from bot.protocol.runner import TRANSIENT_RETRY, redraw_key
from storage import jobs
from tests.protocols.support import active, team_of_three
from tests.support.harness import Console, make_bot

TIMES_UP = "Time's up for Welcome, norms and roles, so I'm moving on."


class FlakyPlatform(Messenger):
    """The console as a chat platform whose next sends fail as told, then work again."""

    platform = PLATFORM

    def __init__(self, inner: ConsoleMessenger) -> None:
        self.inner = inner
        self.failures: dict[str, list[Exception]] = {"post": [], "update": []}

    def fail(self, call: str, *errors: Exception) -> None:
        self.failures[call].extend(errors)

    def _maybe_fail(self, call: str) -> None:
        if self.failures[call]:
            raise self.failures[call].pop(0)

    async def post(self, conversation: ConversationRef, message: OutMessage) -> SentMessage:
        self._maybe_fail("post")
        return await self.inner.post(conversation, message)

    async def update(self, sent: SentMessage, message: OutMessage) -> None:
        self._maybe_fail("update")
        await self.inner.update(sent, message)

    async def post_private(
        self, conversation: ConversationRef, member: MemberRef, message: OutMessage
    ) -> None:
        await self.inner.post_private(conversation, member, message)

    async def post_direct(
        self, member: MemberRef, message: OutMessage, via: ConversationRef | None = None
    ) -> SentMessage:
        return await self.inner.post_direct(member, message, via)

    async def open_form(self, event: InboundEvent, form: Form) -> bool:
        return await self.inner.open_form(event, form)

    async def roster(self, conversation: ConversationRef) -> Sequence[MemberRef]:
        return await self.inner.roster(conversation)


class FlakyAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, messenger: FlakyPlatform) -> None:
        self.messenger = messenger


@asynccontextmanager
async def flaky_console(
    db_url: str, clock: FakeClock
) -> AsyncIterator[tuple[Console, FlakyPlatform]]:
    bot = make_bot(db_url, clock)
    console = Console(bot)
    platform = FlakyPlatform(console.session.messenger)
    bot.add_adapter(FlakyAdapter(platform))  # what the bot sends on its own now goes through it
    async with bot.running():
        await team_of_three(console)
        yield console, platform


async def run_after(console: Console, clock: FakeClock, wait: timedelta) -> str:
    """Move the clock, run what came due, and return what the channel saw meanwhile."""
    start = len(console.lines)
    clock.advance(wait)
    await console.bot.scheduler.run_due()
    return "\n".join(console.lines[start:])


async def pending(console: Console, prefix: str) -> list[jobs.Job]:
    async with console.bot.db.read() as s:
        return await jobs.pending_with_prefix(s, prefix)


async def job_state(console: Console, key: str) -> str | None:
    async with console.bot.db.read() as s:
        found = await jobs.get(s, key)
    return found[1] if found else None


async def test_a_rate_limited_timer_step_reaches_the_card_and_the_thread_once(
    db_url: str, clock: FakeClock
) -> None:
    async with flaky_console(db_url, clock) as (console, platform):
        await console.say("/protocol start tuning @ben --auto", "/clock +2m")
        # Time's up: the step moves on by itself, and the platform answers 429 to both the card
        # update and the announcement, then once more to the first retry of the card.
        platform.fail("update", RateLimited(30), RateLimited(20))
        platform.fail("post", RateLimited(30))
        missed = "\n".join(await console.say("/clock +1m"))
        assert "(updated" not in missed and "Time's up" not in missed
        assert (await active(console.bot)).state.step == 1  # stored; only the showing failed
        assert len(await pending(console, redraw_key(1))) == 1
        assert len(await pending(console, "protocol-say:1:")) == 1

        assert await run_after(console, clock, timedelta(seconds=29)) == ""  # not before 30s

        retried = await run_after(console, clock, timedelta(seconds=2))
        assert retried.count(TIMES_UP) == 1
        assert "Step 2 of 9: The presenter shares the work (10 min)" in retried
        assert "(updated" not in retried  # the card was rate-limited again: 20s more
        assert await job_state(console, redraw_key(1)) == jobs.PENDING

        redrawn = await run_after(console, clock, timedelta(seconds=21))
        assert "(updated m3)" in redrawn and "Tuning protocol: step 2 of 9" in redrawn
        assert "The presenter shares the work" in redrawn and TIMES_UP not in redrawn
        assert await job_state(console, redraw_key(1)) == jobs.DONE

        later = "\n".join(await console.say("/clock +9m"))
        assert "One minute left for The presenter shares the work." in later
        assert console.text.count(TIMES_UP) == 1
        assert await pending(console, "protocol-say:") == []


async def test_a_hiccup_on_the_one_minute_warning_is_retried(db_url: str, clock: FakeClock) -> None:
    async with flaky_console(db_url, clock) as (console, platform):
        await console.say("/protocol start tuning @ben", "/clock +1m")
        platform.fail("post", ConnectionResetError("connection reset by peer"))
        assert "One minute left" not in "\n".join(await console.say("/clock +1m"))
        warned = await run_after(console, clock, TRANSIENT_RETRY)
        assert warned.count("One minute left for Welcome, norms and roles.") == 1
        await run_after(console, clock, timedelta(minutes=5))
        assert console.text.count("One minute left for Welcome, norms and roles.") == 1


async def test_repeated_failed_redraws_become_one_redraw_of_the_current_step(
    db_url: str, clock: FakeClock
) -> None:
    async with flaky_console(db_url, clock) as (console, platform):
        await console.say("/protocol start tuning @ben")
        platform.fail("update", RateLimited(60), RateLimited(60))
        await console.say("/protocol next")
        await run_after(console, clock, timedelta(seconds=10))
        await console.say("/protocol next")
        assert len(await pending(console, redraw_key(1))) == 1

        assert await run_after(console, clock, timedelta(seconds=55)) == ""  # moved to the later
        redrawn = await run_after(console, clock, timedelta(seconds=10))
        assert redrawn.count("(updated m3)") == 1
        assert "Tuning protocol: step 3 of 9" in redrawn
        assert "step 2 of 9" not in redrawn


async def test_a_refusal_for_good_is_logged_once_and_not_retried(
    db_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.protocol.runner")
    async with flaky_console(db_url, clock) as (console, platform):
        await console.say("/protocol start tuning @ben")
        platform.fail("update", DeliveryError("message_not_found: the card was deleted"))
        platform.fail("post", DeliveryError("is_archived: the channel is archived"))
        out = "\n".join(await console.say("/protocol next"))
        assert "(updated" not in out and "Step 2 of 9" not in out
        refusals = [r for r in caplog.records if "won't retry" in r.getMessage()]
        assert len(refusals) == 2
        assert await job_state(console, redraw_key(1)) is None
        assert await pending(console, "protocol-say:") == []
        assert await run_after(console, clock, timedelta(minutes=1)) == ""

        # A retry that then meets a refusal ends there, too.
        platform.fail("update", RateLimited(30), DeliveryError("cant_update_message"))
        await console.say("/protocol next")
        assert await run_after(console, clock, timedelta(seconds=31)) == ""
        assert await job_state(console, redraw_key(1)) == jobs.DONE
        assert len([r for r in caplog.records if "won't retry" in r.getMessage()]) == 3
        assert await run_after(console, clock, timedelta(minutes=2)) == ""
