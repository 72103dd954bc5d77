"""Teams benchmark: replies per second from ``plcbot serve`` beside a bare Agents SDK echo bot.

Both servers run as their own processes on this machine, get the same Teams channel messages
(an @mention of the bot plus ``--command``), and reply through the same loopback fake Bot
Connector. The number that matters is the ratio: plcbot does real work per message (durable
de-duplication, identity, routing, an Adaptive Card) where the echo bot does none, on the same
SDK. Target: plcbot at least 0.8x the echo bot.

Run by hand from the repository root (numbers go in the report, never into tests)::

    .venv/bin/python -m bench.teams_bench                       # measures `protocol list`
    .venv/bin/python -m bench.teams_bench --command "team"      # the member list, from the db
    .venv/bin/python -m bench.teams_bench --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

Rounds alternate between the two bots so drift on a shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.support.fake_connector import FakeConnector
from tests.teams.activities import Person, Teams

ROOT = Path(__file__).resolve().parents[1]
PEOPLE = [Person(f"29:teacher-{n}", f"Teacher {n}") for n in range(20)]


@dataclass
class Result:
    name: str
    messages: int
    replies: int
    seconds: float
    errors: int

    @property
    def rate(self) -> float:
        return self.replies / self.seconds if self.seconds else 0.0


@asynccontextmanager
async def server(name: str, command: list[str], env: dict[str, str]) -> AsyncIterator[str]:
    """Start a server process and yield its base URL once it says where it listens."""
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    url = ""
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not url:
                raw = await process.stdout.readline()
                if not raw:
                    raise RuntimeError(f"{name} exited before listening:\n" + "".join(lines))
                line = raw.decode(errors="replace")
                lines.append(line)
                if "listening on http://" in line:
                    url = line.rsplit("listening on ", 1)[1].strip()

        async def drain() -> None:
            assert process.stdout is not None
            while await process.stdout.readline():
                pass

        drainer = asyncio.create_task(drain())
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        if url:
            drainer.cancel()


async def load(
    name: str,
    url: str,
    fake: FakeConnector,
    teams: Teams,
    command: str,
    messages: int,
    concurrency: int,
) -> Result:
    activities = [teams.channel_message(PEOPLE[n % len(PEOPLE)], command) for n in range(messages)]
    gate = asyncio.Semaphore(concurrency)
    errors = 0
    async with aiohttp.ClientSession() as http:

        async def post(activity: dict[str, object]) -> None:
            nonlocal errors
            async with gate, http.post(url + "/api/messages", json=activity) as response:
                await response.read()
                if response.status >= 300:
                    errors += 1

        before = len(fake.posted)
        started = time.perf_counter()
        await asyncio.gather(*(post(a) for a in activities))
        seconds = time.perf_counter() - started
    return Result(name, messages, len(fake.posted) - before, seconds, errors)


async def main(args: argparse.Namespace) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    scratch = tempfile.TemporaryDirectory()
    database = args.database_url or f"sqlite+aiosqlite:///{scratch.name}/bench.db"
    plcbot_env = {
        **env,
        "DATABASE_URL": database,
        "TEAMS_ALLOW_ANONYMOUS": "true",
        "LOG_LEVEL": "INFO",
        "PLCBOT_TIMEZONE": "UTC",
    }
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeConnector().running())
        teams = Teams(fake.url)
        echo_url = await stack.enter_async_context(
            server("echo bot", [sys.executable, "bench/echo_bot.py"], env)
        )
        plcbot_url = await stack.enter_async_context(
            server(
                "plcbot",
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "--env-file",
                    os.devnull,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                ],
                plcbot_env,
            )
        )
        targets = {"echo bot": echo_url, "plcbot": plcbot_url}
        for name, url in targets.items():  # warm up: imports, connections, first members
            await load(name, url, fake, teams, args.command, args.warmup, args.concurrency)
        results: dict[str, list[Result]] = {name: [] for name in targets}
        for _round in range(args.rounds):
            for name, url in targets.items():
                fake.clear()
                result = await load(
                    name, url, fake, teams, args.command, args.messages, args.concurrency
                )
                results[name].append(result)
                print(
                    f"  {name:9} {result.messages} messages, {result.replies} replies in "
                    f"{result.seconds:.2f}s = {result.rate:.0f} replies/s "
                    f"({result.errors} errors)",
                    flush=True,
                )
    scratch.cleanup()
    echo = statistics.median(r.rate for r in results["echo bot"])
    plcbot = statistics.median(r.rate for r in results["plcbot"])
    paired = [p.rate / e.rate for p, e in zip(results["plcbot"], results["echo bot"], strict=True)]
    machine = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    kind = database.split(":", 1)[0]
    print(f"command: {args.command!r}; database: {kind}; load: {machine}")
    print(f"echo bot (bare Agents SDK): {echo:.0f} replies/s (median of {args.rounds})")
    print(f"plcbot serve:               {plcbot:.0f} replies/s (median of {args.rounds})")
    print(
        f"ratio plcbot / echo bot:    {statistics.median(paired):.2f}x median of rounds "
        f"(each: {', '.join(f'{r:.2f}' for r in paired)}; target >= 0.80x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--command", default="protocol list", help="what the messages say after the mention"
    )
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="default: a scratch SQLite file")
    asyncio.run(main(parser.parse_args()))
