"""Tables of the reflections feature: schedules, rounds, deliveries, answers, the school calendar.

A *round* is one occurrence of a team's schedule (unique per team and occurrence key, so
creating it twice is impossible); a *delivery* is one member's prompt in a round (unique per
round and member, so nobody gets two). Answers live in their own table so every query that
serves a lead can leave private text out by construction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, JSONType, UTCDateTime


class ReflectionScheduleRow(Base):
    """A team's reflection schedule: one per team."""

    __tablename__ = "reflection_schedules"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    at_time: Mapped[str] = mapped_column(String(5))  # "15:00", each member's local time
    indicators: Mapped[list[str]] = mapped_column(JSONType, default=list)
    mode: Mapped[str] = mapped_column(String(16), default="dm")  # "dm" | "channel"
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | paused | off
    skip_dates: Mapped[list[str]] = mapped_column(JSONType, default=list)  # ISO dates
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReflectionRoundRow(Base):
    __tablename__ = "reflection_rounds"
    __table_args__ = (UniqueConstraint("team_id", "round_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    round_key: Mapped[str] = mapped_column(String(64))  # "w:2026-11-27" or "now:..."
    local_date: Mapped[date] = mapped_column(Date)
    indicator: Mapped[str] = mapped_column(String(4))
    mode: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))  # open | closed | skipped
    note: Mapped[str | None] = mapped_column(String(200))  # why it was skipped
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    digest_ref: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReflectionDeliveryRow(Base):
    __tablename__ = "reflection_deliveries"
    __table_args__ = (
        UniqueConstraint("round_id", "member_id"),
        Index("ix_reflection_deliveries_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("reflection_rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(4))
    prompt_id: Mapped[str] = mapped_column(String(32))
    prompt_text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # pending | sent | answered | passed (member skipped) | missed | quiet | failed
    state: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_ref: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(500))


class ReflectionAnswerRow(Base):
    """A member's answer. ``share``: private (default) | team (with name) | anon."""

    __tablename__ = "reflection_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("reflection_deliveries.id", ondelete="CASCADE"), unique=True
    )
    round_id: Mapped[int] = mapped_column(
        ForeignKey("reflection_rounds.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[str] = mapped_column(String(4))
    body: Mapped[str] = mapped_column(Text)
    share: Mapped[str] = mapped_column(String(8), default="private")
    # Given after the round closed: its digest had gone out, so the answer never joins it.
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReflectionPromptRow(Base):
    """A prompt a team added to the bank for itself."""

    __tablename__ = "reflection_prompts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[str] = mapped_column(String(4))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchoolYearRow(Base):
    """A team's school year and the calendar (ICS URL) its breaks come from."""

    __tablename__ = "school_years"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    calendar_url: Mapped[str | None] = mapped_column(String(1000))
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fetch_error: Mapped[str | None] = mapped_column(String(500))


class QuietDayRow(Base):
    """A run of days with nothing sent. ``team_id`` NULL: from the deployment's calendar."""

    __tablename__ = "quiet_days"
    __table_args__ = (Index("ix_quiet_days_team_range", "team_id", "first_day", "last_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(16))  # manual | calendar
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
