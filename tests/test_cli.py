"""The ``plcbot`` command as an IT person meets it: clear one-line errors, working commands."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def plcbot(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd or ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/plc"}, "DATABASE_URL: unsupported database"),
        ({"DATABASE_URL": "sqlite:////nonexistent-dir/x/plcbot.db"}, "DATABASE_URL: the folder"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL: unknown level"),
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "DATABASE_URL: cannot connect"),
    ],
)
def test_a_bad_setting_is_one_clear_line(
    env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    result = plcbot("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("plcbot: " + expected)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_an_unwritable_database_folder_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.db import Database, DatabaseUnavailable

    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as if the folder were read-only
    with pytest.raises(DatabaseUnavailable, match=r"DATABASE_URL: .* is not writable"):
        Database(f"sqlite+aiosqlite:///{tmp_path}/plc.db")


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/plc.db"}
    before = plcbot("db", "current", env=env)
    assert before.returncode == 1 and "needs `plcbot db upgrade`" in before.stdout
    assert plcbot("db", "upgrade", env=env).returncode == 0
    after = plcbot("db", "current", env=env)
    assert after.returncode == 0 and "(current)" in after.stdout


def test_console_reads_piped_input_on_a_fresh_folder(tmp_path: Path) -> None:
    """The README's promise: no set-up, no credentials, the SQLite default in the current folder."""
    result = plcbot("console", cwd=tmp_path, stdin="/help\n/team\n")
    assert result.returncode == 0, result.stderr
    assert "/team" in result.stdout and "Commands:" in result.stdout
    assert (tmp_path / "plcbot.db").exists()


def test_console_runs_a_script_file(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_text("# a comment\n/as maria\n/team\n/clock +1h\n")
    result = plcbot("console", "--script", str(script), "--start", "2026-11-23T09:00", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "# a comment" in result.stdout and "maria@#plc> /team" in result.stdout
    assert "Mon 2026-11-23 10:00" in result.stdout


def test_config_masks_secrets(tmp_path: Path) -> None:
    result = plcbot(
        "config",
        env={
            "SLACK_BOT_TOKEN": "xoxb-123456789-secret",
            "SLACK_SIGNING_SECRET": "abcdefabcdef1234",
        },
        cwd=tmp_path,
    )
    assert result.returncode == 0
    assert "secret" not in result.stdout.replace("SLACK_SIGNING_SECRET", "")
    assert "SLACK_BOT_TOKEN" in result.stdout


def _serve(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_"))}
    full_env.update({"PORT": "0", "HOST": "127.0.0.1", **env})
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=cwd,
        env=full_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "listening on http://" in line:
            return proc, line.strip().split("listening on ")[1]
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("plcbot serve did not start")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.parametrize("which", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_serve_answers_health_checks_and_stops_on_sigterm(
    which: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path}/plc.db" if which == "sqlite" else request.getfixturevalue("pg_url")
    proc, base = _serve({"DATABASE_URL": url}, tmp_path)
    try:
        assert _get(base + "/healthz") == (200, '{"status": "ok"}')
        status, body = _get(base + "/readyz")
        assert status == 200 and '"ready"' in body
        assert _get(base + "/slack/events")[0] in (404, 405)  # no platform configured
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        rest = proc.stderr.read() if proc.stderr else ""
    assert "plcbot stopped" in rest and "Traceback" not in rest


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"/as maria\n/team caf\xe9\n",
            "is not UTF-8 text (byte 20 is not valid UTF-8); save it as UTF-8",
        ),
        (None, "does not exist"),
    ],
)
def test_an_unreadable_script_is_one_clear_line_and_changes_nothing(
    content: bytes | None, expected: str, tmp_path: Path
) -> None:
    script = tmp_path / "demo.txt"
    if content is not None:
        script.write_bytes(content)
    result = plcbot("console", "--script", str(script), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"plcbot: --script: {str(script)!r} {expected}\n"
    assert not (tmp_path / "plcbot.db").exists()  # refused before plcbot started


def test_a_script_saved_with_a_byte_order_mark_still_runs(tmp_path: Path) -> None:
    script = tmp_path / "demo.txt"
    script.write_bytes("\ufeff/as maria\n/team\n".encode())
    result = plcbot("console", "--script", str(script), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "me@#plc> /as maria\n  (you are now Maria)\nmaria@#plc> /team" in result.stdout


def test_a_named_env_file_must_exist_and_be_text(tmp_path: Path) -> None:
    missing = plcbot("--env-file", str(tmp_path / "nope.env"), "config", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == f"plcbot: --env-file: {str(tmp_path / 'nope.env')!r} does not exist\n"
    folder = plcbot("--env-file", str(tmp_path), "config", cwd=tmp_path)
    assert folder.returncode == 2 and "is a folder, not a file" in folder.stderr
    (tmp_path / "latin1.env").write_bytes(b"PLCBOT_TIMEZONE=Europe/Paris\n# caf\xe9\n")
    latin1 = plcbot("--env-file", str(tmp_path / "latin1.env"), "config", cwd=tmp_path)
    assert latin1.returncode == 2 and "is not UTF-8 text" in latin1.stderr
    assert len(latin1.stderr.splitlines()) == 1 and "Traceback" not in latin1.stderr
    # Without --env-file a missing .env is fine, and a named file that exists is read.
    assert plcbot("config", cwd=tmp_path).returncode == 0
    (tmp_path / "plc.env").write_text("PLCBOT_TIMEZONE=Europe/Paris\n")
    named = plcbot("--env-file", str(tmp_path / "plc.env"), "config", cwd=tmp_path)
    assert named.returncode == 0 and "Europe/Paris" in named.stdout
