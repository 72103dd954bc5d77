"""Sessions in the console, on SQLite and PostgreSQL: buttons, permissions, anonymity,
one session per channel, the neighbouring features' ports, and bad input."""

import asyncio
import logging
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from adapters.console.session import member_for
from bot.clock import FakeClock
from bot.events import MessageEvent
from bot.protocol.context import person
from protocols.engine import Actor, Extend
from protocols.loader import load_library
from storage.protocol_sessions import ProtocolContributionRow
from tests.protocols.support import (
    RecordingAgenda,
    RecordingDrafts,
    active,
    agenda_item,
    button,
    feature,
    form_id,
    team_of_three,
)
from tests.support.harness import running_console


def joined(lines: list[str]) -> str:
    """The output with the console's line wrapping undone, for matching sentences."""
    return re.sub(r"\n  \| +", " ", "\n".join(lines))


def said_without_names(transcript: str, secret: str, names: tuple[str, ...]) -> bool:
    """``secret`` was shown, and never with one of ``names`` just before it."""
    spots = [m.start() for m in re.finditer(re.escape(secret), transcript)]
    return bool(spots) and all(
        not any(name in transcript[max(0, i - 60) : i] for name in names) for i in spots
    )


async def test_a_double_pressed_button_takes_effect_once(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        out = await console.say("/protocol start tuning @ben")
        nxt = button(out, "Next step")
        first = await console.say(f"/press {nxt}")
        second = await console.say(f"/press {nxt}")
        assert "Tuning protocol: step 2 of 9" in joined(first)
        assert joined(second).count("That already happened") == 1
        assert "now on step 2 of 9 (The presenter shares the work)" in joined(second)
        assert "step 3 of 9" not in joined(second)
        assert (await active(console.bot)).state.step == 1


async def test_a_stale_button_answers_where_the_session_is(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        old = button(await console.say("/protocol start tuning @ben"), "Pause")
        await console.say("/protocol next", "/protocol next")
        out = joined(await console.say(f"/press {old}"))
        assert "only Ana sees this" in out and "That already happened" in out
        assert "now on step 3 of 9" in out
        loaded = await active(console.bot)
        assert loaded.state.step == 2 and loaded.state.status == "running"


async def test_only_the_facilitator_or_a_lead_moves_things_anyone_contributes(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start tuning @ben", "/protocol next")
        refused = joined(
            await console.say(
                "/as ben",
                "/protocol next",
                "/protocol end",
                "/protocol extend 5",
                "/protocol role timekeeper @ben",
                "Here is my unit plan.",
            )
        )
        assert refused.count("Only the facilitator (Ana) or a team lead can") == 4
        # Ana hands facilitation to Cam; as the team's lead she can still step in.
        handed = joined(await console.say("/as ana", "/protocol role facilitator @cam"))
        assert "@Cam is now the facilitator." in handed
        cam = joined(await console.say("/as cam", "/protocol next"))
        assert "step 3 of 9" in cam
        ana = joined(await console.say("/as ana", "/protocol back"))
        assert "Back to step 2 of 9" in ana
        ben = joined(await console.say("/as ben", "/protocol back"))
        assert "Only the facilitator (Cam) or a team lead" in ben
        async with console.bot.db.read() as s:
            rows = (await s.scalars(select(ProtocolContributionRow))).all()
        assert [(r.author, r.text) for r in rows] == [("Ben", "Here is my unit plan.")]


async def test_anonymous_contributions_never_show_a_name(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async with running_console(db_url, clock, files=tmp_path) as console:
        await team_of_three(console)
        card = await console.say("/protocol start chalk-talk", "/protocol next")
        added = await console.say("/as cam", "/protocol add --anon Grading feels rushed this term.")
        assert "Added anonymously to Silent writing: Grading feels rushed this term." in joined(
            added
        )
        form = await console.say(f"/press {button(card, 'Add contribution')}")
        assert "Answer with: /protocol add [--anon] TEXT" in joined(form)
        await console.say(
            "/as ben",
            f'/submit {form_id(form)} text="We never see each other\'s rubrics." '
            'anonymous="anonymous"',
            "I'd like to visit another class.",
            "/as ana",
            "/protocol end",
            "/protocol export",
        )
        transcript = joined([line for line in console.lines if line.startswith("  | ")])
        for secret in ("Grading feels rushed", "each other's rubrics"):
            assert said_without_names(transcript, secret, ("Cam", "Ben"))
        assert "Ben: I'd like to visit another class." in transcript
        markdown = (tmp_path / "plcbot-session-1-chalk-talk.md").read_text()
        assert "- **Anonymous:** Grading feels rushed this term." in markdown
        assert "- **Ben:** I'd like to visit another class." in markdown
        async with console.bot.db.read() as s:
            rows = (await s.scalars(select(ProtocolContributionRow))).all()
        anonymous = [r for r in rows if r.anonymous]
        assert len(anonymous) == 2
        assert all(r.member_id is None and r.author is None for r in anonymous)


async def test_anonymity_is_refused_where_names_matter(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start tuning @ben", "/protocol next", "/protocol next")
        out = joined(await console.say("/as cam", "/protocol add --anon Who wrote the task?"))
        assert 'Contributions to "Clarifying questions" carry names' in out
        async with console.bot.db.read() as s:
            assert (await s.scalars(select(ProtocolContributionRow))).all() == []


async def test_one_session_per_channel_and_replacing_it_asks_first(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start tuning @ben")
        asked = await console.say("/protocol start consultancy @cam")
        assert "Tuning protocol is still running in this channel (step 1 of 9)" in joined(asked)
        keep = joined(await console.say(f"/press {button(asked, 'Keep Tuning protocol')}"))
        assert "the current session carries on" in keep
        replace = button(asked, "End it, start Consultancy")
        refused = joined(await console.say("/as ben", f"/press {replace}"))
        assert "Only the facilitator (Ana) or a team lead can end the session" in refused
        assert (await active(console.bot)).definition.id == "tuning"
        done = joined(await console.say("/as ana", f"/press {replace}"))
        assert "Summary: Tuning protocol (session #1)" in done
        assert "Consultancy: step 1 of 7" in done
        again = joined(await console.say(f"/press {replace}"))
        assert "That already happened: Consultancy is running here now." in again
        assert (await active(console.bot)).definition.id == "consultancy"


async def test_the_neighbouring_features_see_the_start_and_the_next_steps(
    db_url: str, clock: FakeClock
) -> None:
    agenda = RecordingAgenda([agenda_item("Ben", "Share the revised rubric")])
    drafts = RecordingDrafts()
    async with running_console(db_url, clock) as console:
        feature(console.bot).agenda = agenda
        feature(console.bot).drafts = drafts
        await team_of_three(console)
        start = joined(await console.say("/protocol start pdsa-cycle"))
        assert "Last time we said:" in start
        assert "Ben: Share the revised rubric (#4)  [open, due Fri 27 Nov]" in start
        await console.say("/protocol next", "/protocol next", "/protocol next")
        await console.say(
            "/as ben",
            "Try exit tickets with 5B by Friday.",
            "/as cam",
            "/protocol add Collect the tickets and chart them.",
            "/as ana",
            "/protocol next",
        )
    assert agenda.asked == [1]
    owners = {p.owner_member_id: p.text for p in drafts.proposed}
    assert sorted(owners.values()) == [
        "Collect the tickets and chart them.",
        "Try exit tickets with 5B by Friday.",
    ]
    assert all(p.session_id == 1 and p.team_id == 1 for p in drafts.proposed)
    assert all(p.indicators == () for p in drafts.proposed)  # the owner picks, in the form


async def test_home_shows_the_teams_running_sessions(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        bot = console.bot
        assert await feature(bot).home(await _member(bot, "ben")) == ()
        await console.say("/protocol start tuning @ben", "/protocol next")
        home = await bot.home_for(await _member(bot, "ben"))
    shown = str(home.blocks)
    assert "Tuning protocol in #plc: step 2 of 9, The presenter shares the work" in shown


async def _member(bot, user_id: str):  # type: ignore[no-untyped-def]
    from storage import identity

    async with bot.db.read() as s:
        member = await identity.find_member(s, 1, user_id)
    assert member is not None
    return member


async def test_history_and_export_list_and_give_the_record(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    async with running_console(db_url, clock, files=tmp_path) as console:
        await team_of_three(console)
        empty = joined(await console.say("/protocol history"))
        assert "hasn't run a protocol with me yet" in empty
        await console.say("/protocol start compass-points", "North: I like to get going.")
        running = joined(await console.say("/protocol history", "/protocol export 1"))
        assert "#1 Compass points: today 09:00, running now, 1 contribution  [running]" in running
        assert "saved plcbot-session-1-compass-points.md" in running
        await console.say("/protocol end")
        out = joined(await console.say("/protocol export 9", "/protocol export x"))
        assert "This team has no session #9" in out and "Give the session's number" in out
    record = (tmp_path / "plcbot-session-1-compass-points.md").read_text()
    assert record.startswith("# Compass points: session #1")
    assert "- **Ana:** North: I like to get going." in record


async def test_bad_input_gets_one_line_and_breaks_nothing(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        out = joined(
            await console.say(
                "/protocol next",
                "/protocol start tunning",
                "/protocol start",
                "/protocol start tuning --async fortnightly",
                "/protocol start tuning --async 5m",
                "/protocol start tuning --auto --async 2d",
                "/protocol start tuning --loud",
                "/protocol start chalk-talk @ben",
                "/protocol info onoin",
            )
        )
        assert "No protocol is running in this channel" in out
        assert "I don't know a protocol called 'tunning'. Did you mean tuning" in out
        assert "Which protocol?" in out
        assert "couldn't read 'fortnightly' as a length of time" in out
        assert "Keep each step open between 1h and 14d" in out
        assert "not both" in out and "I don't know the option --loud" in out
        assert "Chalk talk has no presenter role" in out
        assert "Did you mean peeling-the-onion" in out
        await console.say("/protocol start tuning @ben")
        out = joined(
            await console.say(
                "/protocol pass",
                "/protocol resume",
                "/protocol extend lots",
                "/protocol add hello",
                "/protocol next",
                "/as cam",
                "x" * 3001,
                "/protocol add \x1b[31mBell\x07 and\x00 escape",
            )
        )
        assert "Pass is for rounds" in out and "The session isn't paused" in out
        assert "Say how many minutes" in out
        assert "doesn't collect contributions" in out
        assert "The contribution is 3,001 characters long; please keep it under 3,000" in out
        assert "Traceback" not in console.text and "went wrong" not in console.text
        async with console.bot.db.read() as s:
            rows = (await s.scalars(select(ProtocolContributionRow))).all()
        assert [r.text for r in rows] == ["[31mBell and escape"]


async def test_concurrent_changes_are_retried_not_lost(
    db_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Four extends at once: each write checks the version; losers step again on fresh state."""
    caplog.set_level(logging.INFO, logger="bot.protocol.runner")
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start tuning @ben")
        runner = feature(console.bot).runner
        loaded = await active(console.bot)
        ana = person(await _member(console.bot, "ana"))
        await asyncio.gather(
            *(runner.apply(loaded.id, Extend(Actor(ana, True), 1)) for _ in range(4))
        )
        after = await active(console.bot)
        assert after.state.total_seconds == 3 * 60 + 4 * 60
        assert after.version == loaded.version + 4
    if "postgresql" in db_url:  # SQLite's BEGIN IMMEDIATE queues writers; PostgreSQL races
        assert "changed while handling Extend" in caplog.text


async def test_roles_rotate_from_who_held_them_last_time(db_url: str, clock: FakeClock) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/as dee", "Hello from Dee.", "/as ana")
        await console.say(
            "/protocol start tuning @ben",
            "/protocol role timekeeper @cam",
            "/protocol role note-taker @ana",
            "/protocol end",
        )
        start = joined(await console.say("/protocol start consultancy @cam"))
        assert "Last time, Ana facilitated, Ben presented, Cam kept time, Ana took notes." in start
        # Dee held no role last time, so Dee is asked first.
        assert "how about @Dee as timekeeper and @Ben as note-taker?" in start
        assert "Ana facilitated last time too. Next time, maybe @Dee could lead" in start
        roles = joined(await console.say("/protocol roles"))
        assert "Facilitator: @Ana · Presenter: @Cam · Timekeeper: nobody yet" in roles
        refused = joined(await console.say("/protocol role cook @ben", "/protocol role timekeeper"))
        assert "'cook' isn't a role here" in refused and "Name the role and the person" in refused


async def test_thread_replies_to_the_card_count_and_other_threads_do_not(
    db_url: str, clock: FakeClock
) -> None:
    async with running_console(db_url, clock) as console:
        await team_of_three(console)
        await console.say("/protocol start chalk-talk", "/protocol next")
        bot = console.bot
        card = (await active(bot)).row.card
        assert card is not None

        async def reply(text: str, reply_to: str | None) -> None:
            event = MessageEvent(
                event_id=f"evt-{text}",
                at=clock.now(),
                actor=member_for("cam"),
                conversation=console.session.conversation,
                text=text,
                reply_to=reply_to,
            )
            await bot.dispatcher.handle(event, console.session.messenger)

        await reply("In the card's thread.", card["message_id"])
        await reply("In some other thread.", "m999")
        await reply("Straight in the channel.", None)
        async with bot.db.read() as s:
            rows = (await s.scalars(select(ProtocolContributionRow))).all()
        assert [r.text for r in rows] == ["In the card's thread.", "Straight in the channel."]


async def test_a_schools_own_protocols_load_beside_the_library(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    library = load_library()
    ours = library.protocols["tuning"].model_dump(mode="json")
    ours["title"] = "Tuning at Lincoln"
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "tuning.yaml").write_text(yaml.safe_dump(ours))
    (folder / "typo.yaml").write_text("id: typo\nstep: []\n")
    async with running_console(db_url, clock, PLCBOT_PROTOCOLS_DIR=str(folder)) as console:
        await team_of_three(console)
        out = joined(await console.say("/protocol list", "/protocol start tuning @ben"))
    assert "tuning: Tuning at Lincoln (60 min" in out
    assert "typo" not in out
    assert "Tuning at Lincoln: step 1 of 9" in out
