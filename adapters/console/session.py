"""The console session: read lines, act as different members, move the clock.

Lines starting with ``/`` are commands: plcbot's own (``/protocol start tuning``) or the
console's (``/as``, ``/clock``, ``/press``...). Other lines are messages in the current
conversation, exactly like a chat message (a contribution during a protocol step, say).
Scripts (``--script FILE`` or piped input) run with a clock that only moves on ``/clock``, so
a script produces the same transcript every time.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.console.messenger import PLATFORM, ConsoleMessenger, direct_conversation
from bot.app import PlcBot
from bot.clock import FakeClock
from bot.errors import UserError
from bot.events import (
    ActionEvent,
    CommandEvent,
    ConversationKind,
    ConversationRef,
    InboundEvent,
    MemberRef,
    MessageEvent,
)
from bot.parsing import DurationTooLong, clean_text, parse_duration, split_args
from bot.ports import Adapter
from storage import jobs

WORKSPACE = "console"
DEFAULT_CHANNEL = "plc"
CONSOLE_HELP = """Console commands (only in this terminal):
  /as NAME [TIME/ZONE]   act as another member, e.g. /as maria America/Chicago
  /dm                    talk to plcbot privately (as the current member)
  /channel [NAME]        back to a team channel (default #plc)
  /clock [+10m | +2d | 2026-12-01T09:00] [offline]   show or move the clock; what falls
                         due on the way runs at its time ("offline": as if plcbot was down);
                         at most 400 days a move
  /press ID              press a button, e.g. /press b3
  /submit ID field="value" ...   fill in and send a form, e.g. /submit f2 answer="..."
  /quit                  leave
Anything else you type is a message in the current conversation."""

# One /clock move walks through every due job on the way (each round, reminder and digest), or
# offline catches each missed one up: a few years of that is minutes of work, so a move is
# capped at a school year and a bit; move again to go further.
MAX_CLOCK_MOVE = timedelta(days=400)
TOO_FAR = (
    "That's too far for one move: /clock goes at most 400 days ahead at a time, so the work "
    "due on the way can run. Move it again to go further."
)

_MENTION = re.compile(r"(?<![\w@])@([A-Za-z][\w.\-]*)")


def member_for(name: str, timezone: str | None = None) -> MemberRef:
    ident = re.sub(r"[^a-z0-9._-]", "", name.lower()) or "someone"
    return MemberRef(PLATFORM, WORKSPACE, ident, ident.capitalize(), timezone)


class ConsoleAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, messenger: ConsoleMessenger) -> None:
        self.messenger = messenger


class ConsoleSession:
    def __init__(
        self,
        bot: PlcBot,
        *,
        write: Callable[[str], None] | None = None,
        echo_input: bool = False,
        files_dir: Path | None = None,
    ) -> None:
        self.bot = bot
        self.write = write or _print
        self.echo_input = echo_input
        clock = bot.core.clock
        self.clock = clock if isinstance(clock, FakeClock) else None
        self.zone = bot.settings.zone
        self.messenger = ConsoleMessenger(self.write, clock, self.zone, files_dir)
        self.adapter = ConsoleAdapter(self.messenger)
        bot.add_adapter(self.adapter)
        self.actor = member_for("me")
        self.messenger.roster_names[self.actor.user_id] = self.actor
        self.channel = DEFAULT_CHANNEL
        self.direct = False
        self._done = False

    # -- where we are ------------------------------------------------------------------------

    @property
    def conversation(self) -> ConversationRef:
        if self.direct:
            return direct_conversation(self.actor)
        return ConversationRef(
            PLATFORM, WORKSPACE, self.channel, ConversationKind.CHANNEL, name=self.channel
        )

    @property
    def prompt(self) -> str:
        where = "dm" if self.direct else f"#{self.channel}"
        return f"{self.actor.user_id}@{where}> "

    # -- the loop ----------------------------------------------------------------------------

    async def run(self, lines: AsyncIterator[str]) -> None:
        if not self.echo_input:
            self.write("plcbot console. Type /help for commands, /quit to leave.")
        async for raw in lines:
            line = raw.rstrip("\r\n")
            if self.echo_input:
                if line.strip() == "#" or line.strip().startswith("# "):
                    self.write(line)  # a comment in a script: shown, not sent
                    continue
                self.write(self.prompt + line)
            await self.handle_line(line)
            if self._done:
                break
        await self.bot.scheduler.run_due()

    async def handle_line(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        try:
            if text.startswith("/") and await self._console_command(text):
                return
            event = self._event_for(text)
        except UserError as exc:
            self.write(f"  ! {exc}")
            return
        await self.bot.dispatcher.handle(event, self.messenger)

    def _event_for(self, text: str) -> InboundEvent:
        # Like a chat platform's mention: the person as the console knows them (with their zone).
        known = self.messenger.roster_names
        mentions = tuple(
            known.get(ref.user_id, ref)
            for ref in (member_for(m) for m in dict.fromkeys(_MENTION.findall(text)))
        )
        event_id = f"console-{uuid.uuid4().hex}"
        now = self.bot.core.clock.now()
        if text.startswith("/"):
            name, _, rest = text[1:].partition(" ")
            return CommandEvent(
                event_id=event_id,
                at=now,
                actor=self.actor,
                conversation=self.conversation,
                name=name.lower(),
                text=rest.strip(),
                mentions=mentions,
            )
        return MessageEvent(
            event_id=event_id,
            at=now,
            actor=self.actor,
            conversation=self.conversation,
            text=text,
            mentions=mentions,
        )

    async def _console_command(self, text: str) -> bool:
        """Handle the console's own commands; False for everything plcbot should see."""
        name, _, rest = text[1:].partition(" ")
        name, rest = name.lower(), rest.strip()
        if name == "help" and not rest:
            await self.bot.dispatcher.handle(self._event_for("/help"), self.messenger)
            self.write(CONSOLE_HELP)
            return True
        if name in ("quit", "exit"):
            self._done = True
            return True
        if name == "as":
            self._switch_member(rest)
            return True
        if name == "dm":
            self.direct = True
            self.write(f"  (now talking privately with plcbot as {self.actor.display_name})")
            return True
        if name == "channel":
            self.direct = False
            self.channel = (rest.lstrip("#") or DEFAULT_CHANNEL).lower()
            self.write(f"  (now in #{self.channel})")
            return True
        if name == "clock":
            await self._clock(rest)
            return True
        if name == "press":
            await self._press(rest)
            return True
        if name == "submit":
            await self._submit(rest)
            return True
        return False

    def _switch_member(self, rest: str) -> None:
        words = rest.split()
        if not words:
            raise UserError("Say who to act as, e.g. /as maria")
        zone = None
        if len(words) > 1:
            try:
                ZoneInfo(words[1])
            except (ZoneInfoNotFoundError, ValueError):
                raise UserError(f"{words[1]!r} isn't a time zone; try America/Chicago") from None
            zone = words[1]
        known = self.messenger.roster_names.get(member_for(words[0]).user_id)
        if zone is None and known is not None:
            zone = known.timezone  # "/as ben" keeps the zone "/as ben America/Chicago" gave
        self.actor = member_for(words[0], zone)
        self.messenger.roster_names[self.actor.user_id] = self.actor
        self.write(f"  (you are now {self.actor.display_name})")

    async def _clock(self, rest: str) -> None:
        if not rest:
            self.write(f"  (it is {self._now_text()})")
            return
        if self.clock is None:
            raise UserError("This console runs on the real clock; it can't be moved.")
        rest, offline = _strip_word(rest, "offline")
        now = self.clock.now()
        if rest.startswith("+"):
            try:
                step = parse_duration(rest)
            except DurationTooLong:
                raise UserError(TOO_FAR) from None
            if step > MAX_CLOCK_MOVE:
                raise UserError(TOO_FAR)
            target = now + step
        else:
            try:
                moment = datetime.fromisoformat(rest)
            except ValueError:
                raise UserError(f"I couldn't read {rest!r}; try +10m or 2026-12-01T09:00") from None
            target = moment if moment.tzinfo else moment.replace(tzinfo=self.zone)
            if target < now:
                raise UserError("The clock only moves forward.")
            if target - now > MAX_CLOCK_MOVE:
                raise UserError(TOO_FAR)
        if offline:  # as if plcbot had been down until then: catch up at once, like a restart
            self.clock.set(target)
            await self.bot.scheduler.run_due()
        else:
            await self._walk_to(target)
        self.write(f"  (clock: {self._now_text()})")

    async def _walk_to(self, target: datetime) -> None:
        """Move time forward as if plcbot had been running all along.

        Jumping straight to ``target`` would look like downtime: work due on the way (a round
        that opens on Wednesday, a reminder on Thursday) would count as missed while offline.
        So the clock stops at each due moment on the way, in order, and runs what is due.
        """
        assert self.clock is not None
        scheduler = self.bot.scheduler
        while True:
            async with self.bot.db.read() as session:
                due = await jobs.next_wake(session)
            if due is None or due > target:
                break
            if due > self.clock.now():
                self.clock.set(due)
            if await scheduler.run_due() == 0 and due <= self.clock.now():
                break  # nothing claimable now (held by another process): don't spin
        if target > self.clock.now():
            self.clock.set(target)
        await scheduler.run_due()

    def _now_text(self) -> str:
        return self.bot.core.clock.now().astimezone(self.zone).strftime("%a %Y-%m-%d %H:%M %Z")

    async def _press(self, rest: str) -> None:
        ident = rest.strip().lower()
        control = self.messenger.controls.get(ident)
        if control is None or control.button is None:
            raise UserError(f"There is no button {rest!r}; buttons show as [b1 Label].")
        button = control.button
        await self._act(
            control.conversation, control.message_id, button.action_id, button.value, {}
        )

    async def _submit(self, rest: str) -> None:
        words = split_args(rest)
        if not words:
            raise UserError('Say which form, e.g. /submit f2 answer="..."')
        control = self.messenger.controls.get(words[0].lower())
        if control is None or control.form is None:
            raise UserError(f"There is no form {words[0]!r}; forms show as [f1 Title].")
        # Like a dialog in a chat app: what the form came filled in with is sent unless changed.
        values = {i.input_id: i.initial for i in control.form.inputs if i.initial}
        known = {i.input_id for i in control.form.inputs}
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep or key not in known:
                raise UserError(
                    f"Fill fields as name=value; this form has: {', '.join(sorted(known))}"
                )
            values[key] = clean_text(value, limit=10_000, allow_empty=True)
        form = control.form
        await self._act(
            control.conversation, control.message_id, form.action_id, form.value, values
        )

    async def _act(
        self,
        where: ConversationRef,
        message_id: str,
        action_id: str,
        value: str,
        form: dict[str, str],
    ) -> None:
        conversation = where
        if where.kind == ConversationKind.DIRECT:
            conversation = direct_conversation(self.actor)
        event = ActionEvent(
            event_id=f"console-{uuid.uuid4().hex}",
            at=self.bot.core.clock.now(),
            actor=self.actor,
            conversation=conversation,
            action_id=action_id,
            value=value,
            form=form,
            message_id=message_id,
        )
        await self.bot.dispatcher.handle(event, self.messenger)


def _strip_word(text: str, word: str) -> tuple[str, bool]:
    words = text.split()
    if word in words:
        return " ".join(w for w in words if w != word), True
    return text, False


def _print(line: str) -> None:
    print(line, flush=True)


async def lines_from(lines: Iterable[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def lines_from_stdin(prompt: Callable[[], str] | None) -> AsyncIterator[str]:
    """Read stdin without blocking the event loop (timers keep firing while you type)."""
    interactive = prompt is not None and sys.stdin.isatty()
    while True:
        try:
            if interactive:
                assert prompt is not None
                line = await asyncio.to_thread(input, prompt())
            else:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    return
        except EOFError:
            return
        yield line


def parse_start(value: str | None, zone: ZoneInfo) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


__all__ = [
    "ConsoleAdapter",
    "ConsoleSession",
    "lines_from",
    "lines_from_stdin",
]
