"""Building a whole plcbot for a test and talking to it through the console adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from adapters.console.session import ConsoleSession
from bot.app import PlcBot, build_app
from bot.clock import FakeClock
from bot.settings import load_settings


def settings_for(db_url: str, **env: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "PLCBOT_TIMEZONE": "UTC", **env}


def make_bot(db_url: str, clock: FakeClock, **env: str) -> PlcBot:
    settings = load_settings(settings_for(db_url, **env), env_file=None)
    return build_app(settings, clock=clock, platforms=[])


class Console:
    """A console session whose output is collected, for transcript-style tests."""

    def __init__(self, bot: PlcBot, files: Path | None = None) -> None:
        self.bot = bot
        self.lines: list[str] = []
        self.session = ConsoleSession(
            bot, write=self.lines.append, echo_input=True, files_dir=files
        )

    async def say(self, *lines: str) -> list[str]:
        """Type the lines; returns only the output they produced."""
        start = len(self.lines)
        for line in lines:
            self.lines.append(self.session.prompt + line)
            await self.session.handle_line(line)
        return self.lines[start:]

    async def script(self, lines: Iterable[str]) -> list[str]:
        start = len(self.lines)

        async def feed() -> AsyncIterator[str]:
            for line in lines:
                yield line

        await self.session.run(feed())
        return self.lines[start:]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@asynccontextmanager
async def running_console(
    db_url: str, clock: FakeClock, files: Path | None = None, **env: str
) -> AsyncIterator[Console]:
    bot = make_bot(db_url, clock, **env)
    console = Console(bot, files)
    async with bot.running():
        yield console
