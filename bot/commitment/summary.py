"""The leads' summary: what the team committed to, how it went, and what to carry forward.

It is a planning aid for the next meeting, not a scorecard: it counts follow-through so the
team can support each other, and says so.

Private commitments, one rule throughout: one the lead may see (their own, or naming them as a
peer) reads like any other; any other private one is only ever part of an anonymous total. It
counts in the headline figures, the completion rate and trend, and in one "Private, not shown"
bar, so every section adds up to the same numbers; it is never listed, never put under its
owner's name, and never broken down by indicator (with a handful of items, an indicator count
can say whose it is). Where a list leaves some out, it says how many.

A period's items are those due in it. The completion rate counts items that are settled (an
outcome was reported) or past due, leaving out dropped ones: done / (settled or past due).
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.charts import Bar, bar_chart
from bot.commitment.views import STATUS_LABELS, items
from bot.errors import UserError
from bot.indicators import label
from bot.messages import Block, Field, Fields, ListBlock, ListItem, OutMessage, Section, text
from bot.terms import half_year_start
from storage.commitments import DONE, DROPPED, NOT_YET, OPEN, PARTLY, Commitment, Person

PERIODS = {
    "": "this week",
    "week": "this week",
    "this week": "this week",
    "month": "this month",
    "this month": "this month",
    "term": "term",
    "this term": "term",
}
CHART_ORDER = (DONE, PARTLY, NOT_YET, OPEN, DROPPED)
PRIVATE_BAR = "Private, not shown"
TREND_LENGTH = 4
LIST_LIMIT = 25
TERM_SETTING = "commitments_term_start"
TERM_LIMIT = timedelta(days=2 * 366)  # a term start further back is a typo, not a term


@dataclass(frozen=True, slots=True)
class Period:
    name: str
    start: date
    end: date  # inclusive
    short: str  # how the trend line names it

    @property
    def dates(self) -> str:
        if self.start.month == self.end.month:
            return f"{self.start.day}-{self.end.day} {self.end:%b}"
        return f"{self.start.day} {self.start:%b} - {self.end.day} {self.end:%b}"

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


def _month(first: date, name: str) -> Period:
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return Period(name, first, last, f"{first:%b}")


def _shift_month(first: date, months: int) -> date:
    year, month = divmod(first.month - 1 + months, 12)
    return date(first.year + year, month + 1, 1)


def default_term_start(today: date) -> date:
    """Without a start the lead set: the school half-year, as reflections count it."""
    return half_year_start(today)


def periods(name: str, today: date, term_start: date | None) -> tuple[Period, list[Period]]:
    """The period asked for, and the periods its trend compares (oldest first, it last)."""
    wanted = PERIODS.get(" ".join(name.lower().split()))
    if wanted is None:
        raise UserError(
            "Summaries cover this week, this month or term, e.g. /commitments summary this month."
        )
    if wanted == "this week":
        monday = today - timedelta(days=today.weekday())
        weeks = [
            Period(
                "this week" if back == 0 else f"week of {start.day} {start:%b}",
                start,
                start + timedelta(days=6),
                "this week" if back == 0 else f"w/c {start.day} {start:%b}",
            )
            for back in range(TREND_LENGTH - 1, -1, -1)
            for start in [monday - timedelta(weeks=back)]
        ]
        return weeks[-1], weeks
    if wanted == "this month":
        first = today.replace(day=1)
        months = [
            _month(_shift_month(first, -back), "this month" if back == 0 else "")
            for back in range(TREND_LENGTH - 1, -1, -1)
        ]
        return months[-1], months
    start = term_start or default_term_start(today)
    if start > today or today - start > TERM_LIMIT:  # stored before /commitments term refused it
        start = default_term_start(today)
    term = Period("this term so far", start, today, "term")
    months = []
    first = start.replace(day=1)
    while first <= today:
        month = _month(first, "")
        months.append(Period("", max(start, month.start), min(today, month.end), month.short))
        first = _shift_month(first, 1)
    return term, months[-6:]


def completion(commitments: Sequence[Commitment], period: Period, today: date) -> float | None:
    settled = [
        c
        for c in commitments
        if period.holds(c.due_on) and c.status != DROPPED and (not c.active or c.due_on < today)
    ]
    if not settled:
        return None
    return sum(1 for c in settled if c.status == DONE) / len(settled)


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{round(rate * 100)}%"


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures as one lead (``viewer_id``) may see them; see the module's rule."""

    viewer_id: int
    period: Period
    due: list[Commitment]  # due in the period
    counts: Mapping[str, int]
    rate: float | None
    trend: list[tuple[Period, float | None]]
    overdue: list[Commitment]
    carry: list[Commitment]
    by_member: list[tuple[Person, Counter[str]]]  # only what the viewer may see
    hidden: Counter[str]  # statuses of the due items the viewer may not see
    by_indicator: list[tuple[str, int, int]]  # code, done, total; only what the viewer may see


def summarise(
    commitments: Sequence[Commitment],
    today: date,
    period: Period,
    trend: Sequence[Period],
    *,
    viewer_id: int,
) -> Summary:
    due = [c for c in commitments if period.holds(c.due_on)]
    counts = Counter(c.status for c in due)
    members: dict[int, tuple[Person, Counter[str]]] = {}
    hidden: Counter[str] = Counter()
    indicator_done: Counter[str] = Counter()
    indicator_total: Counter[str] = Counter()
    for c in due:
        if not c.visible_to(viewer_id):
            hidden[c.status] += 1
            continue
        members.setdefault(c.owner.member_id, (c.owner, Counter()))[1][c.status] += 1
        for code in c.indicators:
            indicator_total[code] += 1
            indicator_done[code] += c.status == DONE
    active = sorted((c for c in commitments if c.active), key=lambda c: (c.due_on, c.number))
    return Summary(
        viewer_id=viewer_id,
        period=period,
        due=due,
        counts=counts,
        rate=completion(commitments, period, today),
        trend=[(p, completion(commitments, p, today)) for p in trend],
        overdue=[c for c in active if c.due_on < today],
        carry=active,
        by_member=sorted(members.values(), key=lambda m: (m[0].name.lower(), m[0].member_id)),
        hidden=hidden,
        by_indicator=sorted(
            (code, indicator_done[code], total) for code, total in indicator_total.items()
        ),
    )


def _trend_text(s: Summary) -> str:
    parts = [f"{p.short}: {percent(rate)}" for p, rate in s.trend]
    earlier = [rate for p, rate in s.trend[:-1] if rate is not None]
    latest = s.trend[-1][1] if s.trend else None
    line = " · ".join(parts)
    if latest is not None and earlier:
        before = earlier[-1]
        if latest > before:
            line += f" (up from {percent(before)})"
        elif latest < before:
            line += f" (down from {percent(before)})"
        else:
            line += " (steady)"
    return line


def _private(count: int) -> str:
    return f"{count} private {'item' if count == 1 else 'items'} not shown"


def _visible(
    commitments: Sequence[Commitment], viewer_id: int, today: date, heading: str, empty: str
) -> list[Block]:
    visible = [c for c in commitments if c.visible_to(viewer_id)]
    shown = visible[:LIST_LIMIT]
    hidden = len(commitments) - len(visible)
    if not visible and hidden:
        # "Nothing overdue" would contradict the count above it.
        return [items([], today, heading, empty=_private(hidden) + ".")]
    blocks: list[Block] = [items(shown, today, heading, empty=empty)]
    notes = []
    if len(visible) > len(shown):
        notes.append(f"{len(visible) - len(shown)} more not listed")
    if hidden:
        notes.append(_private(hidden))
    if notes:
        blocks.append(Section(text("(" + "; ".join(notes) + ")")))
    return blocks


def card(s: Summary, team_name: str, today: date) -> OutMessage:
    counts = s.counts
    viewer_id = s.viewer_id
    fields = (
        Field("Due in this period", text(str(len(s.due)))),
        *(Field(STATUS_LABELS[k].capitalize(), text(str(counts.get(k, 0)))) for k in CHART_ORDER),
        Field("Overdue now", text(str(len(s.overdue)))),
        Field("Completion", text(percent(s.rate))),
    )
    blocks: list[Block] = [
        Fields(fields),
        Section(text(_trend_text(s)), heading="Completion trend"),
    ]
    bars = [
        Bar(person.name, tuple(float(c.get(k, 0)) for k in CHART_ORDER))
        for person, c in s.by_member
    ]
    if s.hidden:
        bars.append(Bar(PRIVATE_BAR, tuple(float(s.hidden.get(k, 0)) for k in CHART_ORDER)))
    if bars:
        blocks.append(
            bar_chart(
                f"Commitments due {s.period.name}, by member",
                bars,
                [STATUS_LABELS[k] for k in CHART_ORDER],
            )
        )
    else:
        blocks.append(Section(text("No commitments are due in this period.")))
    if s.by_indicator:
        blocks.append(
            ListBlock(
                tuple(
                    ListItem(text(label(code)), f"{done} of {total} done")
                    for code, done, total in s.by_indicator
                ),
                heading="By indicator",
            )
        )
        if s.hidden:
            blocks.append(Section(text("(private items not shown are not counted by indicator)")))
    blocks += _visible(s.overdue, viewer_id, today, "Overdue", "Nothing overdue.")
    blocks += _visible(
        s.carry, viewer_id, today, "Carry into the next meeting", "Nothing open: a clean slate."
    )
    return OutMessage(
        title=f"Commitments in {team_name}: {s.period.name} ({s.period.dates})",
        blocks=tuple(blocks),
        footer=(
            "A picture of follow-through for planning the next meeting, not an evaluation of "
            "anyone. Completion = done out of those settled or past due (dropped ones left out)."
        ),
    )
