"""Benchmark: ``/commitments summary`` for one team among 500 teams and 100,000 commitments.

Run by hand (not part of the tests):

    .venv/bin/python bench/commitments_summary.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/commitments_summary.py --only sqlite --runs 100

It seeds a scratch database (a temporary SQLite file; a PostgreSQL database it creates and
drops through the admin URL), then times the same call the command handler makes
(``Reports.summary_card``: the query, the figures, the chart PNG) for teams picked at random,
and prints the median and 90th percentile per period, the query alone, and the query plan.
``--without-index`` (PostgreSQL) also times it after dropping the two indexes that lead with
``team_id``, to show what they are worth. Target: a median under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Date, bindparam, insert, select, text
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.clock import FakeClock
from bot.commitment import CommitmentsFeature
from bot.settings import load_settings
from storage import commitments as repo
from storage import identity, migrate
from storage.commitments import (
    CommitmentCounterRow,
    CommitmentEventRow,
    CommitmentPeerRow,
    CommitmentRow,
)
from storage.db import Database
from storage.models import MemberRow, TeamMemberRow, TeamRow, WorkspaceRow

ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
TODAY = NOW.date()
STATUSES = ("done",) * 5 + ("partly",) * 2 + ("not_yet", "dropped") + ("open",) * 3
CODES = ("A1", "A2", "A4", "A5", "B1", "B2", "B3", "B4", "C3", "C5")
WORDS = (
    "exit tickets",
    "think-pair-share",
    "sentence frames",
    "peer observation",
    "family phone calls",
    "reading conferences",
    "math talks",
    "rubric calibration",
)


async def seed(db: Database, teams: int, commitments: int, members_per_team: int) -> None:
    rng = random.Random(7)
    per_team = commitments // teams
    async with db.write() as s:
        ws = (
            await s.execute(
                insert(WorkspaceRow)
                .values(platform="console", external_id="bench", created_at=NOW)
                .returning(WorkspaceRow.id)
            )
        ).scalar_one()
        await s.execute(
            insert(TeamRow),
            [
                {
                    "workspace_id": ws,
                    "conversation_id": f"team{t}",
                    "name": f"Team {t}",
                    "settings": {},
                    "created_at": NOW,
                }
                for t in range(teams)
            ],
        )
        team_ids = list((await s.scalars(select(TeamRow.id).order_by(TeamRow.id))).all())
        await s.execute(
            insert(MemberRow),
            [
                {
                    "workspace_id": ws,
                    "user_id": f"u{t}-{m}",
                    "display_name": f"Teacher {t}-{m}",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for t in range(teams)
                for m in range(members_per_team)
            ],
        )
        member_ids = list((await s.scalars(select(MemberRow.id).order_by(MemberRow.id))).all())
        roster = {
            team: member_ids[i * members_per_team : (i + 1) * members_per_team]
            for i, team in enumerate(team_ids)
        }
        await s.execute(
            insert(TeamMemberRow),
            [
                {
                    "team_id": team,
                    "member_id": m,
                    "role": "lead" if j == 0 else "member",
                    "active": True,
                    "joined_at": NOW,
                }
                for team, people in roster.items()
                for j, m in enumerate(people)
            ],
        )
    rows: list[dict[str, Any]] = []
    peers: list[tuple[int, int]] = []
    for team in team_ids:
        people = roster[team]
        for number in range(1, per_team + 1):
            due = TODAY + timedelta(days=rng.randint(-150, 30))
            status = rng.choice(STATUSES) if due <= TODAY else rng.choice(("open",) * 4 + ("done",))
            owner = rng.choice(people)
            rows.append(
                {
                    "team_id": team,
                    "number": number,
                    "owner_id": owner,
                    "what": f"Try {rng.choice(WORDS)} with period {rng.randint(1, 6)}",
                    "how_know": "Most students show the key idea",
                    "due_on": due,
                    "status": status,
                    "visibility": "private" if rng.random() < 0.2 else "shared",
                    "indicators": rng.sample(CODES, rng.randint(0, 2)),
                    "outcome_note": None if status == "open" else "It went fine.",
                    "reported_at": None if status == "open" else NOW,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if rng.random() < 0.7:
                peers.append((len(rows), rng.choice([p for p in people if p != owner])))
    chunk = 5000
    for start in range(0, len(rows), chunk):
        async with db.write() as s:
            await s.execute(insert(CommitmentRow), rows[start : start + chunk])
    async with db.read() as s:
        ids = list((await s.scalars(select(CommitmentRow.id).order_by(CommitmentRow.id))).all())
    links = [{"commitment_id": ids[i - 1], "member_id": m} for i, m in peers]
    events = [
        {"commitment_id": cid, "at": NOW, "actor_id": None, "kind": "created", "detail": {}}
        for cid in ids
    ]
    for start in range(0, len(ids), chunk):
        async with db.write() as s:
            if links[start : start + chunk]:
                await s.execute(insert(CommitmentPeerRow), links[start : start + chunk])
            await s.execute(insert(CommitmentEventRow), events[start : start + chunk])
    async with db.write() as s:
        await s.execute(
            insert(CommitmentCounterRow),
            [{"team_id": t, "last_number": per_team} for t in team_ids],
        )
        await s.execute(text("ANALYZE"))


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    await call()  # warm the connection pool and caches once
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"  {label:<34} median {statistics.median(samples):7.2f} ms   p90 {p90:7.2f} ms   "
        f"max {ordered[-1]:7.2f} ms"
    )


async def plan(db: Database, team_id: int) -> list[str]:
    since = TODAY - timedelta(days=40)
    sql = (
        "SELECT id FROM commitments WHERE team_id = :t AND (status IN ('open', 'not_yet') "
        "OR due_on >= :d) ORDER BY due_on, number"
    )
    prefix = "EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN ANALYZE "
    async with db.engine.connect() as conn:
        query = text(prefix + sql).bindparams(bindparam("d", type_=Date()))
        result = await conn.execute(query, {"t": team_id, "d": since})
        return [" ".join(str(v) for v in row) for row in result.all()]


async def measure(url: str, args: argparse.Namespace) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        started = time.perf_counter()
        await seed(db, args.teams, args.commitments, args.members)
        print(
            f"  seeded {args.teams} teams, {args.commitments:,} commitments "
            f"in {time.perf_counter() - started:.1f} s"
        )
    finally:
        await db.close()
    settings = load_settings({"DATABASE_URL": url, "PLCBOT_TIMEZONE": "UTC"}, env_file=None)
    bot = build_app(settings, clock=FakeClock(NOW), platforms=[])
    feature = bot.feature(CommitmentsFeature)
    assert isinstance(feature, CommitmentsFeature)
    rng = random.Random(11)
    async with bot.db.read() as s:
        team_ids = list((await s.scalars(select(TeamRow.id))).all())
        teams = {t: await identity.get_team(s, t) for t in rng.sample(team_ids, 50)}
        leads = dict(
            (
                await s.execute(
                    select(TeamMemberRow.team_id, TeamMemberRow.member_id).where(
                        TeamMemberRow.role == "lead"
                    )
                )
            ).all()
        )

    def summary_for(period: str) -> Callable[[], Awaitable[object]]:
        async def run() -> object:
            team_id = rng.choice(list(teams))
            team = teams[team_id]
            assert team is not None
            return await feature.reports.summary_card(team, leads[team_id], period)

        return run

    async def query_only() -> object:
        team_id = rng.choice(list(teams))
        async with bot.db.read() as s:
            return await repo.for_team(s, team_id, due_from=TODAY - timedelta(days=40), active=True)

    try:
        for period in ("this week", "this month", "term"):
            print(line(f"summary {period}", await timed(summary_for(period), args.runs)))
        print(line("its query alone (this month)", await timed(query_only, args.runs)))
        sample = next(iter(teams))
        print("  query plan:")
        for row in await plan(bot.db, sample):
            print("    " + row)
        if args.without_index and bot.db.is_postgres:
            # SQLite can't drop a UNIQUE constraint's index without rebuilding the table.
            async with bot.db.write() as s:
                await s.execute(text("DROP INDEX ix_commitments_team_due"))
                await s.execute(
                    text("ALTER TABLE commitments DROP CONSTRAINT uq_commitments_team_id_number")
                )
                await s.execute(text("ANALYZE commitments"))
            label = "without team indexes"
            print(line(f"summary this month, {label}", await timed(summary_for("this month"), 20)))
            for row in await plan(bot.db, sample):
                print("    " + row)
    finally:
        await bot.db.close()


def pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_postgres(args: argparse.Namespace) -> None:
    name = f"plcbot_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_dsn(args.admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        print(f"PostgreSQL (scratch database {name}):")
        await measure(url, args)
    finally:
        admin = await asyncpg.connect(pg_dsn(args.admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--teams", type=int, default=500)
    parser.add_argument("--commitments", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=10, help="members per team")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--without-index", action="store_true")
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            print("SQLite (temporary file):")
            await measure(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", args)
    if args.only in (None, "postgres"):
        await run_postgres(args)


if __name__ == "__main__":
    asyncio.run(main())
