"""Benchmark: signed slash commands against ``plcbot serve`` (SQLite) and a bare bolt app.

Run by hand from the repository root:

    .venv/bin/python bench/slack_commands.py                       # /team, 16 clients
    .venv/bin/python bench/slack_commands.py --command "/commit observe a colleague by Friday" \\
        --command "/protocol list" --duration 20

It starts the loopback fake Slack (``tests/support/fake_slack.py``), the bare bolt app
(``bench/bare_bolt_app.py``) and ``plcbot serve`` as separate processes on ports the OS
picks, then for each app in turn (bare, plcbot, bare, plcbot) sends signed slash commands from
``--clients`` concurrent clients for ``--duration`` seconds after a warm-up. It reports
acknowledged requests per second, the plcbot/bare ratio (target >= 0.8), ack latency
percentiles (target p99 < 100 ms), each app's CPU time per command, how long plcbot took to
deliver every answer after the load stopped, plcbot's start-up time (spawn to /readyz 200) and
its resident memory idle and after the load (target < 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TOKEN = "xoxb-plcbot-test-token"  # the fake's bot token
USERS = [f"U{n:04d}" for n in range(64)]


@dataclass
class Run:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    in_ack: int = 0  # acks that carried the command's answer (adapters/slack/answer.py)
    cpu: float = 0.0  # the app's CPU seconds during the run, answers still to follow included

    @property
    def cpu_ms(self) -> float:
        """The app's CPU milliseconds per acknowledged command."""
        return self.cpu / max(len(self.latencies), 1) * 1000

    @property
    def to_follow(self) -> int:
        """Commands whose answer goes to their response URL (the ack did not carry it)."""
        return len(self.latencies) - self.in_ack

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def first_line(stream, pattern: str) -> re.Match[str]:  # type: ignore[no-untyped-def]
    while True:
        line = await asyncio.to_thread(stream.readline)
        if not line:
            raise RuntimeError(f"process ended before printing {pattern!r}")
        match = re.search(pattern, line)
        if match:
            return match


class Load:
    def __init__(self, api_url: str, commands: list[tuple[str, str]], channels: int) -> None:
        self.verifier = SignatureVerifier(SECRET)
        self.response_base = api_url.removesuffix("/api/") + "/response/"
        self.commands = itertools.cycle(commands)
        self.channels = channels
        self.ids = itertools.count()
        self.seen: set[tuple[str, int]] = set()  # (user, channel) pairs sent so far
        self.turns: Counter[int] = Counter()

    @property
    def coverage(self) -> float:
        """The share of (person, channel) pairs sent so far: a pair's first sight is stored."""
        channels = {channel for _, channel in self.seen}
        return len(self.seen) / (len(USERS) * max(len(channels), 1))

    def request(self, client: int) -> tuple[str, dict[str, str]]:
        n = next(self.ids)
        command, text = next(self.commands)
        # each client (and so each channel) goes through everyone in turn
        user = USERS[(self.turns[client] + client) % len(USERS)]
        self.turns[client] += 1
        self.seen.add((user, client % self.channels))
        body = urlencode(
            {
                "token": "x",
                "team_id": "T0PLC",
                "team_domain": "bench",
                "channel_id": f"C{client % self.channels:04d}",
                "channel_name": f"plc-{client % self.channels}",
                "user_id": user,
                "user_name": f"teacher{int(user[1:])}",
                "command": command,
                "text": text,
                "api_app_id": "APLCBOT",
                "response_url": f"{self.response_base}{n}",
                "trigger_id": f"{n}.{client}.bench",
            }
        )
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=stamp, body=body),
        }
        return body, headers

    async def run(
        self, name: str, url: str, clients: int, seconds: float, rate: float | None = None
    ) -> Run:
        """Closed loop (each client sends again as soon as it is answered), or, with ``rate``,
        open loop: requests leave on a fixed schedule whatever the answers do."""
        result = Run(name, seconds)
        start = time.monotonic()
        deadline = start + seconds
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def client(index: int) -> None:
                sent = 0
                while time.monotonic() < deadline:
                    if rate:
                        due = start + (index + sent * clients) / rate
                        sent += 1
                        await asyncio.sleep(max(0.0, due - time.monotonic()))
                    body, headers = self.request(index)
                    began = time.perf_counter()
                    try:
                        async with http.post(url, data=body, headers=headers) as response:
                            carried = bool(await response.read())
                            ok = response.status == 200
                    except aiohttp.ClientError:
                        ok = False
                    if ok:
                        result.latencies.append(time.perf_counter() - began)
                        result.in_ack += carried
                    else:
                        result.errors += 1

            await asyncio.gather(*(client(i) for i in range(clients)))
        return result


async def fake_stats(http: aiohttp.ClientSession, api_url: str) -> dict[str, int]:
    async with http.get(api_url.removesuffix("/api/") + "/stats") as response:
        stats: dict[str, int] = await response.json()
        return stats


async def wait_ready(http: aiohttp.ClientSession, base: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            async with http.get(base + "/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.02)
    raise RuntimeError("plcbot did not become ready")


def parse_commands(raw: list[str]) -> list[tuple[str, str]]:
    out = []
    for entry in raw:
        command, _, text = entry.strip().partition(" ")
        out.append((command, text))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--command", action="append", help='e.g. "/team" (repeatable)')
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--rate", type=float, help="send this many requests per second in all (open loop)"
    )
    parser.add_argument(
        "--queue", type=int, help="PLCBOT_SLACK_QUEUE for plcbot (acknowledged, not yet handled)"
    )
    args = parser.parse_args()
    commands = parse_commands(args.command or ["/team"])

    python = sys.executable
    fake = start([python, "-m", "tests.support.fake_slack"])
    api_url = (await first_line(fake.stdout, r"^(http://\S+/api/)")).group(1)
    bare = start(
        [
            python,
            "bench/bare_bolt_app.py",
            "--api-url",
            api_url,
            "--token",
            TOKEN,
            "--secret",
            SECRET,
        ]
    )
    bare_port = int((await first_line(bare.stdout, r"^(\d+)")).group(1))

    folder = tempfile.mkdtemp(prefix="plcbot-bench-")
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/plcbot.db",
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "LOG_LEVEL": "INFO",
        "PLCBOT_TIMEZONE": "UTC",
    }
    if args.queue:
        env["PLCBOT_SLACK_QUEUE"] = str(args.queue)
    began = time.perf_counter()
    plcbot = start(
        [
            python,
            "-m",
            "bot",
            "--env-file",
            "/dev/null",
            "serve",
            "--port",
            "0",
            "--host",
            "127.0.0.1",
        ],
        env,
    )
    try:
        port = int((await first_line(plcbot.stderr, r"listening on http://[^:]+:(\d+)")).group(1))
        # keep plcbot's log drained (a full pipe would block it), and keep it for the report
        log_text = asyncio.get_running_loop().run_in_executor(None, plcbot.stderr.read)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            await wait_ready(http, base)
            startup = time.perf_counter() - began
            await asyncio.sleep(3)
            idle = rss_mb(plcbot.pid)

            load = Load(api_url, commands, args.channels)
            targets = {
                "bare bolt": f"http://127.0.0.1:{bare_port}/slack/events",
                "plcbot": f"{base}/slack/events",
            }
            pids = {"bare bolt": bare.pid, "plcbot": plcbot.pid}
            for name, url in targets.items():
                # The warm-up lasts until every person has used a command in every channel:
                # a first sight stores the person and the membership (once in a deployment's
                # life), which is not what the rounds measure.
                before = (await fake_stats(http, api_url)).get("response_url", 0)
                load.seen.clear()
                sent = (await load.run(name, url, args.clients, args.warmup)).to_follow
                for _ in range(30):
                    if load.coverage >= 1:
                        break
                    sent += (await load.run(name, url, args.clients, 1.0)).to_follow
                print(f"{name} warmed up: {load.coverage:.0%} of person-channel pairs seen")
                if name == "plcbot":  # every round starts idle: the warm-up's answers are out
                    await answered(http, api_url, before + sent)
            await asyncio.sleep(2)

            runs: dict[str, list[Run]] = {name: [] for name in targets}
            drains: list[float] = []
            for _ in range(args.rounds):
                for name, url in targets.items():
                    before = (await fake_stats(http, api_url)).get("response_url", 0)
                    cpu = cpu_seconds(pids[name])
                    run = await load.run(name, url, args.clients, args.duration, args.rate)
                    runs[name].append(run)
                    if name == "plcbot":
                        stopped = time.perf_counter()
                        await answered(http, api_url, before + run.to_follow)
                        drains.append(time.perf_counter() - stopped)
                    run.cpu = cpu_seconds(pids[name]) - cpu
            loaded = rss_mb(plcbot.pid)
            stats = await fake_stats(http, api_url)
        report(args, commands, runs, drains, startup, idle, loaded, stats)
        began = time.perf_counter()
        plcbot.terminate()
        plcbot.wait(60)
        print(f"plcbot stopped {time.perf_counter() - began:.1f}s after SIGTERM")
        full_log = await log_text
        await asyncio.to_thread(Path(folder, "plcbot.log").write_text, full_log)
        print(f"plcbot's log: {folder}/plcbot.log")
        problems = [ln for ln in full_log.splitlines() if " WARNING " in ln or " ERROR " in ln]
        print(f"plcbot logged {len(problems)} warnings/errors" + (":" if problems else ""))
        for line in dict.fromkeys(ln.split(": ", 1)[-1][:160] for ln in problems[:200]):
            print("   ", line)
    finally:
        for process in (plcbot, bare, fake):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()


async def answered(http: aiohttp.ClientSession, api_url: str, expected: int) -> None:
    """Wait (up to two minutes) until the fake has received ``expected`` answers in all."""
    began = time.perf_counter()
    while (await fake_stats(http, api_url)).get("response_url", 0) < expected:
        if time.perf_counter() - began > 120:
            return
        await asyncio.sleep(0.05)


def report(  # type: ignore[no-untyped-def]
    args, commands, runs, drains, startup, idle, loaded, stats
) -> None:
    print(
        f"\ncommands: {', '.join(' '.join(c).strip() for c in commands)}; "
        f"{args.clients} clients, {args.channels} channels, {args.rounds} x {args.duration:g}s"
    )
    header = ("app", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "CPU ms")
    print(f"{header[0]:<10}" + "".join(f"{h:>9}" for h in header[1:]) + "  errors")
    for name, results in runs.items():
        for run in results:
            print(
                f"{name:<10} {run.rps:9.0f} {run.percentile(0.5):9.1f} {run.percentile(0.9):9.1f}"
                f"{run.percentile(0.99):9.1f}{max(run.latencies) * 1000:9.1f}{run.cpu_ms:9.2f}"
                f"  {run.errors:6d}"
            )
    bare_rps = statistics.median(r.rps for r in runs["bare bolt"])
    plc_rps = statistics.median(r.rps for r in runs["plcbot"])
    p99 = max(r.percentile(0.99) for r in runs["plcbot"])
    print(f"ratio plcbot/bare: {plc_rps / bare_rps:.2f} (target >= 0.8)")
    print(f"plcbot p99 ack latency: {p99:.1f} ms (target < 100 ms)")
    print("(CPU ms: the app's own CPU time per acknowledged command, read from /proc)")
    handled = sum(len(r.latencies) for r in runs["plcbot"])
    carried = sum(r.in_ack for r in runs["plcbot"])
    print(f"plcbot answers carried in the ack: {carried / max(handled, 1):.0%}")
    busy = sum(r.seconds for r in runs["plcbot"]) + sum(drains)
    print(
        f"plcbot answers delivered {max(drains):.2f}s after the load stopped (worst round); "
        f"sustained {handled / busy:.0f} answered commands/s"
    )
    print(f"plcbot start-up (spawn to /readyz 200): {startup:.2f}s")
    print(f"plcbot RSS: idle {idle:.0f} MB, after load {loaded:.0f} MB (target < 150 MB)")
    print(f"fake Slack saw: {dict(sorted(stats.items()))}")


if __name__ == "__main__":
    asyncio.run(main())
