"""Fixes found in review: nothing stored half-way, dates too far off, bare keywords, what a
lead's summary and a team member may see, one peer check-in, peers told about edits."""

from datetime import date

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.commitment.dates import DateQuestion, parse_due, read_date
from storage.models import MemberRow, TeamMemberRow, TeamRow
from tests.commitments.calendar import QuietSet
from tests.commitments.support import console_with, form, join, said
from tests.support.harness import Console

TODAY = date(2026, 11, 23)  # the clock fixture's Monday


async def team_users(console: Console, team: str = "plc") -> set[str]:
    async with console.bot.db.read() as session:
        found = await session.scalars(
            select(MemberRow.user_id)
            .join(TeamMemberRow, TeamMemberRow.member_id == MemberRow.id)
            .join(TeamRow, TeamRow.id == TeamMemberRow.team_id)
            .where(TeamRow.conversation_id == team)
        )
        return set(found.all())


async def known_users(console: Console) -> set[str]:
    async with console.bot.db.read() as session:
        return set((await session.scalars(select(MemberRow.user_id))).all())


async def test_a_refused_commit_or_edit_adds_nobody_to_the_team(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben")
        long_know = " know: " + "k" * 450
        refused = [
            ("/commit Try exit tickets by Friday with @zed" + long_know, "450 characters long"),
            ("/commit Try exit tickets by Friday with @zed and @ana", "your own accountability"),
            ("/commit Try exit tickets by Friday with @zed @b1 @b2 @b3 @b4 @b5", "up to 5 peers"),
            ("/commit Try exit tickets by 2020-01-01 with @zed", "has already passed"),
            ("/commit " + "x" * 450 + " by Friday with @zed", "450 characters long"),
            ("/commit by Friday with @zed", "What will you do?"),
        ]
        await console.say("/as ana")
        for typed, expected in refused:
            out = said(await console.say(typed))
            assert expected in out, f"{typed[:60]!r} answered:\n{out}"
        await console.say("/commit Try exit tickets by Friday")
        for typed, expected in [
            ("/commitments edit 1 with @zed" + long_know, "450 characters long"),
            ("/commitments edit 1 with @zed and @ana", "your own accountability"),
        ]:
            out = said(await console.say(typed))
            assert expected in out, f"{typed[:60]!r} answered:\n{out}"
        assert await team_users(console) == {"ana", "ben"}
        assert "zed" not in await known_users(console)
        # Accepted, the same peer joins the team with the commitment.
        out = said(await console.say("/commitments edit 1 with @zed"))
        assert "Updated #1" in out and "with @Zed" in out
        assert await team_users(console) == {"ana", "ben", "zed"}


@pytest.mark.parametrize(
    "typed",
    [
        "in 99999999999999999999 days",
        "in 99999999999 weeks",
        "99999 months",
        "in 9999999 fortnights",
        "in 2000 days",
    ],
)
def test_an_amount_too_far_ahead_is_a_question_not_a_crash(typed: str) -> None:
    with pytest.raises(DateQuestion, match="too far away"):
        read_date(typed, TODAY)
    with pytest.raises(DateQuestion, match="too far away"):
        parse_due(typed, TODAY)


def test_an_amount_within_reach_still_reads() -> None:
    assert read_date("in 3 days", TODAY) == date(2026, 11, 26)
    with pytest.raises(DateQuestion, match="more than a year away"):
        parse_due("in 500 days", TODAY)


async def test_huge_amounts_and_bare_keywords_get_questions(db_url: str, clock: FakeClock) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben")
        out = said(await console.say("/as ana", "/commit Try it by in 99999999999999999999 days"))
        assert "too far away" in out and "went wrong" not in out
        await console.say("/commit Try exit tickets by Friday")
        for typed, expected in [
            ("/commitments edit 1 by", "By when?"),
            ("/commitments edit 1 BY ", "By when?"),
            ("/commitments edit 1 due", "By when?"),
            ("/commitments edit 1 with", "With whom?"),
            ("/commitments edit 1 by in 99999999999999999999 days", "too far away"),
        ]:
            out = said(await console.say(typed))
            assert expected in out, f"{typed!r} answered:\n{out}"
            assert "Updated #1" not in out
        shown = said(await console.say("/commitments show 1"))
        assert "#1 Try exit tickets" in shown and "changed" not in shown


async def test_the_leads_summary_counts_private_items_only_anonymously(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben", "carla", "dee")
        await console.say(
            "/as ben",
            "/channel plc",
            "/commit Shared thing by Friday #A5",  # #1
            "/commit Ben's private thing by Friday with @carla #private #B3",  # #2
            "/as dee",
            "/commit Dee's private thing by tomorrow #private #B3",  # #3, overdue from Wed
            "/clock 2026-11-25T12:00",
        )
        out = said(await console.say("/as ana", "/channel plc", "/commitments summary"))
        assert "Due in this period: 3" in out and "Open: 3" in out
        assert "Overdue now: 1" in out
        assert "Nothing overdue" not in out  # the one overdue item is private, not absent
        assert "Overdue: 1 private item not shown." in out
        assert "2 private items not shown" in out  # in what's carried forward
        # The chart attributes only what Ana may see; the rest is one anonymous bar.
        assert "Ben: done 0, partly 0, not yet 0, open 1" in out
        assert "Dee" not in out
        assert "Ben's private thing" not in out and "Dee's private thing" not in out
        assert "Private, not shown: done 0, partly 0, not yet 0, open 2" in out
        # Indicators only from items Ana may see.
        assert "A5" in out and "[0 of 1 done]" in out and "B3" not in out


async def test_an_outcome_note_stays_with_owner_and_peers_until_shared(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben", "carla")
        await console.say(
            "/as ana",
            "/channel plc",
            "/commit Try exit tickets by tomorrow with @ben",
            "/commitments done 1 The sentence frames carried it",
            "/commitments link 1 https://docs.example.org/tickets",
        )
        for who in ("ana", "ben"):
            seen = said(await console.say(f"/as {who}", "/commitments show 1"))
            assert "The sentence frames carried it" in seen
            assert "sentence frames" in said(await console.say("/commitments search frames"))
        hidden = said(await console.say("/as carla", "/commitments show 1"))
        assert "#1 Try exit tickets" in hidden
        assert "sentence frames" not in hidden and "docs.example.org" not in hidden
        found = said(await console.say("/commitments search frames"))
        assert "Try exit tickets" not in found and "sentence frames" not in found
        assert "Try exit tickets" in said(await console.say("/commitments search tickets"))
        assert "sentence frames" not in said(await console.say("/commitments search tickets"))

        await console.say("/as ana", "/commitments share 1")
        shown = said(await console.say("/as carla", "/commitments show 1"))
        assert "The sentence frames carried it" in shown and "docs.example.org" in shown
        assert "sentence frames" in said(await console.say("/commitments search frames"))


async def test_peers_are_asked_to_check_in_once_per_commitment(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben")
        out = said(
            await console.say(
                "/as ana",
                "/commit Try exit tickets by tomorrow with @ben",
                "/commitments done 1",
                "/commitments partly 1 Only period 3 got to it",  # a correction, same ask
            )
        )
        assert out.count("I'll let @Ben know") == 2
        out = said(await console.say("/clock +11m"))
        assert out.count("A check-in for Ana") == 1
        assert "Outcome: partly. What happened: Only period 3" in out
        out = said(await console.say("/as ana", "/commitments done 1 Period 4 too, in the end"))
        assert "Well done!" in out and "I'll let @Ben know" not in out
        assert "A check-in for Ana" not in said(await console.say("/clock +1d"))


async def test_peers_added_by_an_edit_are_told(db_url: str, clock: FakeClock) -> None:
    async with console_with(db_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben", "carla")
        await console.say(
            "/as ana",
            "/channel plc",
            "/commit Try exit tickets by Friday with @ben",
            "/commit Call two families by Friday #private",
        )
        out = await console.say("/commitments edit 1 with @ben and @carla")
        text = said(out)
        assert "DM to Carla" in text and "DM to Ben" not in text  # Ben knew already
        assert "named you as an accountability partner for a commitment: #1 Try exit" in text
        out = said(await console.say("/commitments edit 2 with @ben"))
        assert "DM to Ben" in out
        assert "named you as an accountability partner for a private commitment: #2" in out
        # Unchanged peers: nobody is told again.
        out = said(await console.say("/commitments edit 2 with @ben by next Friday"))
        assert "Updated #2" in out and "DM to" not in out


async def test_the_term_start_must_be_near(db_url: str, clock: FakeClock) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben")
        for typed, expected in [
            ("/commitments term 1900-01-01", "more than two years ago"),
            ("/commitments term 2024-11-01", "more than two years ago"),
            ("/commitments term 2030-01-01", "The term start should be today or earlier"),
            ("/commitments term in 99999999999999999999 days", "too far away"),
        ]:
            out = said(await console.say("/as ana", typed))
            assert expected in out, f"{typed!r} answered:\n{out}"
            assert "Term start set" not in out
        assert "not set" in said(await console.say("/commitments term"))
        out = said(await console.say("/commitments term 2025-08-01"))
        assert "Term start set to" in out


async def test_a_commitment_made_in_a_private_chat_names_its_team_and_how_to_pick_another(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock) as console:
        await console.say("/as ana", "/channel math", "/team", "/dm")
        one = said(await console.say("/commit Try exit tickets by Friday"))
        assert "Saved as #1 for math" in one and "You're in" not in one
        await console.say("/channel science", "/team", "/channel math", "/dm")
        two = said(await console.say("/commit Try a gallery walk by Friday"))
        assert "Saved as #2 for math" in two
        assert "You're in 2 teams and math is the one you used last" in two
        assert "type /commit in that team's channel" in two
        in_channel = said(
            await console.say("/channel science", "/commit Try think-pair-share by Friday")
        )
        assert "Saved as #1:" in in_channel and "You're in" not in in_channel  # numbered per team


async def test_a_date_question_comes_with_the_form_filled_in_so_one_date_answers_it(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben")
        await console.say("/as ana")
        asked = await console.say("/commit Try exit tickets with @ben #B3 by next week")
        shown = said(asked)
        assert "Which day next week?" in shown
        assert "what: What will you do? [Try exit tickets]" in shown
        assert "peers, optional: who will check in with you? [@ben]" in shown.lower()
        assert "Saved as" not in shown  # nothing stored until the date is given
        saved = said(await console.say(f"/submit {form(asked, 'New commitment')} due=2026-12-01"))
        assert "Saved as #1" in saved and "Try exit tickets" in saved
