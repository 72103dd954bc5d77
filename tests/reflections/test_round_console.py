"""A whole reflection round driven through the console, as a team would live it."""

import re
from datetime import UTC, datetime, timedelta

from bot.clock import FakeClock
from tests.reflections.support import messages_seen_by, said
from tests.support.harness import Console, running_console

FRIDAY_3PM = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


async def tick(
    console: Console, until: datetime, step: timedelta = timedelta(hours=1)
) -> list[str]:
    """Move the clock hour by hour, running what comes due, as a running bot would."""
    start = len(console.lines)
    clock = console.session.clock
    assert clock is not None
    while clock.now() < until:
        clock.advance(min(step, until - clock.now()))
        await console.bot.scheduler.run_due()
    return console.lines[start:]


def form_id(lines: list[str], member: str) -> tuple[str, str]:
    """The console ids of the answer form and skip button in ``member``'s latest prompt."""
    text = "\n".join(lines)
    block = text.rsplit(f"DM to {member} <plcbot>", 1)[1]
    form = re.search(r"\[(f\d+)\] Your reflection", block)
    skip = re.search(r"\[(b\d+) Skip this one\]", block)
    assert form and skip
    return form.group(1), skip.group(1)


def prompt_number(lines: list[str], member: str) -> str:
    block = "\n".join(lines).rsplit(f"DM to {member} <plcbot>", 1)[1]
    found = re.search(r"/reflect answer (\d+) YOUR ANSWER", block)
    assert found
    return found.group(1)


async def join(console: Console, *people: str) -> None:
    for person in people:
        await console.say(f"/as {person}", "/channel", "/team")


async def test_a_round_from_schedule_to_digest(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await join(console, "ana", "ben America/New_York", "cy", "dee", "eve")
        set_out = said(
            await console.say("/as ana", "/reflect schedule weekly fri 15:00 indicators B3")
        )
        assert "Every Friday at 15:00 (each person's own time)" in set_out
        assert "The first one comes on Fri 27 Nov" in set_out

        at_three = await tick(console, FRIDAY_3PM)
        assert said(at_three).count("A moment to reflect") == 4  # everyone but Ben, in UTC
        assert "DM to Ben" not in said(at_three)
        later = await tick(console, FRIDAY_3PM + timedelta(hours=5))
        assert "[Fri 20:00] DM to Ben" in later[0]  # 15:00 in New York
        lines = at_three + later

        # Ana answers in the form and shares with her name; Ben types a line in his DM;
        # Cy answers by command, anonymously; Dee skips; Eve says nothing.
        ana_form, _ = form_id(lines, "Ana")
        _, dee_skip = form_id(lines, "Dee")
        out = said(
            await console.say(
                "/as ana",
                "/dm",
                f'/submit {ana_form} answer="Exit tickets showed who was lost" share="team"',
                "/as ben",
                "/dm",
                "My quiet secret about period 3",
                "/as cy",
                "/dm",
                f"/reflect answer {prompt_number(lines, 'Cy')} Peer feedback rounds --share anon",
                "/as dee",
                "/dm",
                f"/press {dee_skip}",
            )
        )
        assert "shared with your team, with your name" in out
        assert "kept private (only you can read it)" in out
        assert "shared with your team anonymously" in out
        assert "Skipped. No reminder for this one." in out

        # One gentle reminder on the next school day (Monday), by DM, only to Eve.
        weekend = await tick(console, datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
        nudges = [line for line in weekend if "A gentle nudge" in line]
        assert len(nudges) == 1 and "[Mon 15:00] DM to Eve" in "\n".join(weekend)
        assert not any(line.startswith("[") and "#plc" in line for line in weekend)

        # The digest on Tuesday (two school days after Friday) in the channel.
        closing = await tick(console, datetime(2026, 12, 1, 16, 0, tzinfo=UTC))
        digest = said(closing)
        assert "[Tue 15:00] #plc <plcbot>" in closing[0]
        assert "Answered: 3 of 5" in digest
        assert "Exit tickets showed who was lost - Ana" in digest
        assert "Peer feedback rounds - anonymous" in digest
        assert "period 3" not in digest
        assert "A question for your next meeting" in digest

        status = said(await console.say("/as ana", "/channel", "/reflect status"))
        assert "3 of 5 answered (closed)" in status and "Next round: Fri 4 Dec" in status
        mine = said(await console.say("/as ben", "/dm", "/reflect mine"))
        assert "My quiet secret about period 3 [private]" in mine
        answer_id = re.search(r"#(\d+) Fri 27 Nov", mine) or re.search(r"#(\d+) ", mine)
        assert answer_id
        gone = said(await console.say(f"/reflect delete {answer_id.group(1)}", "/reflect mine"))
        assert "is deleted for good" in gone and "haven't answered a reflection prompt" in gone


async def test_a_lead_never_sees_a_private_answer(db_url: str, clock: FakeClock) -> None:
    secret = "I am struggling with my year 9 class"
    async with running_console(db_url, clock) as console:
        await join(console, "ana", "ben", "cy", "dee")
        await console.say("/as ana", "/reflect now")
        await console.bot.scheduler.run_due()
        lines = list(console.lines)
        ben_form, _ = form_id(lines, "Ben")
        ben_prompt = prompt_number(lines, "Ben")
        await console.say("/as ben", "/dm", f'/submit {ben_form} answer="{secret}"')
        for person in ("cy", "dee"):
            await console.say(f"/as {person}", "/dm", f"Shared thought from {person}")
        mine = said(await console.say("/as ben", "/reflect mine"))
        ben_answer = re.search(r"#(\d+) today", mine)
        assert ben_answer and secret in mine
        # The lead tries everything: every command, Ben's prompt and answer numbers, his form.
        await console.say(
            "/as ana",
            "/channel",
            "/reflect status",
            "/reflect report",
            "/reflect mine",
            "/reflect",
            f"/reflect answer {ben_prompt} overwritten by the lead",
            f"/reflect share {ben_answer.group(1)} team",
            f"/reflect delete {ben_answer.group(1)}",
            f'/submit {ben_form} answer="lead was here" share="team"',
            "/dm",
            "/reflect mine",
        )
        await console.say("/clock +3d")
        seen_by_lead = "\n".join(messages_seen_by(console.lines, "Ana"))
        assert "Answered: 3 of 4" in seen_by_lead  # the digest reached the channel
        assert "struggling" not in seen_by_lead
        assert "Shared thought" not in seen_by_lead  # private by default, even with 3+ answers
        assert seen_by_lead.count("I can't find") >= 4
        check = said(await console.say("/as ben", "/dm", "/reflect mine"))
        assert secret in check and "[private]" in check and "lead was here" not in check


async def test_bad_input_gets_friendly_answers(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        await join(console, "ana", "ben")
        out = said(
            await console.say(
                "/as ana",
                "/reflect schedule weekly sat 10:00",
                "/reflect schedule fortnightly fri 15:00",
                "/reflect schedule weekly fri 15:00 indicators D7",
                "/reflect skip next",
                "/reflect pause",
                "/reflect answer",
                "/reflect answer abc hello",
                "/reflect answer 999 hello",
                "/reflect answer 1 hi --share everyone",
                "/reflect delete",
                "/reflect share 5",
                "/reflect prompts add Z1 What now?",
                "/reflect prompts add B3 short",
                "/reflect year 2026-09-01..2026-09-10",
                "/reflect frobnicate",
                "/as ben",
                "/reflect schedule weekly fri 15:00",
                "/reflect now",
                "/dm",
                "/reflect schedule weekly fri 15:00",
            )
        )
    assert "Saturday is a weekend day" in out
    assert "Schedules are weekly for now" in out
    assert "D7 isn't an indicator" in out
    assert "no upcoming round to skip" in out and "has no reflection schedule yet" in out
    assert (
        "Say which prompt and your answer" in out
        and "'abc' isn't a number; use the number shown with the prompt" in out
    )
    assert "I can't find prompt 999 among yours" in out
    assert "'everyone' isn't a sharing choice" in out
    assert "Say which answer, by its number" in out and "Say who may read it" in out
    assert "'Z1' isn't an indicator code" in out and "very short" in out, out
    assert "shorter than a month" in out
    assert "/reflect has no 'frobnicate'" in out
    assert "Only a team lead can set the reflection schedule" in out
    assert "Only a team lead can start a reflection round" in out
    assert "in your team's channel" in out
    assert "Traceback" not in out and "went wrong" not in out, out
