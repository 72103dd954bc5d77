"""The ports the protocols feature calls: next steps proposed as drafts (each owner confirms,
edits or skips theirs), and the open items a team carries into its next session."""

from datetime import date

from sqlalchemy import select

from bot.clock import FakeClock
from bot.ports import ProposedCommitment
from storage.commitments import CommitmentRow
from tests.commitments.support import (
    button,
    console_with,
    feature,
    form,
    join,
    member,
    message,
    said,
    team_id,
)


async def test_proposed_next_steps_become_commitments_once_confirmed(
    db_url: str, clock: FakeClock
) -> None:
    async with console_with(db_url, clock) as console:
        await join(console, "ana", "ben", "carla", "dee")
        team = await team_id(console)
        ids = {name: (await member(console, name)).id for name in ("ana", "ben", "carla", "dee")}
        drafts = feature(console)
        proposals = [
            ProposedCommitment(
                team, ids["ben"], "Try exit tickets by Friday with @carla", 7, ("B3",)
            ),
            ProposedCommitment(team, ids["carla"], "Observe Ben's class", 7),
            ProposedCommitment(team, ids["dee"], "Read the article", 7),
        ]
        start = len(console.lines)
        await drafts.propose(proposals)
        await drafts.propose(proposals[:1])  # a repeated call proposes nothing new
        prompts = said(console.lines[start:])
        assert prompts.count("Your next step from the meeting") == 3
        assert "DM to Ben" in prompts and "DM to Carla" in prompts and "DM to Dee" in prompts
        assert "Make it a commitment?" in prompts

        # Ben's form is prefilled from what he said: the step, his date, his peer, the indicator.
        ben_prompt = message(console.lines[start:], "DM to Ben")
        ben_form = said(ben_prompt)
        assert "In the meeting you named this next step: Try exit tickets by Friday" in ben_form
        assert "Answer with: /commitments confirm 1" in ben_form
        ben_form_id = form(ben_prompt, "Confirm your next step")
        fields = console.session.messenger.controls[ben_form_id]
        assert fields.form is not None
        initial = {i.input_id: i.initial for i in fields.form.inputs}
        assert initial["what"] == "Try exit tickets" and initial["due"] == "2026-11-27"
        assert initial["peers"] == "@carla" and initial["indicators"] == "B3"

        # Ben confirms with a change of date, through the form.
        out = await console.say(
            "/as ben",
            "/dm",
            f'/submit {ben_form_id} what="Try exit tickets" due="next Tuesday" peers="@carla" '
            'indicators="B3" visibility=shared',
        )
        assert "Saved as #1 for plc" in said(out)
        assert "@Ben committed to: Try exit tickets (by Tue 1 Dec, with @Carla checking in)" in (
            said(out)
        )
        again = said(await console.say(f'/submit {ben_form_id} what="x" due="Friday"'))
        assert "already answered proposal 1" in again

        # Carla confirms by command, keeping her step and the default date (a week on).
        out = await console.say("/as carla", "/dm", "/commitments", "/commitments confirm 2")
        assert "waiting for you to confirm" in said(out) and "Observe Ben's class" in said(out)
        assert "Saved as #2 for plc: Observe Ben's class, due Mon 30 Nov" in said(out)

        # Dee sets hers aside; nobody can answer someone else's.
        out = await console.say("/as ana", "/dm", "/commitments confirm 3")
        assert "no proposed next step 3 waiting for you" in said(out)
        dee_skip = button(message(console.lines[start:], "DM to Dee"), "Not this time")
        out = await console.say("/as dee", "/dm", f"/press {dee_skip}", "/commitments confirm 3")
        assert "set it aside" in said(out) and "already answered proposal 3" in said(out)

        async with console.bot.db.read() as session:
            rows = (
                await session.execute(
                    select(
                        CommitmentRow.what, CommitmentRow.session_id, CommitmentRow.due_on
                    ).order_by(CommitmentRow.number)
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("Try exit tickets", 7, date(2026, 12, 1)),
            ("Observe Ben's class", 7, date(2026, 11, 30)),
        ]

        # The next session opens with the team's open, shared items.
        agenda = await feature(console).open_items(team)
        assert [(a.ref, a.owner, a.status) for a in agenda] == [
            ("#2", "Carla", "open"),
            ("#1", "Ben", "open"),
        ]


async def test_a_proposal_for_someone_outside_the_team_is_not_sent(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with console_with(sqlite_url, clock) as console:
        await join(console, "ana")
        await join(console, "eve", channel="maths")
        start = len(console.lines)
        eve = await member(console, "eve")
        await feature(console).propose(
            [ProposedCommitment(await team_id(console), eve.id, "Something", 3)]
        )
        assert console.lines[start:] == []
