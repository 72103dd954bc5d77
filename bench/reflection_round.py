"""Benchmark: one reflection round to 5,000 members through the Slack adapter (issue 6).

Run by hand from the repository root (numbers go in docs and reports, never into tests)::

    .venv/bin/python -m bench.reflection_round                    # SQLite, 5,000 members
    .venv/bin/python -m bench.reflection_round --members 200      # a quick try
    .venv/bin/python -m bench.reflection_round postgresql+asyncpg://postgres@127.0.0.1:5432/test

The loopback fake Slack Web API (``tests/support/fake_slack.py``, extended here to count what
each member received and to refuse every Nth ``chat.postMessage``) runs as its own process on
a port the OS picks. plcbot runs in this process, built by ``build_app`` with the real Slack
adapter on its own aiohttp server, on a clock that follows real time from a school day (so
``/reflect now`` is never refused as a weekend). For each scenario it gets a fresh database:
the first member's ``/team`` makes them the lead, ``/team sync`` adds everyone in the channel
(``conversations.members`` and ``users.info``), and ``/reflect now`` opens the round. From
then on it is plcbot's own code path: the round's jobs in the database, claimed and run by its
scheduler, each prompt a ``chat.postMessage`` through ``slack_sdk`` to the member's id (which
Slack delivers to the bot's DM with them, naming it), paced per channel, 429s honoured.

It measures real wall time from the ``/reflect now`` request to the moment the fake accepted
the last member's prompt, in two scenarios:

- (a) no throttling, beside a bare aiohttp client posting the same number of the same
  messages (JSON, bearer token, as ``slack_sdk`` sends them) to the same fake, with as many in
  flight as plcbot's scheduler runs jobs at once; it runs before and after plcbot, and the
  faster run is the baseline. Target: plcbot within 2x the bare client;
- (b) every 20th ``chat.postMessage`` answered 429 with ``Retry-After: 1``. Target: every
  member gets exactly one prompt (0 lost, 0 duplicated); the time is reported;
- (c) as (a), for the round after a first one: the DM channels Slack named then are stored,
  so this round posts straight to them.

"Delivered" means the fake accepted a ``chat.postMessage`` to that member's DM channel; a
refused (429) call does not count. After the last prompt the benchmark waits until every send
job is finished in the database before counting duplicates, and checks that every delivery
row says ``sent``. On SQLite it uses a temporary file; given a PostgreSQL server URL it creates
a throw-away database there for each scenario and drops it afterwards, so it never writes
into an existing database.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import itertools
import logging
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from adapters.slack.adapter import EVENTS_PATH, SlackAdapter
from adapters.slack.render import render_message
from bot.app import PlcBot, build_app
from bot.clock import FakeClock
from bot.reflection import messages
from bot.scheduler import Scheduler
from bot.server import build_web_app
from bot.settings import load_settings
from storage.models import JobRow
from storage.reflection_models import ReflectionDeliveryRow
from tests.slack.workspace import SIGNING_SECRET, signed_headers
from tests.support.fake_slack import APP_ID, BOT_TOKEN, FakeSlack

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday afternoon in term time
CHANNEL, CHANNEL_NAME = "C0PLCBENCH", "plc-everyone"
POST = "chat.postMessage"
# As many sends in flight as plcbot's scheduler runs jobs at once (its default).
PLCBOT_CONCURRENCY = int(inspect.signature(Scheduler).parameters["concurrency"].default)


def user_id(n: int) -> str:
    return f"U{n:05d}"


# -- the fake Slack, in its own process ------------------------------------------------------


class CountingSlack(FakeSlack):
    """FakeSlack that counts accepted prompts per DM channel and can refuse every Nth post."""

    def __init__(self, members: int) -> None:
        super().__init__(record=False)
        self.expected = {"D" + user_id(n) for n in range(members)}
        self.every = 0
        self.retry_after = 1.0
        self.reset(0, 1.0)

    def reset(self, every: int, retry_after: float) -> None:
        self.every = every
        self.retry_after = retry_after
        self.posts = 0  # chat.postMessage calls, refused ones included
        self.refused = 0
        self.delivered: Counter[str] = Counter()
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.complete = asyncio.Event()
        self.counts.clear()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == POST:
            self.posts += 1
            if self.every and self.posts % self.every == 0:
                await request.read()
                self.counts[POST] += 1
                self.refused += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": f"{self.retry_after:g}"},
                )
        return await super()._api(request)

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        body = super()._m_chat_postMessage(args)
        channel = str(body.get("channel"))  # a post to a person's id lands in their DM
        if body.get("ok") and channel in self.expected:
            now = time.monotonic()
            self.first_at = self.first_at or now
            self.delivered[channel] += 1
            if self.delivered[channel] == 1 and len(self.delivered) == len(self.expected):
                self.last_at = now
                self.complete.set()
        return body

    def report(self) -> dict[str, Any]:
        return {
            "complete": self.complete.is_set(),
            "posts": self.posts,
            "refused": self.refused,
            "delivered": sum(self.delivered.values()),
            "members": len(self.expected),
            "reached": len(self.delivered),
            "duplicated": sum(n - 1 for n in self.delivered.values() if n > 1),
            "first_at": self.first_at,
            "last_at": self.last_at,
            "calls": dict(self.counts),
        }

    async def _bench(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action == "reset":
            self.reset(int(request.query["every"]), float(request.query["retry_after"]))
        elif action == "wait":
            with suppress(TimeoutError):
                await asyncio.wait_for(self.complete.wait(), float(request.query["within"]))
        return web.json_response(self.report())

    async def serve(self) -> None:
        await self.start()
        assert self._runner is not None
        # The benchmark's own endpoints, beside the Web API (aiohttp lets a running app's
        # router be extended only before start, so they go on a second site on a free port).
        app = web.Application()
        app.router.add_route("*", "/bench/{action}", self._bench)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        control = "http://{}:{}".format(*runner.addresses[0][:2])
        print(self.api_url, control, flush=True)
        await asyncio.Event().wait()


async def serve_fake(members: int) -> None:
    fake = CountingSlack(members)
    ids = [user_id(n) for n in range(members)]
    for n, uid in enumerate(ids):
        fake.add_user(uid, f"teacher{n}", display_name=f"Teacher {n}", tz="America/New_York")
    fake.add_channel(CHANNEL, CHANNEL_NAME, [*ids, fake.bot_user_id])
    await fake.serve()


class Fake:
    """The driver's handle on the fake Slack process."""

    def __init__(self, api_url: str, control: str) -> None:
        self.api_url = api_url
        self.control = control
        self.response_base = api_url.removesuffix("/api/") + "/response/"

    async def bench(self, http: aiohttp.ClientSession, action: str, **query: Any) -> dict[str, Any]:
        url = f"{self.control}/bench/{action}?{urlencode(query)}"
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=None)) as response:
            answer: dict[str, Any] = await response.json()
            return answer


@asynccontextmanager
async def fake_process(members: int) -> AsyncIterator[Fake]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.reflection_round",
        "--serve-fake",
        str(members),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        match = re.match(r"(http://\S+/api/) (http://\S+)", line)
        if match is None:
            raise RuntimeError(f"the fake Slack did not start (it printed {line!r})")
        yield Fake(match.group(1), match.group(2))
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()


# -- the bare client -------------------------------------------------------------------------


def prompt_payload(n: int) -> dict[str, Any]:
    """What plcbot posts for one prompt (its own rendering), as slack_sdk sends it (JSON)."""
    message = messages.prompt_message(
        n + 1, "B3", "What did you try this week that a colleague could use?"
    )
    rendered = render_message(message, now=START)
    return {
        "channel": user_id(n),
        "text": rendered.fallback,
        "blocks": rendered.chunks[0],
        "unfurl_links": False,
        "unfurl_media": False,
    }


BARE = {
    "aiohttp": "bare aiohttp client, chat.postMessage",
    "slack_sdk": "bare slack_sdk client, chat.postMessage",
}


async def bare_client(fake: Fake, members: int, concurrency: int, kind: str) -> tuple[float, float]:
    """One message to each member's DM, ``concurrency`` in flight; the seconds it took, and the
    CPU seconds this process spent meanwhile.

    The message is rendered once beforehand (the client only posts), so this is the floor:
    what the fake Slack and the HTTP client cost on this machine, with nothing else to do.
    Both post to the person's id, as plcbot does for a member it never wrote to; ``slack_sdk``
    is the library plcbot sends through.
    """
    headers = {"Authorization": f"Bearer {BOT_TOKEN}"}
    template = prompt_payload(0)
    work = iter(range(members))
    async with aiohttp.ClientSession() as http:
        sdk = AsyncWebClient(base_url=fake.api_url, token=BOT_TOKEN, session=http)

        async def raw(method: str, **kwargs: Any) -> dict[str, Any]:
            async with http.post(fake.api_url + method, headers=headers, **kwargs) as response:
                body: dict[str, Any] = await response.json()
                if response.status != 200 or not body.get("ok"):
                    raise RuntimeError(f"the fake refused a bare {method}: {body}")
                return body

        async def worker() -> None:
            for n in work:
                if kind == "slack_sdk":
                    await sdk.chat_postMessage(**{**template, "channel": user_id(n)})
                else:
                    await raw(POST, json={**template, "channel": user_id(n)})

        await fake.bench(http, "reset", every=0, retry_after=1)
        began, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        took, cpu = time.monotonic() - began, time.process_time() - cpu
        seen = await fake.bench(http, "wait", within=0)
    if seen["reached"] != members or seen["duplicated"]:
        raise RuntimeError(f"the bare client did not reach everyone once: {seen}")
    return took, cpu


# -- plcbot ----------------------------------------------------------------------------------


class LogCounter(logging.Handler):
    """Counts plcbot's log records by message template; shows warnings and errors."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[(record.levelname, record.name, str(record.msg))] += 1


@dataclass
class Scenario:
    name: str
    every: int
    retry_after: float
    again: bool = False  # measure a second round, the members' DMs known by then
    database: str = ""
    setup: float = 0.0
    first: float = 0.0
    last: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds from the command to the last prompt
    fake: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    log: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    @property
    def lost(self) -> int:
        return int(self.fake["members"]) - int(self.fake["reached"])

    @property
    def ok(self) -> bool:
        members = int(self.fake["members"])
        return (
            self.lost == 0
            and self.fake["duplicated"] == 0
            and self.jobs == {"done": members}
            and self.deliveries == {"sent": members}
        )


class Driver:
    """Talks to a running plcbot the way Slack does (signed slash commands)."""

    def __init__(self, bot: PlcBot, fake: Fake, base_url: str, http: aiohttp.ClientSession):
        self.bot = bot
        self.fake = fake
        self.url = base_url + EVENTS_PATH
        self.http = http
        self.ids = itertools.count(1)

    @property
    def adapter(self) -> SlackAdapter:
        return next(a for a in self.bot.adapters if isinstance(a, SlackAdapter))

    async def command(self, command: str, text: str = "") -> None:
        n = next(self.ids)
        body = urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": "T0PLC",
                "team_domain": "lincoln",
                "channel_id": CHANNEL,
                "channel_name": CHANNEL_NAME,
                "user_id": user_id(0),
                "user_name": "teacher0",
                "command": command,
                "text": text,
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": f"{self.fake.response_base}bench{n}",
                "trigger_id": f"1334522460{n}.738474920.bench",
            }
        )
        headers = signed_headers(body, "application/x-www-form-urlencoded")
        async with self.http.post(self.url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{command} {text}: plcbot answered {response.status}")

    async def settled(self) -> None:
        await self.adapter.settled()


@asynccontextmanager
async def running_plcbot(db_url: str, fake: Fake) -> AsyncIterator[Driver]:
    settings = load_settings(
        {
            "DATABASE_URL": db_url,
            "PLCBOT_TIMEZONE": "UTC",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake.api_url,
        },
        env_file=None,
    )
    bot = build_app(settings, clock=FakeClock(START, ticking=True), platforms=["slack"])
    async with bot.running(), aiohttp.ClientSession() as http:
        runner = web.AppRunner(build_web_app(bot), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        driver = Driver(bot, fake, f"http://{host}:{port}", http)
        try:
            yield driver
            await driver.settled()
        finally:
            await runner.cleanup()


async def states(bot: PlcBot) -> tuple[dict[str, int], dict[str, int]]:
    async with bot.db.read() as session:
        jobs = await session.execute(
            select(JobRow.state, func.count())
            .where(JobRow.kind == "reflect.send")
            .group_by(JobRow.state)
        )
        deliveries = await session.execute(
            select(ReflectionDeliveryRow.state, func.count()).group_by(ReflectionDeliveryRow.state)
        )
        return (
            {str(s): int(n) for s, n in jobs.all()},
            {str(s): int(n) for s, n in deliveries.all()},
        )


async def settle_jobs(bot: PlcBot, within: float) -> tuple[dict[str, int], dict[str, int]]:
    """The send jobs' and deliveries' states once no send job is pending or running."""
    deadline = time.monotonic() + within
    while True:
        jobs, deliveries = await states(bot)
        if not jobs.keys() & {"pending", "running"} or time.monotonic() > deadline:
            return jobs, deliveries
        await asyncio.sleep(0.2)


async def run_round(
    db_url: str, fake: Fake, scenario: Scenario, within: float, members: int
) -> Scenario:
    counter = LogCounter()
    logging.getLogger().addHandler(counter)
    try:
        async with running_plcbot(db_url, fake) as driver:
            began = time.monotonic()
            await driver.command("/team")
            await driver.settled()
            await driver.command("/team", "sync")
            await driver.settled()
            scenario.setup = time.monotonic() - began

            if scenario.again:  # a first round, unmeasured, then a week passes
                await fake.bench(driver.http, "reset", every=0, retry_after=1)
                await driver.command("/reflect", "now")
                await fake.bench(driver.http, "wait", within=within)
                await settle_jobs(driver.bot, within)
                clock = driver.bot.core.clock
                assert isinstance(clock, FakeClock)
                clock.advance(timedelta(minutes=2))  # past "a round started a moment ago"
            await fake.bench(
                driver.http, "reset", every=scenario.every, retry_after=scenario.retry_after
            )
            began, cpu = time.monotonic(), time.process_time()
            await driver.command("/reflect", "now")
            seen = await fake.bench(driver.http, "wait", within=within)
            scenario.cpu = time.process_time() - cpu
            if seen["complete"]:
                scenario.first = seen["first_at"] - began
                scenario.last = seen["last_at"] - began
            # Everything finished (no send job left pending or running), then count again:
            # a duplicate would show up here.
            scenario.jobs, scenario.deliveries = await settle_jobs(driver.bot, within)
            if scenario.again:  # count the measured round's rows only
                scenario.jobs = {k: v - members for k, v in scenario.jobs.items() if k == "done"}
                scenario.deliveries = {
                    k: v - members for k, v in scenario.deliveries.items() if k == "sent"
                }
            await driver.settled()
            scenario.fake = await fake.bench(driver.http, "wait", within=0)
    finally:
        logging.getLogger().removeHandler(counter)
    scenario.log = counter.counts
    return scenario


# -- databases -------------------------------------------------------------------------------


@asynccontextmanager
async def throwaway_database(server: str | None) -> AsyncIterator[str]:
    """A temporary SQLite file, or a PostgreSQL database created and dropped on ``server``."""
    if server is None:
        with tempfile.TemporaryDirectory(prefix="plcbot-bench-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        return
    name = f"plcbot_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# -- the run ---------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> int:
    members, concurrency = args.members, args.concurrency
    scenarios = [
        Scenario("(a) no throttling", 0, args.retry_after),
        Scenario(f"(b) 1 in {args.every} posts 429", args.every, args.retry_after),
        Scenario("(c) the next round", 0, args.retry_after, again=True),
    ]
    if args.only:
        scenarios = [s for s in scenarios if s.name.startswith(f"({args.only})")]
    bare: dict[str, list[tuple[float, float]]] = {kind: [] for kind in BARE}
    async with fake_process(members) as fake:
        # The bare clients run before and after plcbot's round (a), the same messages to the
        # same fake, so drift on a shared machine shows in their spread.
        for kind in BARE:
            bare[kind].append(await bare_client(fake, members, concurrency, kind))
        for scenario in scenarios:
            async with throwaway_database(args.postgres) as url:
                scenario.database = make_url(url).get_backend_name()
                await run_round(url, fake, scenario, args.within, members)
            if scenario.every == 0:
                for kind in BARE:
                    bare[kind].append(await bare_client(fake, members, concurrency, kind))
    report(args, scenarios, bare)
    return 0 if all(s.ok for s in scenarios) else 1


def report(
    args: argparse.Namespace,
    scenarios: list[Scenario],
    bare_runs: dict[str, list[tuple[float, float]]],
) -> None:
    database = scenarios[0].database if scenarios else "?"
    print(
        f"\none reflection round to {args.members:,} members on {database}; bare clients with "
        f"{args.concurrency} in flight (plcbot's scheduler runs {PLCBOT_CONCURRENCY} jobs at once)"
    )
    bare = {kind: [took for took, _ in runs] for kind, runs in bare_runs.items()}
    for kind, label in BARE.items():
        runs = ", ".join(f"{t:.2f}s" for t in bare[kind])
        cpu = min(c for _, c in bare_runs[kind]) / args.members * 1e6
        print(
            f"{label}: {runs} (best {args.members / min(bare[kind]):,.0f}/s, {cpu:.0f} us CPU/post)"
        )
    header = ("scenario", "setup s", "1st s", "all s", "cpu s", "posts", "429s", "lost", "dupes")
    print(f"\n{header[0]:<24}" + "".join(f"{h:>8}" for h in header[1:]))
    for s in scenarios:
        print(
            f"{s.name:<24}{s.setup:8.1f}{s.first:8.2f}{s.last:8.2f}{s.cpu:8.2f}{s.fake['posts']:8d}"
            f"{s.fake['refused']:8d}{s.lost:8d}{s.fake['duplicated']:8d}"
        )
    print(
        "(setup: /team and /team sync; 1st, all: from the /reflect now request to the first and "
        "the last member's prompt; cpu: plcbot's CPU seconds meanwhile, all its threads; posts "
        "include the one reply in the channel)"
    )
    best = min(bare["aiohttp"])
    for s in scenarios:
        print(f"\n{s.name}: send jobs {s.jobs}, deliveries {s.deliveries}")
        print(f"  fake Slack saw: {dict(sorted(s.fake['calls'].items()))}")
        if not s.last:
            print(f"  FAILED: not every member had a prompt within {args.within:g}s")
        else:
            print(
                f"  {args.members / s.last:,.0f} prompts/s from the command, "
                f"{args.members / max(s.last - s.first, 1e-9):,.0f}/s from the first prompt, "
                f"{s.cpu / args.members * 1e6:.0f} us of plcbot's CPU per prompt"
            )
        if s.every == 0 and s.last:
            ratio = s.last / best
            print(
                f"  plcbot/bare aiohttp client: {ratio:.2f}x from the command, "
                f"{(s.last - s.first) / best:.2f}x from the first prompt (target <= 2x: "
                f"{'met' if ratio <= 2 else 'NOT met'}); plcbot/bare slack_sdk client: "
                f"{s.last / min(bare['slack_sdk']):.2f}x"
            )
        verdict = "every member got exactly one prompt" if s.ok else "FAILED"
        print(f"  {verdict}: {s.lost} lost, {s.fake['duplicated']} duplicated")
        own = ("bot", "adapters", "storage")
        notable = [
            (key, n)
            for key, n in s.log.items()
            if key[0] != "INFO" or (key[1].startswith(own) and n > 1)
        ]
        for (level, name, message), n in sorted(notable, key=lambda kv: -kv[1])[:8]:
            print(f"  logged {n} x {level} {name}: {message[:100]}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "postgres", nargs="?", help="a PostgreSQL server URL (a throw-away database is made)"
    )
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=PLCBOT_CONCURRENCY,
        help="the bare client's sends in flight (default: plcbot's scheduler concurrency)",
    )
    parser.add_argument("--every", type=int, default=20, help="(b): 429 every Nth post")
    parser.add_argument("--retry-after", type=float, default=1.0, help="(b): Retry-After s")
    parser.add_argument("--only", choices=("a", "b", "c"), help="run one scenario")
    parser.add_argument("--within", type=float, default=600.0, help="give up after this long")
    parser.add_argument("--serve-fake", type=int, metavar="MEMBERS", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve_fake is not None:
        asyncio.run(serve_fake(arguments.serve_fake))
    else:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger().setLevel(logging.INFO)
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.WARNING)
        sys.exit(asyncio.run(main(arguments)))
