"""The pure protocol engine: ``step(definition, state, event, now) -> (new_state, effects)``.

No I/O and no clock of its own, so every rule (who may advance, how a round turns, what a
timer does in each mode, what ``back`` restores) is testable with plain values. The runner
stores the new state with a version check and only then carries out the effects: posting,
scheduling, recording. Anything the person asked that cannot be done raises :class:`Refused`
with a one-line explanation, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from protocols.schema import Protocol, Role, Speaker, Step, StepKind
from protocols.state import Mode, Person, Round, State, Status, Visit

MAX_EXTEND_MINUTES = 120
WARN_BEFORE = timedelta(minutes=1)


class Refused(Exception):
    """What was asked doesn't fit where the session is; ``str(self)`` says why, in one line."""


# -- events ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    person: Person
    is_lead: bool = False


@dataclass(frozen=True, slots=True)
class Next:
    actor: Actor


@dataclass(frozen=True, slots=True)
class Back:
    actor: Actor


@dataclass(frozen=True, slots=True)
class Pause:
    actor: Actor


@dataclass(frozen=True, slots=True)
class Resume:
    actor: Actor


@dataclass(frozen=True, slots=True)
class Extend:
    actor: Actor
    minutes: int


@dataclass(frozen=True, slots=True)
class Pass:
    actor: Actor


@dataclass(frozen=True, slots=True)
class End:
    actor: Actor


@dataclass(frozen=True, slots=True)
class SetRole:
    actor: Actor
    role: Role
    person: Person | None


@dataclass(frozen=True, slots=True)
class Contribute:
    person: Person
    text: str
    anonymous: bool = False
    explicit: bool = True  # typed as a contribution (/protocol add, the form), not just chat
    step: int | None = None  # the step it was written for (a form opened earlier); else current


TimerKind = Literal["warn", "time", "remind"]


@dataclass(frozen=True, slots=True)
class TimerFired:
    kind: TimerKind
    epoch: int


Event = Next | Back | Pause | Resume | Extend | Pass | End | SetRole | Contribute | TimerFired

# -- effects -----------------------------------------------------------------------------------

AnnounceKind = Literal[
    "step",  # now on step ``step``
    "back",  # back on step ``step``
    "skipped",  # async: step ``step`` has nothing to collect and was shown in passing
    "turn",  # ``person``'s turn in the round
    "passed",  # ``person`` passed
    "round_done",
    "warn",  # one minute left
    "time_up",  # time is up; the facilitator moves on
    "auto_next",  # time is up and the session moves on by itself
    "paused",
    "resumed",
    "extended",  # by ``minutes``
    "role",  # ``role`` is now ``person`` (None: nobody)
]


@dataclass(frozen=True, slots=True)
class Announce:
    kind: AnnounceKind
    step: int | None = None
    person: int | None = None
    minutes: int | None = None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class RedrawCard:
    pass


@dataclass(frozen=True, slots=True)
class Tell:
    """A private answer to whoever caused the event."""

    kind: Literal["recorded", "recorded_anonymously", "kept_as_note", "earlier_step"]
    step: int


@dataclass(frozen=True, slots=True)
class Record:
    """Store a contribution. ``person`` is None for an anonymous one: its author is not kept."""

    step: int
    person: int | None
    text: str
    anonymous: bool
    note: bool  # the presenter's note in a step where they listen
    echo: bool = False  # typed to the bot, not in the conversation: show it to the group


@dataclass(frozen=True, slots=True)
class SetTimers:
    """Replace the session's timers with these (any of them may be None)."""

    epoch: int
    warn_at: datetime | None
    time_at: datetime | None
    remind_at: datetime | None


@dataclass(frozen=True, slots=True)
class CancelTimers:
    pass


@dataclass(frozen=True, slots=True)
class RemindQuiet:
    """Remind the people who have not contributed to ``step`` yet (asynchronous sessions)."""

    step: int
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class Finished:
    outcome: str


Effect = Announce | RedrawCard | Tell | Record | SetTimers | CancelTimers | RemindQuiet | Finished
Result = tuple[State, tuple[Effect, ...]]

# -- starting ----------------------------------------------------------------------------------


def begin(
    definition: Protocol,
    *,
    now: datetime,
    people: tuple[Person, ...],
    facilitator: Person,
    presenter: Person | None = None,
    mode: Mode = Mode.LIVE,
    window: timedelta | None = None,
) -> Result:
    """A new session on its first step."""
    if mode == Mode.ASYNC and (window is None or window <= timedelta(0)):
        raise Refused("An asynchronous session needs a window, e.g. --async 2d.")
    everyone = _with(_with(people, facilitator), presenter)
    state = State(
        protocol_id=definition.id,
        mode=mode,
        window_seconds=int(window.total_seconds()) if mode == Mode.ASYNC and window else None,
        started_at=now,
        step_started_at=now,
        people=everyone,
        facilitator=facilitator.id,
        presenter=presenter.id if presenter else None,
    )
    return _enter(definition, state, 0, now)


def _with(people: tuple[Person, ...], person: Person | None) -> tuple[Person, ...]:
    if person is None or any(p.id == person.id for p in people):
        return people
    return (*people, person)


# -- the step function ---------------------------------------------------------------------------


def step(definition: Protocol, state: State, event: Event, now: datetime) -> Result:
    if isinstance(event, TimerFired):
        return _timer(definition, state, event, now)
    if state.ended:
        raise Refused("This session has already ended; /protocol history has its summary.")
    if isinstance(event, Contribute):
        return _contribute(definition, state, event)
    if isinstance(event, Pass):
        return _pass(state, event)
    _require_control(state, event.actor, type(event))
    if isinstance(event, Next):
        return _next(definition, state, now, auto=False)
    if isinstance(event, Back):
        return _back(definition, state, now)
    if isinstance(event, Pause):
        return _pause(state, now)
    if isinstance(event, Resume):
        return _resume(definition, state, now)
    if isinstance(event, Extend):
        return _extend(definition, state, event.minutes, now)
    if isinstance(event, End):
        last = state.step == len(definition.steps) - 1
        return _finish(state, now, "completed" if last else "ended_early")
    return _set_role(state, event)


_WHAT: dict[type, str] = {
    Next: "move the session on",
    Back: "go back a step",
    Pause: "pause the session",
    Resume: "resume the session",
    Extend: "extend a step",
    End: "end the session",
    SetRole: "change roles",
}


# Keeping time is the timekeeper's job, so they hold the clock too (not the steps or roles).
_TIMEKEEPING: frozenset[type] = frozenset({Pause, Resume, Extend})


def _require_control(state: State, actor: Actor, kind: type) -> None:
    me = actor.person.id
    if actor.is_lead or me == state.facilitator:
        return
    if kind in _TIMEKEEPING and state.timekeeper is not None:
        if me == state.timekeeper:
            return
        raise Refused(
            f"Only the facilitator ({state.name_of(state.facilitator)}), the timekeeper "
            f"({state.name_of(state.timekeeper)}) or a team lead can {_WHAT[kind]}."
        )
    raise Refused(
        f"Only the facilitator ({state.name_of(state.facilitator)}) or a team lead can "
        f"{_WHAT[kind]}."
    )


# -- moving between steps ----------------------------------------------------------------------


def _enter(
    definition: Protocol,
    state: State,
    index: int,
    now: datetime,
    *,
    restore: Visit | None = None,
    lead: tuple[Effect, ...] = (),
) -> Result:
    effects: list[Effect] = list(lead)
    step_def = definition.steps[index]
    if state.mode == Mode.ASYNC and restore is None and not step_def.collect:
        # Nothing to collect: show it in passing instead of holding it open for days.
        effects.append(Announce("skipped", step=index))
        if index + 1 < len(definition.steps):
            return _enter(definition, state, index + 1, now, lead=tuple(effects))
        done, more = _finish(state.model_copy(update={"step": index}), now, "completed")
        return done, (*effects, *more)
    if restore is not None:
        total, remaining, turn = restore.total_seconds, restore.remaining_seconds, restore.round
    else:
        total = step_def.minutes * 60
        if state.mode == Mode.ASYNC and state.window_seconds:
            total = state.window_seconds
        remaining, turn = total, _new_round(definition, state, index)
    new = state.model_copy(
        update={
            "step": index,
            "status": Status.RUNNING,
            "total_seconds": total,
            "ends_at": now + timedelta(seconds=remaining),
            "remaining_seconds": None,
            "timer_epoch": state.timer_epoch + 1,
            "step_started_at": now,
            "round": turn,
        }
    )
    effects.append(_timers(definition, new, now))
    effects.append(Announce("back" if restore else "step", step=index))
    if turn is not None and turn.current is not None:
        effects.append(Announce("turn", person=turn.current))
    effects.append(RedrawCard())
    return new, tuple(effects)


def _next(definition: Protocol, state: State, now: datetime, *, auto: bool) -> Result:
    lead: tuple[Effect, ...] = (Announce("auto_next", step=state.step),) if auto else ()
    if state.step + 1 >= len(definition.steps):
        done, effects = _finish(state, now, "completed")
        return done, (*lead, *effects)
    visit = Visit(
        step=state.step,
        total_seconds=state.total_seconds,
        remaining_seconds=state.remaining(now),
        round=state.round,
    )
    moved = state.model_copy(update={"history": (*state.history, visit)})
    return _enter(definition, moved, state.step + 1, now, lead=lead)


def _back(definition: Protocol, state: State, now: datetime) -> Result:
    if not state.history:
        if state.step == 0:
            raise Refused("This is the first step, so there is nothing to go back to.")
        raise Refused("There is no earlier step to go back to.")
    visit = state.history[-1]
    earlier = state.model_copy(update={"history": state.history[:-1]})
    return _enter(definition, earlier, visit.step, now, restore=visit)


def _finish(state: State, now: datetime, outcome: str) -> Result:
    done = state.model_copy(
        update={
            "status": Status.ENDED,
            "ended_at": now,
            "outcome": outcome,
            "ends_at": None,
            "remaining_seconds": None,
            "round": None,
            "timer_epoch": state.timer_epoch + 1,
        }
    )
    return done, (CancelTimers(), RedrawCard(), Finished(outcome))


# -- the clock ---------------------------------------------------------------------------------


def _timers(definition: Protocol, state: State, now: datetime) -> SetTimers:
    if state.ends_at is None:
        return SetTimers(state.timer_epoch, None, None, None)
    warn = remind = None
    ends = state.ends_at
    if state.mode != Mode.ASYNC and ends - WARN_BEFORE > now + timedelta(seconds=30):
        warn = ends - WARN_BEFORE
    step_def = definition.steps[state.step]
    if state.mode == Mode.ASYNC and step_def.collect and step_def.who != Speaker.FACILITATOR:
        halfway = ends - timedelta(seconds=state.total_seconds / 2)
        if halfway > now:
            remind = halfway
    return SetTimers(state.timer_epoch, warn, ends, remind)


def _pause(state: State, now: datetime) -> Result:
    if state.status == Status.PAUSED:
        raise Refused("The session is already paused; /protocol resume carries on.")
    paused = state.model_copy(
        update={
            "status": Status.PAUSED,
            "remaining_seconds": state.remaining(now),
            "ends_at": None,
            "timer_epoch": state.timer_epoch + 1,
        }
    )
    return paused, (CancelTimers(), Announce("paused"), RedrawCard())


def _resume(definition: Protocol, state: State, now: datetime) -> Result:
    if state.status != Status.PAUSED:
        raise Refused("The session isn't paused.")
    running = state.model_copy(
        update={
            "status": Status.RUNNING,
            "ends_at": now + timedelta(seconds=state.remaining_seconds or 0),
            "remaining_seconds": None,
            "timer_epoch": state.timer_epoch + 1,
        }
    )
    return running, (_timers(definition, running, now), Announce("resumed"), RedrawCard())


def _extend(definition: Protocol, state: State, minutes: int, now: datetime) -> Result:
    if not 1 <= minutes <= MAX_EXTEND_MINUTES:
        raise Refused(f"Extend by 1 to {MAX_EXTEND_MINUTES} minutes, e.g. /protocol extend 5.")
    added = minutes * 60
    if state.status == Status.PAUSED:
        longer = state.model_copy(
            update={
                "remaining_seconds": (state.remaining_seconds or 0) + added,
                "total_seconds": state.total_seconds + added,
            }
        )
        return longer, (Announce("extended", minutes=minutes), RedrawCard())
    base = max(state.ends_at or now, now)  # a step already over time gets the minutes from now
    longer = state.model_copy(
        update={
            "ends_at": base + timedelta(seconds=added),
            "total_seconds": state.total_seconds + added,
            "timer_epoch": state.timer_epoch + 1,
        }
    )
    return longer, (
        _timers(definition, longer, now),
        Announce("extended", minutes=minutes),
        RedrawCard(),
    )


def _timer(definition: Protocol, state: State, event: TimerFired, now: datetime) -> Result:
    if state.status != Status.RUNNING or event.epoch != state.timer_epoch:
        return state, ()  # a timer from before a pause, a move or the end: nothing to do
    if event.kind == "warn":
        # Woken late (a clock jump, a restart) together with "time": one message is enough.
        return state, () if state.overtime(now) else (Announce("warn"),)
    if event.kind == "remind":
        assert state.ends_at is not None
        return state, (RemindQuiet(state.step, state.ends_at),)
    if state.mode == Mode.LIVE:
        return state, (Announce("time_up"), RedrawCard())
    return _next(definition, state, now, auto=True)


# -- rounds ------------------------------------------------------------------------------------


def speakers(definition: Protocol, state: State, index: int) -> tuple[int, ...]:
    """Who has the floor in step ``index``, by member id, in the team's order."""
    step_def = definition.steps[index]
    everyone = tuple(p.id for p in state.people)
    if step_def.who == Speaker.PRESENTER:
        return (state.presenter,) if state.presenter is not None else ()
    if step_def.who == Speaker.FACILITATOR:
        return (state.facilitator,)
    if step_def.who == Speaker.PARTICIPANTS or step_def.presenter_silent:
        return tuple(i for i in everyone if i != state.presenter)
    return everyone


def _new_round(definition: Protocol, state: State, index: int) -> Round | None:
    step_def = definition.steps[index]
    if step_def.kind != StepKind.ROUND or state.mode == Mode.ASYNC:
        return None
    order = speakers(definition, state, index)
    if not order:
        return None
    # A different person starts each round, so the same voice doesn't always go first.
    earlier = sum(1 for s in definition.steps[:index] if s.kind == StepKind.ROUND)
    shift = earlier % len(order)
    return Round(order=order[shift:] + order[:shift])


def _turn_on(state: State, who: int, *, passed: bool) -> Result:
    """``who`` has had their turn (spoken or passed); announce whose turn it is now."""
    turn = state.round
    assert turn is not None
    was_current = turn.current == who
    moved = turn.model_copy(
        update={"passed": (*turn.passed, who)} if passed else {"spoke": (*turn.spoke, who)}
    )
    effects: list[Effect] = []
    if passed:
        effects.append(Announce("passed", person=who))
    if moved.current is None:
        effects.append(Announce("round_done", step=state.step))
    elif was_current:
        effects.append(Announce("turn", person=moved.current))
    effects.append(RedrawCard())
    return state.model_copy(update={"round": moved}), tuple(effects)


def _pass(state: State, event: Pass) -> Result:
    turn = state.round
    if turn is None:
        raise Refused("Pass is for rounds, when people speak in turn; this step isn't a round.")
    current = turn.current
    if current is None:
        raise Refused("Everyone has had their turn in this round.")
    actor = event.actor
    if actor.person.id != current and not (actor.is_lead or actor.person.id == state.facilitator):
        raise Refused(
            f"It's {state.name_of(current)}'s turn; only they or the facilitator can pass."
        )
    return _turn_on(state, current, passed=True)


# -- contributions -----------------------------------------------------------------------------


def _contribute(definition: Protocol, state: State, event: Contribute) -> Result:
    index = state.step if event.step is None or not 0 <= event.step <= state.step else event.step
    step_def: Step = definition.steps[index]
    if not step_def.collect:
        if not event.explicit:
            return state, ()  # ordinary chat during a step that collects nothing
        raise Refused(
            f'"{step_def.title}" doesn\'t collect contributions; hold that thought for the '
            "next step."
        )
    if event.anonymous and not step_def.anonymous:
        raise Refused(
            f'Contributions to "{step_def.title}" carry names, so I can\'t take this one '
            "anonymously. Send it again without --anon."
        )
    person = event.person
    # An anonymous line can't be the presenter's note: "presenter's note" names who wrote it.
    note = step_def.presenter_silent and person.id == state.presenter and not event.anonymous
    # Someone new joins the session's people, unless they wrote anonymously: joining right
    # then would tell everyone who it was.
    known = state.people if event.anonymous else _with(state.people, person)
    new = state if known == state.people else state.model_copy(update={"people": known})
    effects: list[Effect] = [
        Record(
            step=index,
            person=None if event.anonymous else person.id,
            text=event.text,
            anonymous=event.anonymous,
            note=note,
            echo=event.explicit and not note,
        )
    ]
    if note:
        effects.append(Tell("kept_as_note", index))
    elif index != state.step:
        effects.append(Tell("earlier_step", index))
    elif event.explicit:
        effects.append(Tell("recorded_anonymously" if event.anonymous else "recorded", index))
    turn = new.round
    if (
        index == state.step
        and turn is not None
        and turn.waiting(person.id)
        and not event.anonymous
        and not note
    ):
        new, more = _turn_on(new, person.id, passed=False)
        effects.extend(more)
    elif new is not state:
        effects.append(RedrawCard())  # a new face: the card's buttons carry the new version
    return new, tuple(effects)


# -- roles -------------------------------------------------------------------------------------


def _set_role(state: State, event: SetRole) -> Result:
    if event.role == Role.FACILITATOR and event.person is None:
        raise Refused("A session always needs a facilitator; name who takes over.")
    field = event.role.value
    member_id = event.person.id if event.person else None
    if getattr(state, field) == member_id:
        who = event.person.name if event.person else "nobody"
        raise Refused(f"{who} already holds that role.")
    changed = state.model_copy(
        update={field: member_id, "people": _with(state.people, event.person)}
    )
    return changed, (Announce("role", person=member_id, role=event.role), RedrawCard())
