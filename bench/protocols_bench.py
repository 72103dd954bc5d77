"""How fast protocols load, step and persist. Run by hand; numbers go in reports, not tests.

    .venv/bin/python bench/protocols_bench.py [postgresql+asyncpg://user@host:5432/any]

Measures: loading and validating the whole library (start-up cost), the pure engine's steps
per second, and, through the real runner and database, contributions and "next" presses per
second in one session (each is a write transaction with a version check, plus the card update
in the console messenger, which here writes to nowhere). On SQLite it uses a temporary file;
given a PostgreSQL server URL it creates a throw-away database there and drops it afterwards,
so it never writes into an existing database.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import build_app
from bot.clock import FakeClock
from bot.settings import load_settings
from protocols import engine
from protocols.engine import Actor, Contribute, Next
from protocols.loader import load_library
from protocols.state import Person

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def bench_library() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        library = load_library()
    took = (time.perf_counter() - started) / rounds
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"library: {len(library)} protocols loaded and validated in {took * 1000:.1f} ms "
        f"(peak {peak / 1e6:.1f} MB)"
    )


def bench_engine() -> None:
    tuning = load_library().protocols["tuning"]
    people = tuple(Person(id=i, user_id=f"u{i}", name=f"P{i}") for i in range(1, 13))
    fac = Actor(people[0])
    n = 0
    started = time.perf_counter()
    while time.perf_counter() - started < 2:
        state, _ = engine.begin(
            tuning, now=T0, people=people, facilitator=people[0], presenter=people[1]
        )
        for i in range(len(tuning.steps) - 1):
            state, _ = engine.step(tuning, state, Next(fac), T0 + timedelta(minutes=i))
            state, _ = engine.step(tuning, state, Contribute(people[i + 2], "an idea"), T0)
            n += 2
    took = time.perf_counter() - started
    print(f"engine: {n / took:,.0f} steps/s (pure, tuning protocol, 12 people)")


async def bench_runner(url: str) -> None:
    from adapters.console.session import ConsoleSession

    clock = FakeClock(T0)
    settings = load_settings({"DATABASE_URL": url, "PLCBOT_TIMEZONE": "UTC"}, env_file=None)
    bot = build_app(settings, clock=clock, platforms=[])
    console = ConsoleSession(bot, write=lambda line: None, echo_input=False)
    async with bot.running():
        for line in ("/as ana", "/team", "/protocol start chalk-talk", "/protocol next"):
            await console.handle_line(line)
        count = 300
        started = time.perf_counter()
        for i in range(count):
            await console.handle_line(f"idea number {i}")
        took = time.perf_counter() - started
        print(
            f"runner ({bot.db.dialect}): {count / took:,.0f} contributions/s, "
            f"{took / count * 1000:.1f} ms each (event de-dup + identity + write)"
        )
        started = time.perf_counter()
        moves = 0
        for _ in range(20):
            await console.handle_line("/protocol back" if moves % 2 else "/protocol next")
            moves += 1
        took = time.perf_counter() - started
        print(
            f"runner ({bot.db.dialect}): {took / moves * 1000:.1f} ms per next/back "
            "(versioned write + timers + card update + announcement)"
        )


async def throwaway_postgres(server: str) -> None:
    import uuid

    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"plcbot_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    try:
        await bench_runner(make_url(server).set(database=name).render_as_string(False))
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def main() -> None:
    bench_library()
    bench_engine()
    if len(sys.argv) > 1:
        asyncio.run(throwaway_postgres(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(bench_runner(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"))


if __name__ == "__main__":
    main()
