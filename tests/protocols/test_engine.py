"""The pure engine, with plain values: permissions, time, rounds, contributions, modes."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from protocols import engine
from protocols.engine import (
    Actor,
    Announce,
    Back,
    CancelTimers,
    Contribute,
    End,
    Extend,
    Finished,
    Next,
    Pass,
    Pause,
    Record,
    RedrawCard,
    Refused,
    RemindQuiet,
    Resume,
    SetRole,
    SetTimers,
    Tell,
    TimerFired,
)
from protocols.loader import load_library
from protocols.schema import Protocol, Role
from protocols.state import Mode, Person, State, Status

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ANA, BEN, CAM, DEE = (
    Person(id=i, user_id=n.lower(), name=n)
    for i, n in enumerate(("Ana", "Ben", "Cam", "Dee"), start=1)
)
FAC = Actor(ANA)
LEAD = Actor(DEE, is_lead=True)


def step_def(id: str, kind: str, who: str, minutes: int = 5, **flags: object) -> dict[str, object]:
    return {
        "id": id,
        "title": id.title(),
        "purpose": f"{id} purpose",
        "minutes": minutes,
        "who": who,
        "kind": kind,
        **flags,
    }


PROTOCOL = Protocol.model_validate(
    {
        "id": "mini",
        "version": 1,
        "title": "Mini",
        "purpose": "A small protocol for tests.",
        "when_to_use": "Testing.",
        "group_size": {"min": 2, "max": 8},
        "minutes": 20,
        "roles": ["facilitator", "presenter", "timekeeper"],
        "credit": "Written for plcbot's tests.",
        "indicators": ["B2"],
        "steps": [
            step_def("intro", "instructions", "facilitator", collect=False),
            step_def("discuss", "open", "participants", presenter_silent=True, anonymous=True),
            step_def("round", "round", "everyone"),
            step_def("next", "next_steps", "everyone"),
        ],
    }
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def started(mode: Mode = Mode.LIVE, window: timedelta | None = None) -> State:
    state, _ = engine.begin(
        PROTOCOL,
        now=T0,
        people=(ANA, BEN, CAM),
        facilitator=ANA,
        presenter=BEN,
        mode=mode,
        window=window,
    )
    return state


def run(state: State, *events: tuple[object, float]) -> State:
    for event, seconds in events:
        state, _ = engine.step(PROTOCOL, state, event, at(seconds))  # type: ignore[arg-type]
    return state


def test_begin_opens_the_first_step_with_its_timers() -> None:
    state, effects = engine.begin(
        PROTOCOL, now=T0, people=(ANA, BEN), facilitator=ANA, presenter=CAM
    )
    assert state.step == 0 and state.status == Status.RUNNING
    assert [p.id for p in state.people] == [1, 2, 3]  # the presenter is added
    assert state.ends_at == at(300) and state.total_seconds == 300
    timers = next(e for e in effects if isinstance(e, SetTimers))
    assert (timers.warn_at, timers.time_at, timers.remind_at) == (at(240), at(300), None)
    assert Announce("step", step=0) in effects and RedrawCard() in effects


def test_only_the_facilitator_or_a_lead_moves_the_session() -> None:
    state = started()
    for event in (
        Next(Actor(BEN)),
        Back(Actor(CAM)),
        Pause(Actor(BEN)),
        End(Actor(CAM)),
        Extend(Actor(BEN), 5),
        SetRole(Actor(CAM), Role.TIMEKEEPER, CAM),
    ):
        with pytest.raises(Refused, match=r"Only the facilitator \(Ana\) or a team lead"):
            engine.step(PROTOCOL, state, event, at(1))
    assert run(state, (Next(LEAD), 1)).step == 1
    assert run(state, (Next(FAC), 1)).step == 1


def test_back_undoes_a_next_with_the_time_that_was_left() -> None:
    state = run(started(), (Next(FAC), 100))  # step 0 had 200 s left
    assert state.step == 1 and state.ends_at == at(400)
    back, effects = engine.step(PROTOCOL, state, Back(FAC), at(130))
    assert back.step == 0 and back.history == ()
    assert back.ends_at == at(330) and back.total_seconds == 300
    assert Announce("back", step=0) in effects
    with pytest.raises(Refused, match="first step"):
        engine.step(PROTOCOL, back, Back(FAC), at(131))


def test_pause_resume_and_extend_keep_the_arithmetic_straight() -> None:
    state = run(started(), (Pause(FAC), 100))
    assert state.status == Status.PAUSED and state.remaining_seconds == 200
    assert state.ends_at is None and state.remaining(at(5000)) == 200
    with pytest.raises(Refused, match="already paused"):
        engine.step(PROTOCOL, state, Pause(FAC), at(101))
    state = run(state, (Extend(FAC, 2), 500))  # extending while paused adds to what's left
    assert state.remaining_seconds == 320 and state.total_seconds == 420
    state, effects = engine.step(PROTOCOL, state, Resume(FAC), at(1000))
    assert state.ends_at == at(1320)
    timers = next(e for e in effects if isinstance(e, SetTimers))
    assert (timers.warn_at, timers.time_at) == (at(1260), at(1320))
    with pytest.raises(Refused, match="isn't paused"):
        engine.step(PROTOCOL, state, Resume(FAC), at(1001))
    state = run(state, (Extend(FAC, 5), 1100))
    assert state.ends_at == at(1620) and state.total_seconds == 720
    overtime = run(state, (Extend(FAC, 1), 2000))  # over time: the minute counts from now
    assert overtime.ends_at == at(2060)
    for minutes in (0, 121):
        with pytest.raises(Refused, match="Extend by 1 to 120"):
            engine.step(PROTOCOL, state, Extend(FAC, minutes), at(1))


def test_timers_from_before_a_change_are_ignored() -> None:
    state = started()
    old_epoch = state.timer_epoch
    paused = run(state, (Pause(FAC), 10))
    assert engine.step(PROTOCOL, paused, TimerFired("time", old_epoch), at(300)) == (paused, ())
    resumed = run(paused, (Resume(FAC), 20))
    assert engine.step(PROTOCOL, resumed, TimerFired("warn", old_epoch), at(260)) == (resumed, ())
    same, effects = engine.step(PROTOCOL, resumed, TimerFired("warn", resumed.timer_epoch), at(250))
    assert same == resumed and effects == (Announce("warn"),)


def test_a_live_session_never_moves_on_by_itself() -> None:
    state = started()
    _, effects = engine.step(PROTOCOL, state, TimerFired("warn", state.timer_epoch), at(301))
    assert effects == ()  # a warning woken together with "time's up" stays quiet
    same, effects = engine.step(PROTOCOL, state, TimerFired("time", state.timer_epoch), at(300))
    assert same == state and effects == (Announce("time_up"), RedrawCard())
    assert same.overtime(at(300))


def test_auto_mode_moves_on_when_time_is_up_and_finishes_after_the_last_step() -> None:
    state = started(Mode.AUTO)
    state, effects = engine.step(PROTOCOL, state, TimerFired("time", state.timer_epoch), at(300))
    assert state.step == 1 and effects[0] == Announce("auto_next", step=0)
    for _ in range(3):
        assert state.ends_at is not None
        state, effects = engine.step(
            PROTOCOL, state, TimerFired("time", state.timer_epoch), state.ends_at
        )
    assert state.status == Status.ENDED and Finished("completed") in effects


def test_async_mode_holds_steps_open_skips_empty_ones_and_reminds_halfway() -> None:
    window = timedelta(days=2)
    state, effects = engine.begin(
        PROTOCOL,
        now=T0,
        people=(ANA, BEN, CAM),
        facilitator=ANA,
        presenter=BEN,
        mode=Mode.ASYNC,
        window=window,
    )
    assert state.step == 1  # the instructions-only first step was shown in passing
    assert effects[0] == Announce("skipped", step=0)
    assert state.ends_at == T0 + window and state.round is None
    timers = next(e for e in effects if isinstance(e, SetTimers))
    assert timers.warn_at is None and timers.remind_at == T0 + window / 2
    _, effects = engine.step(PROTOCOL, state, TimerFired("remind", state.timer_epoch), at(86400))
    assert effects == (RemindQuiet(1, T0 + window),)
    moved, _ = engine.step(PROTOCOL, state, TimerFired("time", state.timer_epoch), T0 + window)
    assert moved.step == 2 and moved.round is None  # no turn-taking across days
    with pytest.raises(Refused, match="needs a window"):
        engine.begin(PROTOCOL, now=T0, people=(), facilitator=ANA, mode=Mode.ASYNC)


def test_rounds_go_in_turn_with_pass_and_out_of_turn_speakers() -> None:
    state = run(started(), (Next(FAC), 1), (Next(FAC), 2))
    assert state.round is not None
    assert state.round.order == (1, 2, 3) and state.round.current == ANA.id
    with pytest.raises(Refused, match="It's Ana's turn; only they or the facilitator can pass"):
        engine.step(PROTOCOL, state, Pass(Actor(CAM)), at(3))
    state, effects = engine.step(PROTOCOL, state, Contribute(BEN, "out of turn"), at(4))
    assert state.round is not None and state.round.current == ANA.id
    assert BEN.id in state.round.spoke
    assert not any(isinstance(e, Announce) for e in effects)
    state, effects = engine.step(PROTOCOL, state, Contribute(ANA, "my turn"), at(5))
    assert Announce("turn", person=CAM.id) in effects  # Ben already had his
    state, effects = engine.step(PROTOCOL, state, Pass(FAC), at(6))  # the facilitator passes Cam
    assert Announce("passed", person=CAM.id) in effects
    assert Announce("round_done", step=2) in effects and state.round is not None
    assert state.round.done
    with pytest.raises(Refused, match="Everyone has had their turn"):
        engine.step(PROTOCOL, state, Pass(FAC), at(7))


def test_round_order_leaves_out_a_listening_presenter_and_rotates_who_starts() -> None:
    tuning = load_library().protocols["tuning"]
    state, _ = engine.begin(
        tuning, now=T0, people=(ANA, BEN, CAM, DEE), facilitator=ANA, presenter=BEN
    )
    orders = []
    for index in range(1, len(tuning.steps)):
        state, _ = engine.step(tuning, state, Next(FAC), at(index))
        if state.round is not None:
            orders.append((tuning.steps[index].id, state.round.order))
    assert orders == [("feedback", (1, 3, 4)), ("debrief", (2, 3, 4, 1))]


def test_pass_outside_a_round_is_explained() -> None:
    with pytest.raises(Refused, match="Pass is for rounds"):
        engine.step(PROTOCOL, started(), Pass(FAC), at(1))


def test_the_presenter_listens_and_their_words_become_notes() -> None:
    state = run(started(), (Next(FAC), 1))
    same, effects = engine.step(PROTOCOL, state, Contribute(BEN, "noted", explicit=False), at(2))
    assert same == state
    assert effects == (Record(1, BEN.id, "noted", False, True), Tell("kept_as_note", 1))


def test_anonymous_contributions_carry_no_author_and_only_where_allowed() -> None:
    state = run(started(), (Next(FAC), 1))
    _, effects = engine.step(PROTOCOL, state, Contribute(CAM, "quiet", anonymous=True), at(2))
    record = effects[0]
    assert isinstance(record, Record) and record.person is None and record.anonymous
    assert Tell("recorded_anonymously", 1) in effects
    state = run(state, (Next(FAC), 3))
    with pytest.raises(Refused, match="carry names"):
        engine.step(PROTOCOL, state, Contribute(CAM, "x", anonymous=True), at(4))


def test_steps_that_collect_nothing_ignore_chat_but_explain_commands() -> None:
    state = started()
    assert engine.step(PROTOCOL, state, Contribute(CAM, "hi", explicit=False), at(1)) == (state, ())
    with pytest.raises(Refused, match="doesn't collect contributions"):
        engine.step(PROTOCOL, state, Contribute(CAM, "hi"), at(1))


def test_a_contribution_written_for_an_earlier_step_lands_there() -> None:
    state = run(started(), (Next(FAC), 1), (Next(FAC), 2))
    _, effects = engine.step(PROTOCOL, state, Contribute(CAM, "late", step=1), at(3))
    assert effects[0] == Record(1, CAM.id, "late", False, False, True)
    assert Tell("earlier_step", 1) in effects


def test_a_new_face_joins_the_people_unless_they_wrote_anonymously() -> None:
    state = run(started(), (Next(FAC), 1))
    same, effects = engine.step(PROTOCOL, state, Contribute(DEE, "psst", anonymous=True), at(2))
    assert same == state and DEE not in same.people and RedrawCard() not in effects
    new, effects = engine.step(PROTOCOL, state, Contribute(DEE, "hello"), at(2))
    assert DEE in new.people and RedrawCard() in effects


def test_roles_change_hands_and_a_facilitator_is_always_needed() -> None:
    state = run(started(), (SetRole(FAC, Role.FACILITATOR, CAM), 1))
    assert state.facilitator == CAM.id
    with pytest.raises(Refused, match="Only the facilitator \\(Cam\\)"):
        engine.step(PROTOCOL, state, Next(FAC), at(2))
    with pytest.raises(Refused, match="always needs a facilitator"):
        engine.step(PROTOCOL, state, SetRole(Actor(CAM), Role.FACILITATOR, None), at(2))
    cleared = run(state, (SetRole(Actor(CAM), Role.PRESENTER, None), 3))
    assert cleared.presenter is None


def test_end_finishes_once_and_then_refuses_everything() -> None:
    state, effects = engine.step(PROTOCOL, started(), End(FAC), at(60))
    assert state.status == Status.ENDED and state.outcome == "ended_early"
    assert effects == (CancelTimers(), RedrawCard(), Finished("ended_early"))
    with pytest.raises(Refused, match="already ended"):
        engine.step(PROTOCOL, state, Next(FAC), at(61))
    assert engine.step(PROTOCOL, state, TimerFired("time", state.timer_epoch), at(300)) == (
        state,
        (),
    )


def test_the_state_is_plain_json_and_comes_back_equal() -> None:
    state = run(started(), (Next(FAC), 1), (Next(FAC), 2), (Contribute(BEN, "x"), 3))
    raw = json.dumps(state.to_json())
    assert State.from_json(json.loads(raw)) == state
    with pytest.raises(Exception, match="frozen"):
        state.step = 3  # type: ignore[misc]
