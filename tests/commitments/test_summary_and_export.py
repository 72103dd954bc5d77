"""The leads' summary figures and the CSV export, from known commitments."""

import csv
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.console.render import render
from bot.commitment import summary
from bot.commitment.export import csv_file, safe_cell
from bot.errors import UserError
from bot.messages import Image
from storage.commitments import Commitment, Peer, Person

TODAY = date(2026, 12, 9)  # a Wednesday
ANA = Person(1, "ana", "Ana")
BEN = Person(2, "ben", "Ben")
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make(
    number: int,
    owner: Person,
    due: date,
    status: str = "open",
    *,
    what: str = "Try something",
    indicators: tuple[str, ...] = (),
    visibility: str = "shared",
    peers: tuple[Peer, ...] = (),
    note: str | None = None,
) -> Commitment:
    return Commitment(
        id=number,
        team_id=1,
        number=number,
        owner=owner,
        what=what,
        how_know=None,
        due_on=due,
        status=status,
        visibility=visibility,
        indicators=indicators,
        session_id=None,
        outcome_note=note,
        evidence_url=None,
        reported_at=None if status == "open" else AT,
        outcome_shared_at=None,
        created_at=AT,
        updated_at=AT,
        peers=peers,
    )


ITEMS = [
    make(1, ANA, date(2026, 12, 7), "done", indicators=("B3",)),
    make(2, BEN, date(2026, 12, 8), "open", indicators=("B3", "A5")),  # overdue
    make(3, BEN, date(2026, 12, 9), "open"),  # due today: not counted against the rate yet
    make(4, ANA, date(2026, 12, 11), "partly"),
    make(5, BEN, date(2026, 12, 10), "dropped"),  # left out of the rate
    make(6, ANA, date(2026, 12, 2), "done"),  # last week
    make(7, BEN, date(2026, 12, 3), "not_yet", visibility="private"),  # last week, private
    make(8, ANA, date(2026, 11, 24), "done"),  # two weeks ago
]


def test_periods_and_their_trend() -> None:
    week, trend = summary.periods("", TODAY, None)
    assert (week.name, week.start, week.end) == ("this week", date(2026, 12, 7), date(2026, 12, 13))
    assert [p.start for p in trend] == [
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
        date(2026, 12, 7),
    ]
    month, months = summary.periods("this month", TODAY, None)
    assert (month.start, month.end) == (date(2026, 12, 1), date(2026, 12, 31))
    assert [p.short for p in months] == ["Sep", "Oct", "Nov", "Dec"]
    term, term_months = summary.periods("term", TODAY, date(2026, 10, 12))
    assert (term.start, term.end) == (date(2026, 10, 12), TODAY)
    assert [(p.start, p.end) for p in term_months] == [
        (date(2026, 10, 12), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 12, 1), TODAY),
    ]
    default_term, _ = summary.periods("term", date(2027, 3, 1), None)
    assert default_term.start == date(2027, 1, 1)
    ancient, _ = summary.periods("term", TODAY, date(1900, 1, 1))  # stored before it was refused
    assert ancient.start == date(2026, 8, 1)
    with pytest.raises(UserError, match="this week, this month or term"):
        summary.periods("fortnight", TODAY, None)


def test_counts_rate_overdue_and_carry_over() -> None:
    week, trend = summary.periods("this week", TODAY, None)
    s = summary.summarise(ITEMS, TODAY, week, trend, viewer_id=ANA.member_id)
    assert [c.number for c in s.due] == [1, 2, 3, 4, 5]
    assert dict(s.counts) == {"done": 1, "open": 2, "partly": 1, "dropped": 1}
    # settled or past due, not dropped: #1 done, #2 overdue, #4 partly -> 1 of 3
    assert s.rate == pytest.approx(1 / 3)
    assert [(p.short, rate) for p, rate in s.trend] == [
        ("w/c 16 Nov", None),
        ("w/c 23 Nov", 1.0),
        ("w/c 30 Nov", 0.5),
        ("this week", pytest.approx(1 / 3)),
    ]
    assert [c.number for c in s.overdue] == [7, 2]
    assert [c.number for c in s.carry] == [7, 2, 3]
    assert [(p.name, dict(c)) for p, c in s.by_member] == [
        ("Ana", {"done": 1, "partly": 1}),
        ("Ben", {"open": 2, "dropped": 1}),
    ]
    assert s.by_indicator == [("A5", 0, 1), ("B3", 1, 2)]


def test_the_card_has_a_chart_and_hides_others_private_items() -> None:
    week, trend = summary.periods("this week", TODAY, None)
    s = summary.summarise(ITEMS, TODAY, week, trend, viewer_id=ANA.member_id)
    card = summary.card(s, "Grade 5", today=TODAY)
    charts = [b for b in card.blocks if isinstance(b, Image)]
    assert len(charts) == 1 and charts[0].png.startswith(b"\x89PNG")
    assert "Ana: done 1, partly 1" in charts[0].alt and "Ben: done 0" in charts[0].alt
    text = "\n".join(render(card, now=AT, zone=ZoneInfo("UTC")))
    assert "Completion: 33%" in text
    assert "w/c 23 Nov: 100% · w/c 30 Nov: 50% · this week: 33% (down from 50%)" in text
    assert "B3 Trying new approaches and sharing results  [1 of 2 done]" in text
    assert "1 private item not shown" in text  # Ben's #7 is private and Ana isn't its peer
    assert "not an evaluation" in text
    as_owner = summary.summarise(ITEMS, TODAY, week, trend, viewer_id=BEN.member_id)
    as_peer = summary.card(as_owner, "Grade 5", today=TODAY)
    assert "private item" not in "\n".join(render(as_peer, now=AT, zone=ZoneInfo("UTC")))


def test_an_empty_period_reads_plainly() -> None:
    week, trend = summary.periods("this week", date(2027, 3, 3), None)
    card = summary.card(summary.summarise([], TODAY, week, trend, viewer_id=1), "Grade 5", TODAY)
    text = "\n".join(render(card, now=AT, zone=ZoneInfo("UTC")))
    assert "No commitments are due in this period." in text
    assert "Completion: -" in text and "Nothing open: a clean slate." in text


def test_the_csv_export() -> None:
    peer = Peer(3, "carla", "Carla")
    items = [
        make(
            1,
            ANA,
            date(2026, 12, 7),
            "done",
            indicators=("B3", "A5"),
            peers=(peer,),
            note="Most students, even the quiet ones, used it",
        ),
        make(2, BEN, date(2026, 12, 8), what='=HYPERLINK("http://x","click")'),
        make(3, BEN, date(2026, 12, 9), "not_yet", what='Élève feedback, "quoted"\nline two'),
    ]
    attachment = csv_file(
        items, ZoneInfo("America/Chicago"), "Grade 5 / Math", TODAY, viewer_id=ANA.member_id
    )
    assert attachment.filename == "commitments-grade-5-math-2026-12-09.csv"
    assert attachment.mime == "text/csv"
    assert attachment.content.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "number",
        "owner",
        "what",
        "how_i_will_know",
        "due",
        "status",
        "visibility",
        "peers",
        "indicators",
        "protocol_session",
        "outcome_note",
        "evidence_link",
        "created",
        "reported",
    ]
    assert rows[0]["peers"] == "Carla" and rows[0]["indicators"] == "B3 A5"
    assert rows[0]["status"] == "done" and rows[0]["due"] == "2026-12-07"
    assert rows[0]["outcome_note"] == "Most students, even the quiet ones, used it"
    assert rows[0]["created"] == "2026-11-02 03:00"  # in the exporter's time zone
    assert rows[1]["what"] == '\'=HYPERLINK("http://x","click")'  # not a live formula
    assert rows[1]["reported"] == ""
    assert rows[2]["what"] == 'Élève feedback, "quoted"\nline two'
    assert rows[2]["status"] == "not yet"
    # Ben may see #1, but not what happened until Ana shares it.
    as_ben = csv_file(items, ZoneInfo("UTC"), "Grade 5", TODAY, viewer_id=BEN.member_id)
    ben_rows = list(csv.DictReader(io.StringIO(as_ben.content.decode("utf-8-sig"))))
    assert ben_rows[0]["what"] == "Try something" and ben_rows[0]["outcome_note"] == ""
    assert [safe_cell(v) for v in ("+1", "-x", "@a", "ok")] == ["'+1", "'-x", "'@a", "ok"]


def test_a_private_item_the_lead_may_not_see_is_only_counted() -> None:
    week, trend = summary.periods("this week", TODAY, None)
    hidden = make(
        9,
        BEN,
        date(2026, 12, 10),
        what="Ben's quiet plan",
        indicators=("C2",),
        visibility="private",
    )
    s = summary.summarise([*ITEMS, hidden], TODAY, week, trend, viewer_id=ANA.member_id)
    assert len(s.due) == 6 and s.counts["open"] == 3
    assert dict(s.hidden) == {"open": 1}
    assert ("Ben", {"open": 2, "dropped": 1}) in [(p.name, dict(c)) for p, c in s.by_member]
    assert s.by_indicator == [("A5", 0, 1), ("B3", 1, 2)]  # no C2
    card = summary.card(s, "Grade 5", today=TODAY)
    charts = [b for b in card.blocks if isinstance(b, Image)]
    assert "Private, not shown: done 0, partly 0, not yet 0, open 1" in charts[0].alt
    text = "\n".join(render(card, now=AT, zone=ZoneInfo("UTC")))
    assert "Due in this period: 6" in text and "quiet plan" not in text and "C2" not in text
    # Ben sees his own item like any other.
    as_ben = summary.summarise([*ITEMS, hidden], TODAY, week, trend, viewer_id=BEN.member_id)
    assert not as_ben.hidden and ("C2", 0, 1) in as_ben.by_indicator
