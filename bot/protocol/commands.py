"""Running a session from chat: start it, move it, time it, add to it, share the roles."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import timedelta

from bot.errors import UserError
from bot.messages import (
    Block,
    Button,
    Inline,
    ListBlock,
    ListItem,
    OutMessage,
    Section,
    Text,
    text,
)
from bot.parsing import clean_text, human_duration, parse_duration, split_args
from bot.people import resolve_person
from bot.protocol.card import roles_text, session_card
from bot.protocol.context import MAX_CONTRIBUTION, ProtocolContext, person
from bot.protocol.roles import last_time, suggestions
from bot.protocol.runner import Loaded
from bot.protocol.texts import ROLE_LABELS, mode_text, shown
from bot.timefmt import day
from bot.turn import Turn
from protocols.engine import (
    Back,
    Contribute,
    End,
    Extend,
    Next,
    Pass,
    Pause,
    Resume,
    SetRole,
)
from protocols.schema import Protocol, Role
from protocols.state import Mode, Person, State
from storage import identity
from storage import protocol_sessions as repo
from storage.identity import Member, Team

log = logging.getLogger(__name__)

MIN_WINDOW = timedelta(hours=1)
MAX_WINDOW = timedelta(days=14)
ROLE_NAMES = {
    "facilitator": Role.FACILITATOR,
    "presenter": Role.PRESENTER,
    "timekeeper": Role.TIMEKEEPER,
    "time-keeper": Role.TIMEKEEPER,
    "notetaker": Role.NOTE_TAKER,
    "note-taker": Role.NOTE_TAKER,
    "note_taker": Role.NOTE_TAKER,
    "notes": Role.NOTE_TAKER,
}


class SessionCommands:
    def __init__(self, ctx: ProtocolContext) -> None:
        self.ctx = ctx

    # -- start ---------------------------------------------------------------------------------

    async def start(self, turn: Turn, args: str) -> None:
        team = turn.require_channel("start a protocol")
        mode, window, presenter_token, name = _parse_start(args)
        definition = self._definition(name, mode, window, presenter_token)
        # an @mention joins the team (most of a new team haven't written to plcbot yet); a bare
        # name must already be a member, so a typo adds nobody
        presenter = await resolve_person(turn, presenter_token, team) if presenter_token else None
        if presenter is not None and not definition.has_presenter:
            raise UserError(
                f"{definition.title} has no presenter role; start it without naming one."
            )
        existing = await self.ctx.runner.active(team.id)
        if existing is not None:
            turn.reply(_replace_prompt(existing, definition, presenter, mode, window), private=True)
            return
        await self.begin(turn, team, definition, presenter, mode, window)

    def _definition(
        self, name: str, mode: Mode, window: timedelta | None, presenter: str | None
    ) -> Protocol:
        """The protocol ``name`` names; when it doesn't, but some of its words do (``tuning
        extra words``), say which words were not understood and what to type instead."""
        library = self.ctx.library
        found = library.find(name) if name.strip() else None
        if found is not None:
            return found
        words = name.split()
        for length in range(len(words) - 1, 0, -1):
            for first in range(len(words) - length + 1):
                candidate = library.find(" ".join(words[first : first + length]))
                if candidate is None:
                    continue
                rest = shown(" ".join(words[:first] + words[first + length :]))
                form = f"/protocol start {candidate.id}"
                if presenter and candidate.has_presenter:
                    form += f" {shown(presenter, 40)}"
                if mode == Mode.AUTO:
                    form += " --auto"
                elif mode == Mode.ASYNC and window is not None:
                    form += f" --async {human_duration(window).replace(' ', '')}"
                hint = (
                    " A presenter is named with @, e.g. @maria."
                    if candidate.has_presenter and not presenter
                    else ""
                )
                raise UserError(
                    f"I know {candidate.title} ({candidate.id}), but not {rest!r}. "
                    f"Did you mean {form}?{hint}"
                )
        return self.ctx.find(name)

    async def begin(
        self,
        turn: Turn,
        team: Team,
        definition: Protocol,
        presenter: Member | None,
        mode: Mode,
        window: timedelta | None,
    ) -> None:
        async with self.ctx.core.db.read() as s:
            members = [tm.member for tm in await identity.team_members(s, team.id)]
            previous_row = await repo.last_ended(s, team.id)
        previous = State.from_json(dict(previous_row.state)) if previous_row else None
        people = tuple(person(m) for m in members)
        agenda = await self._agenda(team)

        def intro(state: State) -> Sequence[Block]:
            return _intro(definition, state, previous, agenda)

        await self.ctx.runner.create(
            team=team,
            conversation=turn.event.conversation,
            definition=definition,
            people=people,
            facilitator=person(turn.member),
            presenter=person(presenter) if presenter else None,
            mode=mode,
            window=window,
            intro=intro,
        )

    async def _agenda(self, team: Team) -> list[ListItem]:
        agenda = self.ctx.ports.agenda
        if agenda is None:
            return []
        try:
            items = await agenda.open_items(team.id)
        except Exception:
            log.exception("could not read team %d's open items for a protocol start", team.id)
            return []
        today = self.ctx.core.clock.now().astimezone(self.ctx.core.zone_for(team=team)).date()
        return [
            ListItem(
                text(f"{item.owner}: {item.text} ({item.ref})"),
                ", ".join(
                    part
                    for part in (item.status, f"due {day(item.due, today)}" if item.due else "")
                    if part
                ),
            )
            for item in items[:10]
        ]

    # -- moving the session --------------------------------------------------------------------

    async def _control(self, turn: Turn, make: type[Next | Back | Pause | Resume | End]) -> None:
        loaded = await self.ctx.session(turn)
        actor = await self.ctx.actor(turn, loaded)
        await self.ctx.runner.apply(loaded.id, make(actor), turn=turn)

    async def next(self, turn: Turn, _args: str) -> None:
        await self._control(turn, Next)

    async def back(self, turn: Turn, _args: str) -> None:
        await self._control(turn, Back)

    async def pause(self, turn: Turn, _args: str) -> None:
        await self._control(turn, Pause)

    async def resume(self, turn: Turn, _args: str) -> None:
        await self._control(turn, Resume)

    async def end(self, turn: Turn, _args: str) -> None:
        await self._control(turn, End)

    async def extend(self, turn: Turn, args: str) -> None:
        match = re.fullmatch(r"\+?\s*(\d{1,4})\s*(m|min|mins|minutes?)?", args.strip().lower())
        if not match:
            raise UserError("Say how many minutes, e.g. /protocol extend 5.")
        loaded = await self.ctx.session(turn)
        actor = await self.ctx.actor(turn, loaded)
        await self.ctx.runner.apply(loaded.id, Extend(actor, int(match.group(1))), turn=turn)

    async def pass_turn(self, turn: Turn, _args: str) -> None:
        loaded = await self.ctx.session(turn)
        actor = await self.ctx.actor(turn, loaded)
        await self.ctx.runner.apply(loaded.id, Pass(actor), turn=turn)

    # -- contributing --------------------------------------------------------------------------

    async def add(self, turn: Turn, args: str) -> None:
        anonymous, number, raw = _parse_add(args)
        if not raw.strip():
            raise UserError(
                "Add your contribution after the command, e.g. /protocol add I noticed that..."
            )
        body = clean_text(raw, limit=MAX_CONTRIBUTION, what="contribution")
        loaded = await self.ctx.session(turn)
        index: int | None = None
        if number is not None:
            index = await self._earlier_step(turn, loaded, number)
        event = Contribute(
            person(turn.member), body, anonymous=anonymous, explicit=True, step=index
        )
        await self.ctx.runner.apply(loaded.id, event, turn=turn)

    async def _earlier_step(self, turn: Turn, loaded: Loaded, number: int) -> int:
        """The note-taker's part: what was said aloud in a step already left goes where it
        belongs (``--step 3``), not into whatever step the session has reached since."""
        state, steps = loaded.state, len(loaded.definition.steps)
        actor = await self.ctx.actor(turn, loaded)
        if not (actor.is_lead or actor.person.id in (state.note_taker, state.facilitator)):
            taker = f" ({state.name_of(state.note_taker)})" if state.note_taker else ""
            raise UserError(
                f"Only the note-taker{taker}, the facilitator or a team lead can add to another "
                "step; /protocol add TEXT adds to this one."
            )
        if not 1 <= number <= state.step + 1:
            raise UserError(
                f"Step {number} hasn't been reached: the session is on step {state.step + 1} of "
                f"{steps}. Add to steps 1 to {state.step + 1}."
            )
        return number - 1

    # -- looking at it -------------------------------------------------------------------------

    async def status(self, turn: Turn, _args: str) -> None:
        loaded = await self.ctx.session(turn)
        async with self.ctx.core.db.read() as s:
            count = len(
                [c for c in await repo.contributions(s, loaded.id) if c.step == loaded.state.step]
            )
        card = session_card(
            loaded.definition,
            loaded.state,
            session_id=loaded.id,
            version=loaded.version,
            now=turn.now,
            zone=self.ctx.core.zone_for(turn.member, turn.team),
        )
        extra = Section(
            text(f"Mode: {mode_text(loaded.state)}. Contributions to this step so far: {count}.")
        )
        turn.reply(
            OutMessage(
                title=card.title,
                blocks=(*card.blocks, extra),
                buttons=card.buttons,
                footer=card.footer,
            ),
            private=True,
        )

    # -- roles ---------------------------------------------------------------------------------

    async def roles(self, turn: Turn, _args: str) -> None:
        loaded = await self.ctx.session(turn)
        async with self.ctx.core.db.read() as s:
            previous_row = await repo.last_ended(s, loaded.row.team_id)
        previous = State.from_json(dict(previous_row.state)) if previous_row else None
        blocks: list[Block] = [Section(roles_text(loaded.definition, loaded.state))]
        before = last_time(previous)
        if before:
            blocks.append(Section(before))
        blocks.extend(
            Section(line) for line in suggestions(loaded.definition, loaded.state, previous)
        )
        turn.reply(
            OutMessage(
                title="Roles in this session",
                blocks=tuple(blocks),
                footer="The facilitator or a lead changes them: /protocol role timekeeper @name "
                "(or none to clear). The timekeeper can pause, resume and extend a step; the "
                "note-taker can add what was said to an earlier step: /protocol add --step 3 TEXT.",
            ),
            private=True,
        )

    async def role(self, turn: Turn, args: str) -> None:
        words = split_args(args)
        if len(words) != 2:
            raise UserError(
                "Name the role and the person, e.g. /protocol role timekeeper @maria "
                "(roles: facilitator, presenter, timekeeper, note-taker)."
            )
        role = ROLE_NAMES.get(words[0].lower())
        if role is None:
            raise UserError(
                f"{words[0]!r} isn't a role here; use facilitator, presenter, timekeeper or "
                "note-taker."
            )
        loaded = await self.ctx.session(turn)
        if role not in loaded.definition.roles:
            raise UserError(f"{loaded.definition.title} has no {ROLE_LABELS[role]} role.")
        who: Person | None = None
        if words[1].lower() not in ("none", "nobody", "-"):
            team = turn.require_team()
            who = person(await resolve_person(turn, words[1], team))
        actor = await self.ctx.actor(turn, loaded)
        await self.ctx.runner.apply(loaded.id, SetRole(actor, role, who), turn=turn)


ANON_FLAGS = ("--anon", "--anonymous", "-a")


def _parse_add(args: str) -> tuple[bool, int | None, str]:
    """``[--anon] [--step N] TEXT`` in either order; the text keeps its own line breaks."""
    anonymous, number, rest = False, None, args.strip()
    while True:
        head, tail = _first(rest)
        lower = head.lower()
        if lower in ANON_FLAGS:
            anonymous, rest = True, tail.strip()
        elif lower == "--step" or lower.startswith("--step="):
            value = lower.partition("=")[2]
            if not value:
                value, tail = _first(tail)
            if not value.isdigit() or len(value) > 3:
                raise UserError("Say which step by its number, e.g. /protocol add --step 3 TEXT.")
            number, rest = int(value), tail.strip()
        else:
            return anonymous, number, rest


def _first(words: str) -> tuple[str, str]:
    """The first word and the rest as typed (first_word would lower-case it)."""
    parts = words.split(None, 1)
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


def _parse_start(args: str) -> tuple[Mode, timedelta | None, str | None, str]:
    words = split_args(args)
    mode = Mode.LIVE
    window: timedelta | None = None
    presenter: str | None = None
    name: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        lower = word.lower()
        if lower == "--auto":
            mode = Mode.AUTO if mode == Mode.LIVE else _both()
        elif lower.startswith("--async"):
            value = lower.partition("=")[2]
            if not value and i + 1 < len(words):
                i += 1
                value = words[i]
            if not value:
                raise UserError("--async needs a window for each step, e.g. --async 2d.")
            window = parse_duration(value)
            if not MIN_WINDOW <= window <= MAX_WINDOW:
                raise UserError(
                    f"Keep each step open between {human_duration(MIN_WINDOW)} and "
                    f"{human_duration(MAX_WINDOW)}, e.g. --async 2d."
                )
            mode = Mode.ASYNC if mode == Mode.LIVE else _both()
        elif word.startswith("--"):
            raise UserError(f"I don't know the option {word}; use --auto or --async 2d.")
        elif word.startswith("@"):
            if presenter is not None:
                raise UserError("Name one presenter, e.g. /protocol start tuning @maria.")
            presenter = word
        else:
            name.append(word)
        i += 1
    return mode, window, presenter, " ".join(name)


def _both() -> Mode:
    raise UserError("Choose --auto (live, moving on by itself) or --async, not both.")


def _replace_prompt(
    existing: Loaded,
    definition: Protocol,
    presenter: Member | None,
    mode: Mode,
    window: timedelta | None,
) -> OutMessage:
    value = json.dumps(
        {
            "s": existing.id,
            "p": definition.id,
            "pr": presenter.id if presenter else None,
            "m": mode.value,
            "w": int(window.total_seconds()) if window else None,
        },
        separators=(",", ":"),
    )
    running = existing.definition.title
    step = existing.state.step + 1
    return OutMessage(
        blocks=(
            Section(
                text(
                    f"{running} is still running in this channel (step {step} of "
                    f"{len(existing.definition.steps)}). Only one session runs per channel. "
                    f"End it and start {definition.title}?"
                )
            ),
        ),
        buttons=(
            Button(f"End it, start {definition.title}"[:75], "protocol.replace", value, "danger"),
            Button(f"Keep {running}"[:75], "protocol.keep", str(existing.id)),
        ),
    )


def _intro(
    definition: Protocol, state: State, previous: State | None, agenda: list[ListItem]
) -> list[Block]:
    welcome: Text = text(
        definition.purpose,
        f" About {definition.minutes} min; {mode_text(state)}.",
    )
    blocks: list[Block] = [Section(welcome, heading=f"Welcome to {definition.title}")]
    role_lines: list[Text] = [roles_text(definition, state)]
    if definition.has_presenter and state.presenter is None:
        role_lines.append(text("No presenter yet: /protocol role presenter @name."))
    before = last_time(previous)
    if before:
        role_lines.append(before)
    role_lines.extend(suggestions(definition, state, previous))
    blocks.append(Section(_join(role_lines), heading="Roles"))
    if definition.facilitator_notes:
        blocks.append(
            ListBlock(
                tuple(ListItem(text(n)) for n in definition.facilitator_notes),
                heading="For the facilitator",
            )
        )
    if agenda:
        blocks.append(ListBlock(tuple(agenda), heading="Last time we said"))
    blocks.append(
        Section(
            text(
                "Reply to the session message (or write here) to add to the current step, or "
                "use /protocol add TEXT. The facilitator moves on with the buttons or "
                "/protocol next."
            ),
            heading="Taking part",
        )
    )
    return blocks


def _join(lines: list[Text]) -> Text:
    out: list[Inline] = []
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        out.extend(line)
    return tuple(out)
