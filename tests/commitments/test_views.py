"""The views people use between meetings: mine, home, help, and the term a summary covers."""

from bot.clock import FakeClock
from tests.commitments.calendar import QuietSet
from tests.commitments.support import console_with, join, member, render_plain, said


async def test_mine_and_home_show_open_and_settled_items(sqlite_url: str, clock: FakeClock) -> None:
    async with console_with(sqlite_url, clock, QuietSet()) as console:
        await join(console, "ana", "ben")
        await console.say(
            "/as ana",
            "/commit Try exit tickets by Friday",
            "/commit Call families by tomorrow #private",
            "/commit Read the article by Dec 15",
            "/commitments done 3 Useful for the unit plan",
        )
        mine = said(await console.say("/commitments"))
        assert "Open: - #2 Call families (due tomorrow, private)  [open]" in mine
        assert "- #1 Try exit tickets (due Fri 27 Nov)  [open]" in mine
        assert "Settled lately: - #3 Read the article (due Tue 15 Dec)  [done]" in mine
        home = render_plain(await console.bot.home_for(await member(console, "ana")))
        assert "Your open commitments:" in home
        assert "#2 Call families (due tomorrow, private)  [open]" in home
        assert "Read the article" not in home
        assert "Nothing open" in render_plain(
            await console.bot.home_for(await member(console, "ben"))
        )


async def test_help_lists_the_subcommands(sqlite_url: str, clock: FakeClock) -> None:
    async with console_with(sqlite_url, clock) as console:
        out = said(await console.say("/commitments help", "/commit help"))
    assert "/commitments summary [this week|this month|term]" in out
    assert "/commitments done N [NOTE]" in out
    assert "/commit TEXT by DATE [with @peer ...] [#B3] [#private] [know: HOW]" in out


async def test_a_lead_sets_when_the_term_started(sqlite_url: str, clock: FakeClock) -> None:
    async with console_with(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        refused = said(await console.say("/as ben", "/commitments term Oct 12"))
        assert "Only a team lead can set when the term started" in refused
        out = said(
            await console.say(
                "/as ana",
                "/commitments term",
                "/commitments term 2026-10-12",
                "/commitments term",
                "/commitments summary term",
            )
        )
        assert "This term started: not set" in out
        assert "Term start set to Mon 12 Oct" in out and "This term started: Mon 12 Oct" in out
        assert "Commitments in plc: this term so far (12 Oct - 23 Nov)" in out
        assert "Oct: - · Nov: -" in out
