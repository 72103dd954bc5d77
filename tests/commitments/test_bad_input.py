"""Bad input gets a clear answer saying what to do, and nothing is stored half-way."""

from pathlib import Path

from sqlalchemy import func, select

from adapters.console.session import member_for
from bot.clock import FakeClock
from bot.events import CommandEvent, ConversationRef
from storage.commitments import CommitmentEventRow, CommitmentPeerRow, CommitmentRow
from storage.models import JobRow
from tests.commitments.support import button, console_with, form, join, said
from tests.support.harness import Console

ANSWERS = [
    # (typed, the answer must say)
    ("/commit #B3 by Friday", "What will you do?"),
    ("/commit by Friday with @ben", "What will you do?"),
    ("/commit Try exit tickets", "By when? Add 'by' and a date at the end"),
    ("/commit Try exit tickets by 2020-01-01", "has already passed. When should it be due?"),
    ("/commit Try exit tickets by yesterday", "has already passed"),
    ("/commit Try exit tickets by Nov 20", "Nov 20 has already passed this year"),
    ("/commit Try exit tickets by someday", "I couldn't read 'someday' as a date"),
    ("/commit Stand by me", "If 'by me' is part of what you'll do, put the date at the very end"),
    ("/commit Try exit tickets by next week", "Which day next week?"),
    ("/commit Try exit tickets by 5/12", "Is 5/12 Dec 5 or May 12?"),
    ("/commit " + "x" * 450 + " by Friday", "The commitment is 450 characters long"),
    ("/commit Try exit tickets by Friday #Z9", "#Z9 isn't one of the standard's indicators"),
    ("/commit Try exit tickets by Friday with @ana", "can't be your own accountability partner"),
    (
        "/commit Plan by Friday with @b1 @b2 @b3 @b4 @b5 @b6",
        "Name up to 5 peers",
    ),
    ("/commitments done", "Say which commitment by its number"),
    ("/commitments done twelve", "Say which commitment by its number"),
    ("/commitments done 1 " + "y" * 2100, "The note is 2,100 characters long"),
    ("/commitments done 7", "You have no commitment #7 here"),
    ("/commitments note 1", "Write the note after the number"),
    ("/commitments link 1 not-a-link", "should be a web address starting with https://"),
    ("/commitments edit 1 #", "What will you do?"),
    ("/commitments edit 1 #shared", "Updated #1"),  # already shared: no change is stored
    ("/commitments edit 1 by 2019-05-01", "has already passed"),
    ("/commitments reply 1", "Write your note after the number"),
    ("/commitments reply 1 hello", "has no peers to write to"),
    ("/commitments share 1", "Tell me how #1 went first"),
    ("/commitments search a", "What should I look for?"),
    ("/commitments summary next year", "Summaries cover this week, this month or term"),
    ("/commitments term 2030-01-01", "The term start should be today or earlier"),
    ("/commitments edit 1 know:", "Tell me what to change"),
    ("/commitments frobnicate", "/commitments has no 'frobnicate'"),
]


async def counts(console: Console) -> tuple[int, int, int, int]:
    async with console.bot.db.read() as session:

        async def count(model: type) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        return (
            await count(CommitmentRow),
            await count(CommitmentPeerRow),
            await count(CommitmentEventRow),
            await count(JobRow),
        )


async def test_bad_input_is_answered_and_nothing_is_stored(
    sqlite_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async with console_with(sqlite_url, clock, files=tmp_path) as console:
        await join(console, "ana", "ben")
        await console.say("/as ana", "/commit Try exit tickets by Friday")
        before = await counts(console)
        for typed, expected in ANSWERS:
            out = said(await console.say(typed))
            assert expected in out, f"{typed[:60]!r} answered:\n{out}"
            assert "went wrong" not in out and "Traceback" not in out
        assert await counts(console) == before
        async with console.bot.db.read() as session:
            row = await session.scalar(select(CommitmentRow))
        assert row is not None and row.status == "open" and row.outcome_note is None


async def test_control_characters_are_stripped_and_text_stays_plain(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with console_with(sqlite_url, clock) as console:
        await join(console, "ana")
        out = said(await console.say("/commit Try\x07 <!channel> *exit* tickets\x1b[31m by Friday"))
        assert "committed to: Try <!channel> *exit* tickets[31m (by Fri 27 Nov" in out
        async with console.bot.db.read() as session:
            what = await session.scalar(select(CommitmentRow.what))
        assert what == "Try <!channel> *exit* tickets[31m"


async def test_an_unknown_peer_from_a_platform_or_a_form_is_named(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with console_with(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        # Slack and Teams send @names they could not resolve as plain text, without a mention.
        event = CommandEvent(
            event_id="unresolved-1",
            at=clock.now(),
            actor=member_for("ana"),
            conversation=ConversationRef("console", "console", "plc", name="plc"),
            name="commit",
            text="Try exit tickets by Friday with @zed",
        )
        await console.bot.dispatcher.handle(event, console.session.messenger)
        assert "I don't know @zed in this team yet" in said(console.lines[-2:])
        # The form names peers as plain text too.
        new = form(await console.say("/as ana", "/commitments new"), "New commitment")
        out = await console.say(
            f'/submit {new} what="Try exit tickets" due="Friday" peers="@ben, @zed" '
            "visibility=shared"
        )
        assert "I don't know @zed in this team yet" in said(out)
        out = await console.say(f'/submit {new} what="Try exit tickets" due="2020-01-01"')
        assert "has already passed" in said(out)
        assert await counts(console) == (0, 0, 0, 0)


async def test_a_double_tap_records_once(sqlite_url: str, clock: FakeClock) -> None:
    async with console_with(sqlite_url, clock) as console:
        await join(console, "ana")
        await console.say("/commit Try exit tickets by tomorrow")
        out = await console.say("/clock 2026-11-24T15:30", "/as ana", "/dm")
        done = button(out, "Done")
        first = said(await console.say(f"/press {done}"))
        again = said(await console.say(f"/press {done}"))
        assert "Well done!" in first and "Already recorded: #1 is done." in again
        async with console.bot.db.read() as session:
            kinds = (await session.scalars(select(CommitmentEventRow.kind))).all()
        assert list(kinds) == ["created", "status"]
