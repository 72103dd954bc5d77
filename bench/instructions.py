"""Benchmark: instructions per Slack ``/commit`` and per reflection prompt, counted by valgrind.

Run by hand from the repository root (needs ``valgrind``; a few minutes a run)::

    .venv/bin/python -m bench.instructions commit            # instructions per /commit
    .venv/bin/python -m bench.instructions prompt            # per member of a reflection round
    .venv/bin/python -m bench.instructions commit --sizes 20 220

The other benchmarks time real work on a shared machine, where the same build measures 20-40%
apart from one hour to the next, so a change worth 10% cannot be told from the drift. This one
counts CPU instructions with ``valgrind --tool=callgrind``, which gives the same count for the
same work whatever else the machine is doing. It runs each workload at two sizes, each in a
fresh process under valgrind that counts only the measured part (from the first measured command
on; start-up, imports, warm-up and the round's ``/team sync`` are not counted), and reports the
difference divided by the difference in size: what one more command (or one more member) costs.
Counts still move by a percent or two between runs, because how many concurrent jobs share a
transaction depends on timing.

Everything runs in one process, through the real Slack adapter and a real SQLite file: the
signed requests of ``tests.slack.workspace``, the loopback fake Slack of
``tests.support.fake_slack``, and plcbot. So the count includes the client's signing and the
fake's answers beside plcbot's own work; compare two builds with the same command (for the
build in another worktree, run this file from there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.clock import FakeClock
from tests.conftest import START
from tests.slack.workspace import CHANNEL, fake_slack, running_slack

CHANNELS = 16  # /commit: as many channels as bench/slack_commands.py, so no channel's pace waits
PEOPLE = 8
COUNTING = "PLCBOT_BENCH_CALLGRIND"  # set in the measured process: turn counting on when told


def count_from_here() -> None:
    """Start counting instructions (callgrind runs with ``--instr-atstart=no``)."""
    if os.environ.get(COUNTING):
        subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True)


async def commits(count: int) -> None:
    """``count`` signed ``/commit`` commands, 16 at a time, after every person has used one in
    every channel (a first sight is stored once in a deployment's life)."""
    folder = tempfile.mkdtemp(prefix="plcbot-instructions-")
    url = f"sqlite+aiosqlite:///{folder}/plcbot.db"
    async with fake_slack() as fake, running_slack(url, FakeClock(START), fake) as ws:
        people = list(fake.users)[:PEOPLE]

        async def commit(n: int, channel: int, person: str) -> None:
            await ws.command(
                "/commit",
                f"try exit tickets {n} by Friday",
                user=person,
                channel=f"C{channel:04d}",
                channel_name=f"plc-{channel}",
            )

        for person in people:
            for channel in range(CHANNELS):
                await commit(0, channel, person)
        await ws.settled()
        count_from_here()
        work = iter(range(count))

        async def client(channel: int) -> None:
            for n in work:
                await commit(n, channel, people[n % len(people)])

        await asyncio.gather(*(client(c) for c in range(CHANNELS)))
        await ws.settled()
    shutil.rmtree(folder, ignore_errors=True)


async def prompts(members: int) -> None:
    """One reflection round (``/reflect now``) to ``members`` people in the team's channel."""
    folder = tempfile.mkdtemp(prefix="plcbot-instructions-")
    url = f"sqlite+aiosqlite:///{folder}/plcbot.db"
    async with fake_slack() as fake:
        ids = [f"U{n:05d}" for n in range(members)]
        for user in ids:
            fake.add_user(user, f"teacher{user}", tz="America/Chicago")
        fake.channel_members[CHANNEL] = fake.channel_members[CHANNEL] + ids
        async with running_slack(url, FakeClock(START), fake) as ws:
            await ws.command("/team")
            await ws.command("/team", "sync")
            await ws.settled()
            count_from_here()
            await ws.command("/reflect", "now")
            await ws.settled()
            while await ws.bot.core.scheduler.run_due():
                pass
            await ws.settled()
            sent = len(fake.calls_to("chat.postMessage"))
            if sent < members:
                raise RuntimeError(f"only {sent} prompts went out to {members} members")
    shutil.rmtree(folder, ignore_errors=True)


WORKLOADS = {"commit": commits, "prompt": prompts}
DEFAULT_SIZES = {"commit": (20, 120), "prompt": (100, 600)}


def counted(workload: str, size: int) -> int:
    """Instructions of one fresh process running ``workload`` at ``size``, under callgrind."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        workload,
        "--inner",
        str(size),
    ]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0", COUNTING: "1"}
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{workload} at {size} failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"))
    parser.add_argument("--inner", type=int, help=argparse.SUPPRESS)  # one run, under valgrind
    args = parser.parse_args()
    if args.inner is not None:
        asyncio.run(WORKLOADS[args.workload](args.inner))
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    small, large = args.sizes or DEFAULT_SIZES[args.workload]
    if large <= small:
        parser.error("the second size must be larger than the first")
    began = time.monotonic()
    low, high = counted(args.workload, small), counted(args.workload, large)
    each = (high - low) / (large - small)
    unit = "/commit" if args.workload == "commit" else "member"
    print(f"{args.workload}: {small} -> {low:,} instructions, {large} -> {high:,}")
    print(f"{each / 1e6:.2f} million instructions per {unit} ({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
