"""The ``plcbot`` command.

Every failure a person can fix (a wrong setting, an unreachable database) ends with one line
naming the setting and what is wrong, and a non-zero exit code; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.settings import DEFAULT_ENV_FILE, Settings, SettingsError, parse_port, settings_from
from bot.textfile import UnreadableFile, read_text
from storage.db import DatabaseUnavailable

EXIT_CONFIG = 2

CommandRunner = Callable[[argparse.Namespace], int]
# Modules that add subcommands; each has ``add_parser(subparsers) -> None`` and sets ``run``.
EXTENSIONS: list[str] = ["protocols.cli", "adapters.teams.manifest"]


def setup_logging(level: str, *, quiet: bool = False) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else getattr(logging, level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("apscheduler", "aiohttp.access", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _settings(args: argparse.Namespace) -> Settings:
    return settings_from(args)


def cmd_console(args: argparse.Namespace) -> int:
    from adapters.console.session import (
        ConsoleSession,
        lines_from,
        lines_from_stdin,
        parse_start,
    )
    from bot.app import build_app
    from bot.clock import FakeClock

    script: list[str] | None = None
    if args.script:  # read whole before plcbot starts, so a bad file changes nothing
        try:
            script = read_text(Path(args.script)).splitlines()
        except UnreadableFile as exc:
            raise SettingsError(f"--script: {exc}") from None
    settings = _settings(args)
    scripted = bool(args.script) or not sys.stdin.isatty()
    setup_logging(settings.log_level, quiet="LOG_LEVEL" not in os.environ)
    try:
        start = parse_start(args.start, settings.zone)
    except ValueError:
        raise SettingsError(
            f"--start: {args.start!r} is not a date and time like 2026-12-01T09:00"
        ) from None
    clock = FakeClock(start, ticking=not scripted)
    bot = build_app(settings, clock=clock, platforms=[])
    session = ConsoleSession(bot, echo_input=scripted, files_dir=Path(args.files))

    async def main() -> None:
        async with bot.running():
            if script is not None:
                lines = lines_from(script)
            else:
                lines = lines_from_stdin(None if scripted else (lambda: session.prompt))
            await session.run(lines)

    asyncio.run(main())
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.app import build_app
    from bot.server import serve

    settings = _settings(args)
    setup_logging(settings.log_level)
    if not settings.slack_enabled and not settings.teams_enabled:
        logging.getLogger("plcbot").warning(
            "no chat platform is configured (set SLACK_BOT_TOKEN or MICROSOFT_APP_ID); "
            "serving health checks only"
        )
    bot = build_app(settings)
    asyncio.run(
        serve(
            bot,
            host=args.host or settings.host,
            port=settings.port if args.port is None else parse_port(args.port),
        )
    )
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import Database

    settings = _settings(args)
    setup_logging(settings.log_level, quiet=True)

    async def main() -> int:
        db = Database(settings.database_url)
        try:
            await db.ping()
            if args.action == "upgrade":
                await migrate.upgrade(db)
                print(f"database is at {', '.join(sorted(await migrate.current_heads(db)))}")
            else:
                current = await migrate.current_heads(db)
                expected = migrate.expected_heads()
                state = "current" if current == expected else "needs `plcbot db upgrade`"
                print(f"database: {', '.join(sorted(current)) or '(empty)'} ({state})")
                return 0 if current == expected else 1
            return 0
        finally:
            await db.close()

    return asyncio.run(main())


def cmd_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = settings.describe()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plcbot",
        description="A chat bot for teachers' professional learning communities.",
    )
    parser.add_argument(
        "--env-file", help=f"settings file to read (default {DEFAULT_ENV_FILE}, if there is one)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    console = sub.add_parser(
        "console", help="talk to plcbot in this terminal (no credentials needed)"
    )
    console.add_argument(
        "--script", help="run the lines of this file instead of reading the keyboard"
    )
    console.add_argument("--start", help="start the clock at this time, e.g. 2026-12-01T09:00")
    console.add_argument("--files", default="plcbot-files", help="folder for exported files")
    console.set_defaults(run=cmd_console)

    serve = sub.add_parser("serve", help="run the web server for Slack and Teams")
    serve.add_argument("--host", help="address to listen on (default HOST or 0.0.0.0)")
    serve.add_argument("--port", help="port to listen on (default PORT or 3000)")
    serve.set_defaults(run=cmd_serve)

    db = sub.add_parser("db", help="database schema: upgrade or show the current revision")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(run=cmd_db)

    config = sub.add_parser("config", help="show the settings plcbot will use (secrets masked)")
    config.set_defaults(run=cmd_config)

    import importlib

    for module_name in EXTENSIONS:
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.run(args)
        return result
    except (SettingsError, DatabaseUnavailable) as exc:
        print(f"plcbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
