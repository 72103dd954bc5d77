"""A plcbot with the commitments feature wired to a test calendar, driven through the console."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.console.render import render
from bot.app import PlcBot
from bot.clock import FakeClock
from bot.commitment import CommitmentsFeature
from bot.context import Core
from bot.identity import Identity
from bot.messages import OutMessage
from bot.outbox import Outbox
from bot.ports import QuietDays
from bot.router import Router
from bot.scheduler import Scheduler
from bot.settings import load_settings
from bot.team import TeamFeature
from storage import identity
from storage.db import Database
from storage.identity import Member
from storage.models import MemberRow, TeamRow
from tests.support.harness import Console, settings_for


def bot_with(db_url: str, clock: FakeClock, quiet: QuietDays | None = None, **env: str) -> PlcBot:
    """Wired like ``build_app``, but with the calendar the test chooses."""
    settings = load_settings(settings_for(db_url, **env), env_file=None)
    db = Database(settings.database_url)
    core = Core(
        settings=settings,
        db=db,
        clock=clock,
        scheduler=Scheduler(db, clock),
        outbox=Outbox(db, clock),
        identity=Identity(db, clock),
    )
    router = Router()
    features = [TeamFeature(core), CommitmentsFeature(core, quiet_days=quiet)]
    for feature in features:
        feature.install(router)
    return PlcBot(core, router, features)


@asynccontextmanager
async def console_with(
    db_url: str, clock: FakeClock, quiet: QuietDays | None = None, files: Path | None = None
) -> AsyncIterator[Console]:
    bot = bot_with(db_url, clock, quiet)
    console = Console(bot, files)
    async with bot.running():
        yield console


def feature(console: Console) -> CommitmentsFeature:
    found = console.bot.feature(CommitmentsFeature)
    assert isinstance(found, CommitmentsFeature)
    return found


def button(lines: Sequence[str], label: str) -> str:
    """The id of the last button called ``label`` in ``lines``."""
    found = re.findall(rf"\[(b\d+) {re.escape(label)}\]", "\n".join(lines))
    assert found, f"no button {label!r} in:\n" + "\n".join(lines)
    return str(found[-1])


def form(lines: Sequence[str], title: str) -> str:
    found = re.findall(rf"\[(f\d+)\] {re.escape(title)}", "\n".join(lines))
    assert found, f"no form {title!r} in:\n" + "\n".join(lines)
    return str(found[-1])


def message(lines: Sequence[str], header: str) -> list[str]:
    """The first message whose header line contains ``header`` (e.g. "DM to Ben")."""
    for i, line in enumerate(lines):
        if line.startswith("[") and header in line:
            end = i + 1
            while end < len(lines) and lines[end].startswith("  | "):
                end += 1
            return list(lines[i:end])
    raise AssertionError(f"no message {header!r} in:\n" + "\n".join(lines))


def said(lines: Sequence[str]) -> str:
    """The output with each message's wrapped lines joined into one, for substring checks."""
    out: list[str] = []
    for line in lines:
        if line.startswith("  | ") and out:
            out[-1] += " " + line[4:].strip()
        else:
            out.append(line)
    return "\n".join(out)


async def team_id(console: Console, name: str = "plc") -> int:
    async with console.bot.db.read() as session:
        found = await session.scalar(select(TeamRow.id).where(TeamRow.conversation_id == name))
    assert found is not None
    return found


async def join(console: Console, *names: str, channel: str = "plc") -> None:
    """Each person says hello in the channel (the first becomes its lead)."""
    for name in names:
        await console.say(f"/as {name}", f"/channel {channel}", "/team")


async def member(console: Console, user_id: str) -> Member:
    async with console.bot.db.read() as session:
        member_id = await session.scalar(select(MemberRow.id).where(MemberRow.user_id == user_id))
        assert member_id is not None
        found = await identity.get_member(session, member_id)
    assert found is not None
    return found


def render_plain(message: OutMessage) -> str:
    return "\n".join(render(message, now=datetime.now(UTC), zone=ZoneInfo("UTC")))
