"""A step timer says when it ends; one that runs for days (an asynchronous session) names the
day too, on every platform, since "ends 09:00" alone would mean today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.console.render import countdown_line
from adapters.slack.render import countdown_text
from adapters.teams.cards import countdown
from bot.messages import Countdown

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
SOON = Countdown("Clarifying questions", 600, ends_at=NOW + timedelta(minutes=4))
DAYS = Countdown("Warm and cool feedback", 2 * 86400, ends_at=NOW + timedelta(days=2))


def test_the_console_names_the_day_when_the_end_is_not_today() -> None:
    zone = ZoneInfo("America/Chicago")  # 03:00 there: 23:00 the same evening is still today
    late = Countdown("Silent writing", 16 * 3600, ends_at=NOW + timedelta(hours=14))
    assert countdown_line(SOON, NOW, zone).endswith("(ends 03:04)")
    assert countdown_line(late, NOW, zone).endswith("(ends 17:00)")
    assert countdown_line(DAYS, NOW, zone).endswith("(ends Wed 25 Nov 03:00)")


def test_slack_shows_the_day_in_each_readers_zone_for_a_long_step() -> None:
    epoch = int((NOW + timedelta(days=2)).timestamp())
    assert countdown_text(SOON, NOW).endswith("|09:04 UTC>")
    assert "<!date^" in countdown_text(SOON, NOW) and "{date" not in countdown_text(SOON, NOW)
    assert countdown_text(DAYS, NOW).endswith(
        f"ends <!date^{epoch}^{{date_short_pretty}} {{time}}|Wed 25 Nov 09:00 UTC>"
    )


def test_teams_shows_the_day_for_a_long_step() -> None:
    assert countdown(SOON, NOW)["text"].endswith("(until {{TIME(2026-11-23T09:04:00Z)}})")
    assert countdown(DAYS, NOW)["text"].endswith(
        "(until {{DATE(2026-11-25T09:00:00Z, SHORT)}} {{TIME(2026-11-25T09:00:00Z)}})"
    )
