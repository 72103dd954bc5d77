"""The ``PLCBOT_*`` settings the reflections feature reads, checked once when plcbot is built."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.errors import UserError
from bot.parsing import parse_duration
from bot.reflection.timing import WEEKDAYS, parse_day_range
from bot.settings import Settings, SettingsError

DEFAULT_QUIET_WORDS = (
    "break",
    "holiday",
    "no school",
    "vacation",
    "recess",
    "closed",
    "closure",
    "testing",
    "exam",
)


@dataclass(frozen=True)
class ReflectionConfig:
    grace: timedelta = timedelta(hours=6)  # send missed prompts this late after downtime
    window_days: int = 2  # school days members have to answer; the digest follows
    reminder_days: int = 1  # school days until the gentle reminder; 0 = no reminder
    weekend: frozenset[int] = frozenset({5, 6})
    school_year: tuple[date, date] | None = None
    calendar_source: str | None = None  # a file path or an http(s) URL of an ICS calendar
    quiet_words: tuple[str, ...] = DEFAULT_QUIET_WORDS
    # Calendar addresses typed in chat may point inside the school's network only if IT agrees.
    allow_private_urls: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ReflectionConfig:
        def get(name: str) -> str | None:
            raw = settings.get(name)
            return raw.strip() if raw and raw.strip() else None

        def duration(name: str, default: timedelta) -> timedelta:
            raw = get(name)
            if raw is None:
                return default
            try:
                return parse_duration(raw)
            except UserError:
                raise SettingsError(f"{name}: {raw!r} is not a duration like 6h or 1d") from None

        def count(name: str, default: int, low: int, high: int) -> int:
            raw = get(name)
            if raw is None:
                return default
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise SettingsError(f"{name}: expected a whole number {low}-{high}, got {raw!r}")
            return int(raw)

        window = count("PLCBOT_REFLECT_WINDOW_DAYS", cls.window_days, 1, 5)
        reminder = count("PLCBOT_REFLECT_REMINDER_DAYS", cls.reminder_days, 0, 4)
        if reminder and reminder >= window:
            raise SettingsError(
                "PLCBOT_REFLECT_REMINDER_DAYS: the reminder must come before the answer window "
                f"closes (PLCBOT_REFLECT_WINDOW_DAYS={window}); use a smaller number or 0"
            )
        weekend_raw = get("PLCBOT_SCHOOL_WEEKEND")
        weekend = cls.weekend
        if weekend_raw is not None:
            days: set[int] = set()
            if weekend_raw.lower() != "none":
                for word in weekend_raw.replace(",", " ").split():
                    if word[:3].lower() not in WEEKDAYS:
                        raise SettingsError(
                            f"PLCBOT_SCHOOL_WEEKEND: {word!r} is not a weekday; "
                            "use e.g. sat,sun or none"
                        )
                    days.add(WEEKDAYS[word[:3].lower()])
            weekend = frozenset(days)
        year = None
        if raw_year := get("PLCBOT_SCHOOL_YEAR"):
            try:
                year = parse_day_range(raw_year)
            except UserError:
                raise SettingsError(
                    f"PLCBOT_SCHOOL_YEAR: {raw_year!r} is not a range like 2026-08-24..2027-06-11"
                ) from None
        words = cls.quiet_words
        if raw_words := get("PLCBOT_CALENDAR_QUIET_WORDS"):
            words = tuple(w.strip().lower() for w in raw_words.split(",") if w.strip())
        return cls(
            grace=duration("PLCBOT_REFLECT_GRACE", cls.grace),
            window_days=window,
            reminder_days=reminder,
            weekend=weekend,
            school_year=year,
            calendar_source=get("PLCBOT_SCHOOL_CALENDAR"),
            quiet_words=words,
            allow_private_urls=_flag(get("PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS")),
        )


def _flag(raw: str | None) -> bool:
    if raw is None or raw.lower() in ("0", "false", "no", "off"):
        return False
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS: expected true or false, got {raw!r}")
