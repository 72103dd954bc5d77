"""The whole loop as people would type it, on a fake clock, on SQLite and PostgreSQL:
commit, remind (skipping a quiet day), report, note, share, peer check-in and replies, silence,
a restart in the middle, the leads' summary, and carry-over into the next meeting."""

from datetime import date
from pathlib import Path

from bot.clock import FakeClock
from tests.commitments.calendar import QuietSet
from tests.commitments.support import (
    button,
    console_with,
    feature,
    form,
    join,
    member,
    render_plain,
    said,
    team_id,
)

# Thanksgiving (Thu 26 Nov) and the weekends are quiet.
QUIET = QuietSet(
    {
        date(2026, 11, 26),
        date(2026, 11, 27),
        date(2026, 11, 28),
        date(2026, 11, 29),
        date(2026, 12, 5),
        date(2026, 12, 6),
    }
)


async def test_the_whole_loop(db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    # Monday 23 Nov, 09:00 UTC (the team's zone): Ana commits, with Ben as her peer.
    async with console_with(db_url, clock, QUIET, tmp_path) as console:
        await join(console, "ana", "ben", "carla")
        out = await console.say(
            "/as ana",
            "/commit Try exit tickets in period 3 by Thursday with @ben #B3 "
            "know: most tickets show the key idea",
        )
        text = said(out)
        assert "@Ana committed to: Try exit tickets in period 3 (by Thu 26 Nov" in text
        assert "with @Ben checking in). That's #1." in text
        assert "Saved as #1" in text
    # plcbot restarts; nothing planned is lost.
    async with console_with(db_url, clock, QUIET, tmp_path) as console:
        out = await console.say("/clock 2026-11-25T15:29")
        assert "DM to Ana" not in said(out)
        out = await console.say("/clock 2026-11-25T15:31")
        assert "DM to Ana" in said(out) and "A friendly reminder: #1" in said(out)
        assert "(due tomorrow)" in said(out)
        # Thanksgiving and the long weekend are quiet: "How did it go?" waits for Monday.
        out = await console.say("/clock 2026-11-29T23:00")
        assert "How did it go?" not in said(out)

        # Monday afternoon: "How did it go?", one tap, then a note with a link.
        out = await console.say("/clock 2026-11-30T15:30")
        assert "How did it go?" in said(out)
        out = await console.say("/as ana", "/dm", f"/press {button(out, 'Partly')}")
        assert "Recorded as partly done" in said(out)
        assert "I'll let @Ben know" in said(out)
        out = await console.say(f"/press {button(out, 'Add a note')}")
        out = await console.say(
            f"/submit {form(out, 'What happened? (#1)')} "
            'note="Two classes used them; the why-question worked best" '
            "link=https://docs.example.org/tickets"
        )
        assert "Saved what happened on #1" in said(out)

        # Ben hears about it a few minutes later, and writes back.
        out = await console.say("/clock +11m")
        peer = said(out)
        assert "DM to Ben" in peer and "A check-in for Ana" in peer
        assert "Outcome: partly. What happened: Two classes used them" in peer
        out = await console.say(
            "/as ben",
            "/dm",
            f'/submit {form(out, "A word for Ana")} message="Which why-question did you use?"',
        )
        assert "DM to Ana" in said(out) and "@Ben wrote: Which why-question did you use?" in said(
            out
        )
        assert "Sent to Ana." in said(out)
        out = await console.say("/as ana", "/commitments reply 1 Why is this one true?")
        assert "DM to Ben" in said(out) and "@Ana wrote: Why is this one true?" in said(out)

        # Ana shares the outcome with the team.
        out = await console.say("/commitments share 1")
        shared = said(out)
        assert "#plc <plcbot>" in shared and "Results shared with the team" in shared
        assert "@Ana tried: Try exit tickets in period 3. Outcome: partly." in shared
        assert "See the evidence <https://docs.example.org/tickets>" in shared

        # Carla commits privately with Ana as peer, and goes quiet.
        out = await console.say(
            "/as carla", "/channel", "/commit Call two families by Dec 2 with @ana #private"
        )
        assert "Carla committed" not in said(out)  # nothing posted for the team
        assert "DM to Ana" in said(out) and "private commitment" in said(out)
        # Ben makes two shared ones.
        await console.say(
            "/as ben",
            "/commit Share my rubric by Dec 3",
            "/commit Try think-pair-share by Dec 10",
        )
        out = await console.say("/clock 2026-12-02T15:30")
        assert "How did it go?" in said(out) and "DM to Carla" in said(out)
        assert "Carla" not in said(await console.say("/clock 2026-12-03T15:00"))
        out = await console.say("/clock 2026-12-03T16:00", "/as ben", "/commitments done 3")
        assert "Well done! Recorded as done." in said(out)
        # Two open days of silence from Carla: her peer Ana is asked to check in.
        out = await console.say("/clock 2026-12-04T15:29")
        assert "A check-in for Carla" not in said(out)
        out = await console.say("/clock 2026-12-04T15:31")
        nudge = said(out)
        assert "DM to Ana" in nudge and "A check-in for Carla" in nudge
        assert "I haven't heard how it went yet" in nudge

        # Ana (the lead) reads the week's summary.
        out = await console.say("/as ana", "/channel", "/commitments summary this week")
        summary = said(out)
        assert "Commitments in plc: this week (30 Nov - 6 Dec)" in summary
        assert "Due in this period: 2" in summary
        assert "Done: 1" in summary and "Open: 1" in summary and "Overdue now: 1" in summary
        assert "Completion: 50%" in summary
        assert "w/c 23 Nov: 0% · this week: 50% (up from 0%)" in summary  # #1 was partly
        assert "[picture: Commitments due this week, by member]" in summary
        assert "Ben: done 1" in summary and "Carla: done 0, partly 0, not yet 0, open 1" in summary
        # Carla's private item shows to Ana because Ana is her peer.
        assert "#2 @Carla: Call two families (due Wed 2 Dec, with @Ana, private)" in summary
        assert "#4 @Ben: Try think-pair-share" in summary

        # The next protocol session starts with the team's open, shared items.
        agenda = await feature(console).open_items(await team_id(console))
        assert [(a.ref, a.owner, a.text, a.due) for a in agenda] == [
            ("#4", "Ben", "Try think-pair-share", date(2026, 12, 10))
        ]
        # And Ana's home shows what she was asked to check on.
        home = render_plain(await console.bot.home_for(await member(console, "ana")))
        assert "Your peers would love a check-in" in home
        assert "Carla (#2): Call two families" in home
