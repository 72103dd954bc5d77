"""The dispatcher: de-duplication across restarts, friendly errors, no tracebacks in chat."""

import asyncio
from datetime import timedelta

from adapters.console.messenger import ConsoleMessenger
from adapters.console.session import member_for
from bot.app import PlcBot
from bot.clock import FakeClock
from bot.errors import UserError
from bot.events import CommandEvent, ConversationRef
from bot.features import Feature
from bot.messages import plain
from bot.router import CommandSpec, Router
from bot.turn import Turn
from tests.support.harness import make_bot

CHANNEL = ConversationRef("console", "console", "plc", name="plc")


class Counting(Feature):
    name = "counting"

    def __init__(self) -> None:
        self.count = 0

    def install(self, router: Router) -> None:
        router.add_command(CommandSpec("count", "count", default=self.bump, bare=self.bump))

    async def bump(self, turn: Turn, args: str) -> None:
        if args == "bad":
            raise UserError("That isn't a number I can count.")
        if args == "crash":
            raise RuntimeError("database exploded: secret detail")
        self.count += 1
        turn.reply(f"count is {self.count}")


def command(text: str, event_id: str, clock: FakeClock) -> CommandEvent:
    return CommandEvent(
        event_id=event_id,
        at=clock.now(),
        actor=member_for("maria"),
        conversation=CHANNEL,
        name="count",
        text=text,
    )


def counting_bot(
    url: str, clock: FakeClock, feature: Counting, lines: list[str]
) -> tuple[PlcBot, ConsoleMessenger]:
    bot = make_bot(url, clock)
    feature.install(bot.router)
    return bot, ConsoleMessenger(lines.append, clock, bot.settings.zone)


async def test_a_retried_event_takes_effect_once_even_after_a_restart(
    db_url: str, clock: FakeClock
) -> None:
    lines: list[str] = []
    feature = Counting()
    for _restart in range(2):
        bot, messenger = counting_bot(db_url, clock, feature, lines)
        async with bot.running():
            await bot.dispatcher.handle(command("", "evt-1", clock), messenger)
            result = await bot.dispatcher.handle(command("", "evt-1", clock), messenger)
            assert result.duplicate
    assert feature.count == 1


async def test_errors_become_friendly_private_answers(sqlite_url: str, clock: FakeClock) -> None:
    lines: list[str] = []
    feature = Counting()
    bot, messenger = counting_bot(sqlite_url, clock, feature, lines)
    async with bot.running():
        bad = await bot.dispatcher.handle(command("bad", "e1", clock), messenger)
        assert bad.refused and not bad.failed
        assert "isn't a number" in plain(bad.replies[-1].message.blocks[0].body)  # type: ignore[union-attr]
        crash = await bot.dispatcher.handle(command("crash", "e2", clock), messenger)
        assert crash.failed
        said = "\n".join(lines)
        assert "Traceback" not in said and "secret detail" not in said
        assert "something went wrong on my side" in said
        # the failed event was forgotten, so the platform's retry is handled
        clock.advance(timedelta(seconds=1))
        again = await bot.dispatcher.handle(command("", "e2", clock), messenger)
        assert not again.duplicate and feature.count == 1


async def test_concurrent_deliveries_are_claimed_together_and_a_copy_is_dropped(
    db_url: str, clock: FakeClock
) -> None:
    """A burst shares one claim transaction; two copies of one event in it count once."""
    lines: list[str] = []
    feature = Counting()
    bot, messenger = counting_bot(db_url, clock, feature, lines)
    async with bot.running():
        await bot.dispatcher.handle(command("", "early", clock), messenger)
        ids = ["early", "b1", "b2", "b1", "b3", "b2", "b1"]
        results = await asyncio.gather(
            *(bot.dispatcher.handle(command("", i, clock), messenger) for i in ids)
        )
    assert [r.duplicate for r in results] == [True, False, False, True, False, True, True]
    assert feature.count == 4  # early, b1, b2, b3
