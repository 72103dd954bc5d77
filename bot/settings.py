"""Settings, read once from the environment (and an optional ``.env``), validated up front.

A school's IT person sees one line naming the setting and what is wrong with it, never a
traceback; secrets never appear in ``repr`` or logs.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.textfile import UnreadableFile, read_text
from storage.db import DatabaseUnavailable, check_url, mask_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./plcbot.db"
_SECRETS = {
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "slack_client_secret",
    "microsoft_app_password",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it and says how to fix it."""


def _mask(value: str | None) -> str | None:
    return None if not value else "****" + (value[-4:] if len(value) > 12 else "")


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "0.0.0.0"
    port: int = 3000
    log_level: str = "INFO"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    microsoft_app_id: str | None = None
    microsoft_app_password: str | None = None
    microsoft_app_tenant_id: str | None = None
    teams_allow_anonymous: bool = False
    protocols_dir: Path | None = None
    timezone: str = "UTC"
    extra: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):
            if f.name == "extra":
                continue
            value: Any = getattr(self, f.name)
            if f.name in _SECRETS:
                value = _mask(value)
            elif f.name == "database_url":
                value = mask_url(value)
            shown.append(f"{f.name}={value!r}")
        return "Settings(" + ", ".join(shown) + ")"

    __str__ = __repr__

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token or self.slack_client_id)

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id or self.teams_allow_anonymous)

    def describe(self) -> list[tuple[str, str]]:
        """(ENV_NAME, shown value) pairs for ``plcbot config``, secrets masked."""
        rows = []
        for f in fields(self):
            if f.name == "extra":
                continue
            name = _ENV_NAMES.get(f.name, f.name.upper())
            value: Any = getattr(self, f.name)
            if f.name in _SECRETS:
                value = _mask(value)
            elif f.name == "database_url":
                value = mask_url(value)
            rows.append((name, "" if value is None else str(value)))
        return rows + feature_settings(self)

    def get(self, name: str, default: str | None = None) -> str | None:
        """Read a further ``PLCBOT_*`` setting that a feature owns (validated by that feature)."""
        return self.extra.get(name, default)


_ENV_NAMES = {
    "protocols_dir": "PLCBOT_PROTOCOLS_DIR",
    "timezone": "PLCBOT_TIMEZONE",
}


def normalise_database_url(url: str) -> str:
    """Accept the URL forms IT people paste (``postgres://``) and pick the async driver."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(
            f"DATABASE_URL: {url!r} is not a URL; use e.g. {DEFAULT_DATABASE_URL} or "
            "postgresql+asyncpg://user:password@host:5432/plcbot"
        )
    aliases = {
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
    }
    driver = aliases.get(scheme.lower())
    if driver is None:
        raise SettingsError(
            f"DATABASE_URL: unsupported database {scheme!r}; plcbot runs on SQLite "
            "(sqlite+aiosqlite:///path.db) or PostgreSQL (postgresql+asyncpg://...)"
        )
    url = f"{driver}://{rest}"
    try:
        check_url(url)
    except DatabaseUnavailable as exc:
        raise SettingsError(str(exc)) from None
    if driver.startswith("postgresql") and not urlsplit(url).hostname:
        raise SettingsError("DATABASE_URL: the PostgreSQL URL names no host")
    return url


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


DEFAULT_ENV_FILE = ".env"


def parse_port(raw: str) -> int:
    """``PORT`` (or ``--port``, which sets it for one run) as a port number."""
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"PORT: expected a number, got {raw!r}") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"PORT: {port} is outside 0-65535")
    return port


def settings_from(args: argparse.Namespace) -> Settings:
    """A ``plcbot`` command's settings: a file named with ``--env-file`` must be there (a
    mistyped path would silently run with other settings, the default database, say); the
    default ``.env`` is read when there is one."""
    named: str | None = getattr(args, "env_file", None)
    return load_settings(env_file=named or DEFAULT_ENV_FILE, env_required=named is not None)


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: str | Path | None = DEFAULT_ENV_FILE,
    env_required: bool = False,
) -> Settings:
    """Real environment variables win over ``.env``, so a deployment can override the file.

    A settings file that is there but can't be read (a folder, not UTF-8) is an error, not
    skipped; a missing one is an error only when ``env_required``."""
    values: dict[str, str] = {}
    if env_file is not None:
        try:
            content = read_text(Path(env_file))
        except UnreadableFile as exc:
            if env_required or not exc.missing:
                label = "--env-file" if env_required else "settings file"
                raise SettingsError(f"{label}: {exc}") from None
        else:
            found = dotenv_values(stream=io.StringIO(content))
            values.update({k: v for k, v in found.items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def opt(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw and raw.strip() else None

    database_url = normalise_database_url(opt("DATABASE_URL") or DEFAULT_DATABASE_URL)

    port = parse_port(opt("PORT") or "3000")

    log_level = (opt("LOG_LEVEL") or "INFO").upper()
    if log_level not in logging.getLevelNamesMapping():
        raise SettingsError(
            f"LOG_LEVEL: unknown level {log_level!r}; use DEBUG, INFO, WARNING or ERROR"
        )

    timezone = opt("PLCBOT_TIMEZONE") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"PLCBOT_TIMEZONE: unknown time zone {timezone!r}; use an IANA name such as "
            "America/Los_Angeles"
        ) from None

    protocols_dir = None
    if raw_dir := opt("PLCBOT_PROTOCOLS_DIR"):
        protocols_dir = Path(raw_dir)
        if not protocols_dir.is_dir():
            raise SettingsError(f"PLCBOT_PROTOCOLS_DIR: {raw_dir!r} is not a directory")

    slack_api_url = opt("SLACK_API_URL")
    if slack_api_url:
        if not slack_api_url.startswith(("http://", "https://")):
            raise SettingsError(f"SLACK_API_URL: expected an http(s) URL, got {slack_api_url!r}")
        slack_api_url = slack_api_url.rstrip("/") + "/"

    settings = Settings(
        database_url=database_url,
        host=opt("HOST") or "0.0.0.0",
        port=port,
        log_level=log_level,
        slack_bot_token=opt("SLACK_BOT_TOKEN"),
        slack_signing_secret=opt("SLACK_SIGNING_SECRET"),
        slack_app_token=opt("SLACK_APP_TOKEN"),
        slack_api_url=slack_api_url,
        slack_client_id=opt("SLACK_CLIENT_ID"),
        slack_client_secret=opt("SLACK_CLIENT_SECRET"),
        microsoft_app_id=opt("MICROSOFT_APP_ID"),
        microsoft_app_password=opt("MICROSOFT_APP_PASSWORD"),
        microsoft_app_tenant_id=opt("MICROSOFT_APP_TENANT_ID"),
        teams_allow_anonymous=_bool(
            "TEAMS_ALLOW_ANONYMOUS", values.get("TEAMS_ALLOW_ANONYMOUS", "")
        ),
        protocols_dir=protocols_dir,
        timezone=timezone,
        extra={k: v for k, v in values.items() if k.startswith("PLCBOT_")},
    )
    _check_platforms(settings)
    return settings


def feature_settings(settings: Settings) -> list[tuple[str, str]]:
    """(ENV_NAME, value in use) for the features' own settings, each parsed by its feature.

    Parsing them here lets ``plcbot config`` report a wrong value the way ``plcbot serve`` would,
    with the feature's own message, instead of leaving it for the first start.
    """
    # The features import this module, so they can only be imported once it is loaded.
    from bot.commitment.feature import NUDGE_TIME_SETTING
    from bot.commitment.timing import parse_nudge_time
    from bot.parsing import human_duration
    from bot.reflection.config import ReflectionConfig
    from bot.reflection.timing import WEEKDAYS

    reflect = ReflectionConfig.from_settings(settings)
    try:
        nudge = parse_nudge_time(settings.get(NUDGE_TIME_SETTING))
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    day_names = {number: name for name, number in WEEKDAYS.items()}
    year = reflect.school_year
    return [
        ("PLCBOT_REFLECT_GRACE", human_duration(reflect.grace)),
        ("PLCBOT_REFLECT_WINDOW_DAYS", str(reflect.window_days)),
        ("PLCBOT_REFLECT_REMINDER_DAYS", str(reflect.reminder_days)),
        (
            "PLCBOT_SCHOOL_WEEKEND",
            ",".join(day_names[d] for d in sorted(reflect.weekend)) or "none",
        ),
        ("PLCBOT_SCHOOL_YEAR", f"{year[0]}..{year[1]}" if year else ""),
        ("PLCBOT_SCHOOL_CALENDAR", _calendar_shown(reflect.calendar_source)),
        ("PLCBOT_CALENDAR_QUIET_WORDS", ",".join(reflect.quiet_words)),
        ("PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS", str(reflect.allow_private_urls)),
        (NUDGE_TIME_SETTING, nudge.strftime("%H:%M")),
    ]


def _calendar_shown(source: str | None) -> str:
    """A calendar's address without its path: a private ICS link's path is its password."""
    if not source:
        return ""
    if not source.lower().startswith(("http://", "https://")):
        return source
    try:
        parts = urlsplit(source)
    except ValueError:
        return "****"
    return f"{parts.scheme}://{parts.hostname or ''}/****"


def _check_platforms(s: Settings) -> None:
    if s.slack_bot_token and not (s.slack_signing_secret or s.slack_app_token):
        raise SettingsError(
            "SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN (or set SLACK_APP_TOKEN for "
            "Socket Mode); find it under Basic Information in your Slack app's settings"
        )
    if s.slack_client_id and not (s.slack_client_secret and s.slack_signing_secret):
        raise SettingsError(
            "SLACK_CLIENT_SECRET: multi-workspace install needs SLACK_CLIENT_ID, "
            "SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET together"
        )
    if s.microsoft_app_id and not s.microsoft_app_password:
        raise SettingsError(
            "MICROSOFT_APP_PASSWORD: required with MICROSOFT_APP_ID (the bot's client secret "
            "from its Azure app registration)"
        )
