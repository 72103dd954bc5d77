"""Helpers for reflection tests: a recording messenger (a platform that keeps what it got),
seeding a team straight into the database, and reading console transcripts by audience."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.app import PlcBot
from bot.clock import FakeClock
from bot.events import ConversationKind, ConversationRef, MemberRef
from bot.messages import OutMessage
from bot.ports import Adapter, Messenger, RateLimited, SentMessage
from bot.reflection.calendar import SchoolCalendar
from storage import identity
from storage.db import Database
from storage.identity import Member, Team

PLATFORM = "console"
WORKSPACE = "console"


@dataclass
class Platform:
    """What the chat platform received, shared by every bot instance in a test."""

    directs: list[tuple[str, OutMessage, datetime]] = field(default_factory=list)
    posts: list[tuple[str, OutMessage]] = field(default_factory=list)
    by_sender: Counter[str] = field(default_factory=Counter)

    def prompts_to(self, user_id: str) -> list[OutMessage]:
        return [m for u, m, _ in self.directs if u == user_id and m.title == "A moment to reflect"]

    def prompt_counts(self) -> Counter[str]:
        return Counter(u for u, m, _ in self.directs if m.title == "A moment to reflect")


class RecordingMessenger(Messenger):
    platform = PLATFORM

    def __init__(
        self,
        clock: FakeClock,
        received: Platform,
        name: str = "bot",
        *,
        rate_limit_once: set[str] | None = None,
        hang_after: int | None = None,
        accept_then_hang: bool = False,
    ) -> None:
        self.clock = clock
        self.received = received
        self.name = name
        self.rate_limit_once = set(rate_limit_once or ())
        self.hang_after = hang_after
        self.accept_then_hang = accept_then_hang  # the hang comes after the platform accepted
        self.hanging = asyncio.Event()  # set once a send hangs (the "process" is mid-send)
        self._sent = 0
        self._ids = 0

    def _next(self) -> str:
        self._ids += 1
        return f"{self.name}-{self._ids}"

    async def post(self, conversation: ConversationRef, message: OutMessage) -> SentMessage:
        self.received.posts.append((conversation.conversation_id, message))
        return SentMessage(conversation, self._next())

    async def update(self, sent: SentMessage, message: OutMessage) -> None:
        return None

    async def post_private(
        self, conversation: ConversationRef, member: MemberRef, message: OutMessage
    ) -> None:
        self.received.directs.append((member.user_id, message, self.clock.now()))

    async def post_direct(
        self, member: MemberRef, message: OutMessage, via: ConversationRef | None = None
    ) -> SentMessage:
        await asyncio.sleep(0)  # a real platform call yields to other work
        if member.user_id in self.rate_limit_once:
            self.rate_limit_once.discard(member.user_id)
            raise RateLimited(5)
        hang = self.hang_after is not None and self._sent >= self.hang_after
        if hang and not self.accept_then_hang:
            self.hanging.set()
            await asyncio.Event().wait()  # never answers: the process dies mid-send
        self._sent += 1
        self.received.directs.append((member.user_id, message, self.clock.now()))
        self.received.by_sender[self.name] += 1
        if hang:
            self.hanging.set()
            await asyncio.Event().wait()  # accepted, but the process dies before recording it
        conversation = via or ConversationRef(
            PLATFORM, WORKSPACE, f"dm-{member.user_id}", ConversationKind.DIRECT
        )
        return SentMessage(conversation, self._next())


class RecordingAdapter(Adapter):
    platform = PLATFORM

    def __init__(self, messenger: RecordingMessenger) -> None:
        self.messenger = messenger


async def seed_team(
    db: Database,
    clock: FakeClock,
    names: Sequence[str],
    zones: Sequence[str | None] = (),
    channel: str = "plc",
) -> tuple[Team, list[Member]]:
    """A team whose first member leads it, as if each had spoken in the channel."""
    now = clock.now()
    async with db.write() as session:
        ws = await identity.ensure_workspace(session, PLATFORM, WORKSPACE, now)
        team_id = await identity.ensure_team(session, ws, channel, channel, now)
        ids = []
        for n, name in enumerate(names):
            zone = zones[n] if n < len(zones) else None
            member_id = await identity.ensure_member(session, ws, name, name.title(), zone, now)
            await identity.ensure_membership(session, team_id, member_id, now)
            ids.append(member_id)
        team = await identity.get_team(session, team_id)
        members = [await identity.get_member(session, i) for i in ids]
    assert team is not None
    return team, [m for m in members if m is not None]


def with_platform(bot: PlcBot, messenger: RecordingMessenger) -> PlcBot:
    bot.add_adapter(RecordingAdapter(messenger))
    return bot


_HEADER = re.compile(r"^\[\w{3} \d\d:\d\d\] (?P<where>.*)$")


def messages_seen_by(lines: Sequence[str], name: str) -> list[str]:
    """The console messages ``name`` could see: channel posts, their own DMs and ephemerals."""
    seen: list[str] = []
    current: list[str] | None = None
    for line in lines:
        match = _HEADER.match(line)
        if match:
            where = match.group("where")
            private = re.search(r"\(only (\w+) sees this\)", where)
            if where.startswith(("DM to ", "DM with ")):
                visible = where.split()[2] == name
            elif private:
                visible = private.group(1) == name
            else:
                visible = where.startswith("#")
            current = [] if visible else None
            if current is not None:
                seen.append("")
            continue
        if line.startswith("  | ") or line == "  |":
            if current is not None:
                seen[-1] += line[4:] + "\n"
        else:
            current = None
    return seen


def said(lines: Sequence[str]) -> str:
    """Console output as one line of text, so assertions don't depend on line wrapping."""
    parts = [line[4:] if line.startswith("  | ") else line for line in lines]
    return re.sub(r"\s+", " ", " ".join(parts))


async def only_team(bot: PlcBot) -> Team:
    """The one team a console test created."""
    from sqlalchemy import select

    from storage.models import TeamRow

    async with bot.db.read() as session:
        team_id = await session.scalar(select(TeamRow.id))
        assert team_id is not None
        team = await identity.get_team(session, team_id)
    assert team is not None
    return team


def calendar_of(bot: PlcBot) -> SchoolCalendar:
    from bot.reflection import ReflectionsFeature

    feature = bot.feature(ReflectionsFeature)
    assert isinstance(feature, ReflectionsFeature)
    return feature.calendar


async def set_schedule(
    bot: PlcBot,
    team: Team,
    *,
    weekday: int,
    at_time: str,
    first_day: date,
    indicators: tuple[str, ...] = ("B3",),
) -> None:
    """What ``/reflect schedule`` stores and plans, for tests that have no console."""
    from bot.reflection import ReflectionsFeature
    from storage import reflections

    feature = bot.feature(ReflectionsFeature)
    assert isinstance(feature, ReflectionsFeature)
    async with bot.db.write() as session:
        await reflections.save_schedule(
            session,
            team.id,
            weekday=weekday,
            at_time=at_time,
            indicators=indicators,
            mode="dm",
            by=None,
            now=bot.core.clock.now(),
        )
        schedule = await reflections.get_schedule(session, team.id)
        assert schedule is not None
        await feature.rounds.plan_next(session, team, schedule, first_day)


async def tick(bot: PlcBot, clock: FakeClock, until: datetime, step: timedelta) -> None:
    """Move the clock in steps, running what comes due, as a running bot would."""
    while clock.now() < until:
        clock.advance(min(step, until - clock.now()))
        await bot.scheduler.run_due()
