"""Sessions in the console: anonymity the summary keeps, what the timekeeper and note-taker
may do, dates on sessions that span days, and answers to half-right commands."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.clock import FakeClock
from bot.messages import ListBlock, plain
from bot.protocol.runner import Loaded
from bot.protocol.summary import summary_markdown, summary_message
from bot.timefmt import span
from protocols.loader import parse
from storage import identity
from storage.protocol_sessions import ProtocolContributionRow
from tests.protocols.support import active, feature, team_of_three
from tests.protocols.test_sessions import joined, said_without_names
from tests.support.harness import Console, running_console

TO_FEEDBACK = ("/protocol start tuning @ben",) + ("/protocol next",) * 5  # step 6: Ben listens


async def _rows(console: Console) -> list[ProtocolContributionRow]:
    async with console.bot.db.read() as s:
        return list((await s.scalars(select(ProtocolContributionRow))).all())


async def test_a_presenters_anonymous_line_is_never_labelled_theirs(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async with running_console(db_url, clock, files=tmp_path) as console:
        await team_of_three(console)
        await console.say(*TO_FEEDBACK)
        told = joined(
            await console.say(
                "/as ben",
                "/protocol add --anon The pacing slide needs work.",
                "Noting: rubric weighting came up twice.",
            )
        )
        assert 'Added to "Warm and cool feedback" without your name.' in told
        done = await console.say("/as ana", "/protocol end", "/protocol export")
        summary = joined(done)
        assert "Anonymous: The pacing slide needs work." in summary
        note = next(line for line in done if "The pacing slide" in line and "Anonymous" in line)
        assert "presenter" not in note
        assert "Ben: Noting: rubric weighting came up twice.  [presenter's note]" in summary
        transcript = joined([line for line in console.lines if line.startswith("  | ")])
        assert said_without_names(transcript, "The pacing slide", ("Ben", "presenter"))
        markdown = (tmp_path / "plcbot-session-1-tuning.md").read_text()
        discussion, notes = markdown.split("## 6. Warm and cool feedback")[1].split(
            "Presenter's notes:"
        )
        assert "- **Anonymous:** The pacing slide needs work." in discussion
        assert "The pacing slide" not in notes.split("## 7.")[0]
        [anonymous] = [r for r in await _rows(console) if r.anonymous]
        assert anonymous.kind != "note" and anonymous.member_id is None


def test_an_anonymous_note_stored_by_an_earlier_version_is_shown_without_a_label() -> None:
    """Summaries are stored; one saved before the fix may hold an anonymous presenter's note."""
    summary = {
        "session": 4,
        "team": "Maths",
        "protocol": {
            "id": "tuning",
            "version": 1,
            "title": "Tuning protocol",
            "credit": "SRI",
            "sources": [],
            "indicators": ["A1"],
        },
        "mode": "live",
        "outcome": "completed",
        "started_at": "2026-11-23T09:00:00+00:00",
        "ended_at": "2026-11-23T09:50:00+00:00",
        "minutes": 50,
        "roles": [],
        "steps": [
            {
                "title": "Warm and cool feedback",
                "kind": "round",
                "collect": True,
                "reached": True,
                "contributions": [{"author": "Cam", "text": "Warm: clear."}],
                "notes": [
                    {"author": None, "text": "Secret worry."},
                    {"author": "Ben", "text": "Weighting."},
                ],
            }
        ],
        "next_steps": [],
        "contributions": 1,
    }
    zone = ZoneInfo("UTC")
    [step] = [b for b in summary_message(summary, zone).blocks if isinstance(b, ListBlock)]
    shown = {plain(item.body): item.marker for item in step.items}
    assert shown == {
        "Cam: Warm: clear.": None,
        "Anonymous: Secret worry.": None,
        "Ben: Weighting.": "presenter's note",
    }
    notes = summary_markdown(summary, zone).split("Presenter's notes:")[1]
    assert "Weighting." in notes and "Secret worry." not in notes


async def test_the_card_points_to_the_form_for_anonymous_input(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        card = joined(await console.say(*TO_FEEDBACK[:5]))  # step 5: anonymous drafts
        assert "Prepare your feedback" in card
        footer = card.rsplit("Session #1.", 1)[1]
        assert "To add it without your name, use Add contribution" in footer
        assert "--anon" not in footer


async def test_the_timekeeper_holds_the_clock_and_only_the_clock(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start tuning @ben", "/protocol role timekeeper @cam")
        out = joined(
            await console.say(
                "/as cam", "/protocol pause", "/protocol extend 5", "/protocol resume"
            )
        )
        assert "Paused with 3 min left" in out
        assert "Added 5 min to this step" in out and "Resumed: 8 min left" in out
        refused = joined(await console.say("/protocol next", "/as ben", "/protocol pause"))
        assert "Only the facilitator (Ana) or a team lead can move the session on." in refused
        assert (
            "Only the facilitator (Ana), the timekeeper (Cam) or a team lead can pause the "
            "session." in refused
        )
        loaded = await active(console.bot)
        assert loaded.state.step == 0 and loaded.state.status == "running"
        assert loaded.state.total_seconds == 8 * 60


async def test_the_note_taker_adds_what_was_said_to_an_earlier_step(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say(
            "/protocol start tuning @ben",
            "/protocol role note-taker @cam",
            "/protocol next",
            "/protocol next",
        )
        out = joined(
            await console.say(
                "/as cam",
                "/protocol add --step 2 Ben framed the task around recipes.",
                "/protocol add --step 4 Too soon.",
                "/protocol add --step x Not a number.",
                "/as ben",
                "/protocol add --step 2 I said it better.",
            )
        )
        assert 'Added to "The presenter shares the work", the step you wrote it for.' in out
        assert "Step 4 hasn't been reached: the session is on step 3 of 9." in out
        assert "Say which step by its number" in out
        assert "Only the note-taker (Cam), the facilitator or a team lead can add" in out
        rows = await _rows(console)
        assert [(r.step, r.author, r.text) for r in rows] == [
            (1, "Cam", "Ben framed the task around recipes.")
        ]


async def test_a_session_over_days_shows_its_dates(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        card = joined(await console.say("/protocol start chalk-talk --async 3d"))
        assert "open until Thu 26 Nov 09:00" in card
        # the renderer names the day of a countdown that ends on another one, once
        assert "(timer) Time left: 3d left of 3d (ends Thu 26 Nov 09:00)" in card
        done = joined(await console.say("/clock +2d", "/protocol end"))
        assert "When: Mon 23 Nov 09:00 – Wed 25 Nov 2026 09:00" in done
        assert "Duration: 2d" in done


async def test_a_live_step_that_ends_today_keeps_the_short_label(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        card = joined(await console.say("/protocol start tuning @ben"))
        assert "(timer) Time left: 3:00 left of 3:00 (ends 09:03)" in card
        summary = joined(await console.say("/clock +5m", "/protocol end"))
        assert "When: Mon 23 Nov 2026, 09:00-09:05" in summary


def test_a_span_names_both_days_and_the_years_when_they_differ() -> None:
    utc = ZoneInfo("UTC")
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert (
        span(start, datetime(2026, 12, 1, 9, 5, tzinfo=UTC), utc) == "Tue 1 Dec 2026, 09:00-09:05"
    )
    assert (
        span(start, datetime(2026, 12, 4, 9, 5, tzinfo=UTC), utc)
        == "Tue 1 Dec 09:00 – Fri 4 Dec 2026 09:05"
    )
    assert (
        span(datetime(2026, 12, 31, 23, 0, tzinfo=UTC), datetime(2027, 1, 1, 1, 0, tzinfo=UTC), utc)
        == "Thu 31 Dec 2026 23:00 – Fri 1 Jan 2027 01:00"
    )
    # the same moments in Auckland: one day, not two
    auckland = ZoneInfo("Pacific/Auckland")
    late = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    assert span(late, datetime(2026, 12, 1, 2, 0, tzinfo=UTC), auckland) == (
        "Tue 1 Dec 2026, 11:00-15:00"
    )


async def test_a_known_name_with_extra_words_suggests_the_right_form(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        out = joined(
            await console.say(
                "/protocol start tuning @ben extra words",
                "/protocol start --async 2d please chalk talk",
                "/protocol start tuning ben",
            )
        )
        assert (
            "I know Tuning protocol (tuning), but not 'extra words'. Did you mean "
            "/protocol start tuning @ben?" in out
        )
        assert "but not 'please'. Did you mean /protocol start chalk-talk --async 2d?" in out
        assert "but not 'ben'. Did you mean /protocol start tuning? A presenter is named" in out
        assert await feature_session(console) is None


async def feature_session(console: Console) -> Loaded | None:
    return await feature(console.bot).runner.active(1)


async def test_a_mentioned_person_joins_for_a_role_but_an_unknown_name_adds_nobody(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start tuning @ben")
        out = joined(await console.say("/protocol role notes zed", "/protocol role notes ze"))
        assert "I don't know @zed in this team yet." in out
        async with console.bot.db.read() as s:
            assert await identity.find_member(s, 1, "zed") is None
        # an @mention is the chat app saying who someone is: they join the team and the role
        named = joined(await console.say("/protocol role timekeeper @dee"))
        assert "@Dee is now the timekeeper." in named
        async with console.bot.db.read() as s:
            names = [tm.member.display_name for tm in await identity.team_members(s, 1)]
        assert names == ["Ana", "Ben", "Cam", "Dee"]


async def test_a_search_is_repeated_back_without_control_characters(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        found = _answers(await console.say("/protocol list \u202edata\x07\x1b"))
        assert "Protocols for data:" in found
        assert not any(ch in found for ch in "\x1b\u202e\x07")
        missing = _answers(await console.say("/protocol list zzq\x1b\u202e\nmore"))
        assert "No protocol matches 'zzq more'." in missing
        assert not any(ch in missing for ch in "\x1b\u202e")


def _answers(lines: list[str]) -> str:
    """What plcbot said, without the console's echo of what was typed."""
    return joined([line for line in lines if line.startswith("  | ")])


def test_a_bad_id_is_explained_in_words() -> None:
    text = "id: Tuning Protocol\nversion: 1\nsources: [not a url]\n"
    _, problems = parse(text, "mine.yaml")
    by_field = {p.field: p.message for p in problems}
    assert by_field["id"].startswith("'Tuning Protocol' can't be an id: use only lowercase")
    assert "hyphens" in by_field["id"] and "48 characters" in by_field["id"]
    assert "isn't a web address" in by_field["sources#1"]
    assert not any("pattern" in m or "[a-z" in m or "\\S" in m for m in by_field.values())


async def test_info_without_a_name_shows_its_own_usage(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        out = joined(await console.say("/protocol info", "/protocol info   "))
        assert out.count("Which protocol? Name one, e.g. /protocol info tuning. Some I know:") == 2
        assert "/protocol start" not in out
        names = out.split("Some I know: ")[1].split(";")[0].split(", ")
        assert len(names) == 5 and all(n.islower() for n in names)
