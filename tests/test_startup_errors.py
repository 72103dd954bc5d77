"""A wrong setting found only when plcbot starts (or is probed) is still one clear line."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.clock import FakeClock
from bot.server import build_web_app
from bot.settings import load_settings
from storage.db import Database

ROOT = Path(__file__).resolve().parents[1]


def plcbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "PLCBOT_", "DATABASE_URL", "PORT", "HOST"))
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_clear_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit 2 and the last line names the problem; log lines may come before it, no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("plcbot: " + expected), result.stderr


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port the OS chose, held open by a listening socket so plcbot cannot have it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port: int = sock.getsockname()[1]
        yield port


def test_serve_on_a_port_in_use_is_one_line_after_stopping(held_port: int, tmp_path: Path) -> None:
    env = {"HOST": "127.0.0.1", "PORT": str(held_port), "DATABASE_URL": "sqlite:///plc.db"}
    result = plcbot("serve", env=env, cwd=tmp_path)
    one_clear_line(result, f"PORT: port {held_port} on 127.0.0.1 is in use; set PORT")
    assert "plcbot stopped" in result.stderr  # the scheduler and database were shut down


def test_serve_on_a_host_that_does_not_resolve_is_one_line(tmp_path: Path) -> None:
    env = {"HOST": "no-such-host.invalid", "PORT": "0", "DATABASE_URL": "sqlite:///plc.db"}
    result = plcbot("serve", env=env, cwd=tmp_path)
    one_clear_line(result, "HOST: 'no-such-host.invalid' is not an address or a name")
    assert "plcbot stopped" in result.stderr


def test_serve_with_a_port_option_out_of_range_starts_nothing(tmp_path: Path) -> None:
    env = {"HOST": "127.0.0.1", "DATABASE_URL": "sqlite:///plc.db"}
    result = plcbot("serve", "--port", "70000", env=env, cwd=tmp_path)
    one_clear_line(result, "PORT: 70000 is outside 0-65535")
    assert not (tmp_path / "plc.db").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "abc"}, "PORT: expected a number, got 'abc'"),
        ({"PORT": "70000"}, "PORT: 70000 is outside 0-65535"),
        ({"DATABASE_URL": "postgresql://u@db:abc/plc"}, "DATABASE_URL: postgresql+asyncpg://"),
        ({"DATABASE_URL": "sqlite+aiosqlite://"}, "DATABASE_URL: an in-memory SQLite database"),
        ({"DATABASE_URL": "postgresql://u@db/plc?sslmod=require"}, "DATABASE_URL: plcbot does"),
        ({"PLCBOT_REFLECT_GRACE": "soon"}, "PLCBOT_REFLECT_GRACE: 'soon' is not a duration"),
        ({"PLCBOT_COMMITMENTS_NUDGE_TIME": "25:00"}, "PLCBOT_COMMITMENTS_NUDGE_TIME: '25:00'"),
        ({"PLCBOT_SCHOOL_WEEKEND": "fun"}, "PLCBOT_SCHOOL_WEEKEND: 'fun' is not a weekday"),
    ],
)
def test_config_checks_every_setting(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    one_clear_line(plcbot("config", env=env, cwd=tmp_path), expected)


def test_config_shows_the_feature_settings_in_use(tmp_path: Path) -> None:
    env = {
        "PLCBOT_SCHOOL_WEEKEND": "Fri, Sat",
        "PLCBOT_SCHOOL_CALENDAR": "https://calendar.example.org/ical/private-s3cr3t/basic.ics",
        "PLCBOT_COMMITMENTS_NUDGE_TIME": "7:05",
    }
    result = plcbot("config", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines() if " " in line.strip())
    assert rows["PLCBOT_SCHOOL_WEEKEND"].strip() == "fri,sat"
    assert rows["PLCBOT_COMMITMENTS_NUDGE_TIME"].strip() == "07:05"
    assert rows["PLCBOT_REFLECT_GRACE"].strip() == "6h"
    assert rows["PLCBOT_SCHOOL_CALENDAR"].strip() == "https://calendar.example.org/****"
    assert "s3cr3t" not in result.stdout


@pytest.mark.postgres
def test_sslmode_in_a_postgres_url_reaches_the_driver(pg_url: str, tmp_path: Path) -> None:
    """libpq's sslmode used to be an asyncpg TypeError traceback; now the server is asked."""
    result = plcbot(
        "db", "current", env={"DATABASE_URL": pg_url + "?sslmode=require"}, cwd=tmp_path
    )
    if result.returncode == 2:  # the test server may run without TLS: then that is the line
        one_clear_line(result, "DATABASE_URL: cannot connect to")
        assert "SSL" in result.stderr
    else:
        assert "(needs `plcbot db upgrade`)" in result.stdout or "(current)" in result.stdout
        assert "Traceback" not in result.stderr


@pytest.mark.postgres
async def test_libpq_options_in_a_postgres_url_are_used(pg_url: str) -> None:
    url = (
        pg_url
        + "?sslmode=disable&application_name=plcbot-check&connect_timeout=5"
        + "&options=-c%20statement_timeout%3D4321"
    )
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            name = (await conn.execute(text("SHOW application_name"))).scalar()
            timeout = (await conn.execute(text("SHOW statement_timeout"))).scalar()
            tls = (
                await conn.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
            ).scalar()
    finally:
        await db.close()
    assert (name, timeout, tls) == ("plcbot-check", "4321ms", False)


async def test_readyz_is_503_when_the_schema_check_itself_fails(
    sqlite_url: str, clock: FakeClock
) -> None:
    settings = load_settings({"DATABASE_URL": sqlite_url}, env_file=None)
    bot = build_app(settings, clock=clock, platforms=[])
    async with bot.running():
        # Damage the schema the way a hand-edited database might: the check can't read it.
        path = make_url(sqlite_url).database
        assert path is not None
        with sqlite3.connect(path) as raw:
            raw.execute("ALTER TABLE alembic_version RENAME COLUMN version_num TO damaged")
        runner = web.AppRunner(build_web_app(bot), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://{host}:{port}/readyz") as response,
            ):
                status, body = response.status, json.loads(await response.text())
        finally:
            await runner.cleanup()
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["reason"].startswith("the database check failed (OperationalError)")
    assert "damaged" not in body["reason"] and "SELECT" not in body["reason"]
