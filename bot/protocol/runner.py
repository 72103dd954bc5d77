"""Running sessions: load, step, save with a version check, then carry out the effects.

Each change happens in one write transaction: read the session row, let the pure engine decide,
store the new state only if the row still has the version we read (``UPDATE ... WHERE
version = :old``), and in the same transaction record contributions, replace timers (durable
jobs) and store the summary. If another replica or a timer changed the session in between,
the update matches no row, the transaction rolls back and the event is stepped again on the
fresh state, so nothing is lost and nothing happens twice. Only after the commit does the bot
speak: update the card, post announcements in its thread, remind, post the summary. A failed
send never undoes what was stored. A platform's "slow down" (429) or a hiccup (a timeout, a
5xx) becomes a durable retry job, so a timer-driven step still reaches the channel: one
``protocol.redraw`` job per session (a redraw shows whatever the state is by then, so repeated
failures coalesce into one) and one ``protocol.say`` job per message, keyed by what it says
so the same message is never queued twice. A refusal for good (:class:`~bot.ports.DeliveryError`:
the message was deleted, the channel archived, plcbot removed) is logged once and dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Core
from bot.errors import UserError
from bot.events import ConversationRef
from bot.message_json import message_from_json, message_to_json
from bot.messages import Block, OutMessage, Section, text
from bot.outbox import sent_from_json, sent_to_json
from bot.ports import (
    CommitmentDrafts,
    DeliveryError,
    ProposedCommitment,
    RateLimited,
    SentMessage,
    TeamAgenda,
)
from bot.protocol.card import session_card
from bot.protocol.summary import build_summary, summary_message
from bot.protocol.texts import announcement, echo, step_heading, tell
from bot.timefmt import when
from bot.turn import Turn
from protocols import engine
from protocols.engine import (
    Announce,
    CancelTimers,
    Effect,
    Event,
    Finished,
    Record,
    RedrawCard,
    Refused,
    RemindQuiet,
    SetTimers,
    Tell,
)
from protocols.schema import Protocol
from protocols.state import Mode, Person, State
from storage import identity
from storage import protocol_sessions as repo
from storage.identity import Team
from storage.jobs import Job
from storage.protocol_sessions import StoredSession

log = logging.getLogger(__name__)

TIMER_JOB = "protocol.timer"
REDRAW_JOB = "protocol.redraw"
SAY_JOB = "protocol.say"
MAX_ATTEMPTS = 5
LATE_ANNOUNCEMENT = timedelta(minutes=15)  # a live warning later than this is noise, not help
TRANSIENT_RETRY = timedelta(seconds=30)  # after a failure the platform gave no wait time for


@dataclass
class Ports:
    """The neighbouring features protocols talk to, when the composition root provides them."""

    agenda: TeamAgenda | None = None
    drafts: CommitmentDrafts | None = None


@dataclass(frozen=True)
class Loaded:
    row: StoredSession
    definition: Protocol
    state: State

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def version(self) -> int:
        return self.row.version


@dataclass
class Outcome:
    before: Loaded
    state: State
    version: int
    effects: tuple[Effect, ...] = ()
    stale: bool = False

    @property
    def recorded(self) -> bool:
        return any(isinstance(e, Record) for e in self.effects)


def _shows(effect: Effect) -> bool:
    """Whether an effect needs the card, the thread or a message after the commit."""
    if isinstance(effect, Record):
        return effect.echo
    return not isinstance(effect, Tell | SetTimers | CancelTimers)


class _Conflict(Exception):
    """Someone else changed the session between our read and our write."""


def conversation_json(conversation: ConversationRef) -> dict[str, Any]:
    return sent_to_json(SentMessage(conversation.in_thread(None), ""))


def timer_key(session_id: int, epoch: int | None = None, kind: str = "") -> str:
    if epoch is None:
        return f"protocol:{session_id}:"
    return f"protocol:{session_id}:{epoch}:{kind}"


def redraw_key(session_id: int) -> str:
    # Not under timer_key's prefix: replacing a step's timers must not drop a pending redraw.
    return f"protocol-redraw:{session_id}"


def say_key(session_id: int, *parts: object) -> str:
    return ":".join(["protocol-say", str(session_id), *(str(p) for p in parts)])


def _posting(session_id: int, where: ConversationRef) -> str:
    return f"post to protocol session {session_id}'s conversation {where.conversation_id}"


def _refused(what: str, exc: DeliveryError) -> None:
    log.warning("could not %s, and won't retry: %s", what, exc)


def _failed(what: str, exc: Exception) -> timedelta:
    """Log a send that may work later; how long to wait before trying again."""
    if isinstance(exc, RateLimited):
        delay = timedelta(seconds=max(exc.retry_after, 0.0))
    else:
        delay = TRANSIENT_RETRY
    log.warning(
        "could not %s; retrying in %s: %s",
        what,
        delay,
        exc,
        exc_info=not isinstance(exc, RateLimited),
    )
    return delay


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Runner:
    core: Core
    ports: Ports
    _definitions: dict[int, Protocol] = field(default_factory=dict)
    _locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    # -- loading -------------------------------------------------------------------------------

    def load_row(self, row: StoredSession) -> Loaded:
        definition = self._definitions.get(row.id)
        if definition is None:
            definition = Protocol.model_validate(row.definition)
            if row.active:
                self._definitions[row.id] = definition
        return Loaded(row, definition, State.from_json(dict(row.state)))

    async def get(self, session_id: int) -> Loaded | None:
        async with self.core.db.read() as s:
            row = await repo.get(s, session_id)
        return self.load_row(row) if row else None

    async def active(self, team_id: int) -> Loaded | None:
        async with self.core.db.read() as s:
            row = await repo.active_for_team(s, team_id)
        return self.load_row(row) if row else None

    # -- starting ------------------------------------------------------------------------------

    async def create(
        self,
        *,
        team: Team,
        conversation: ConversationRef,
        definition: Protocol,
        people: tuple[Person, ...],
        facilitator: Person,
        presenter: Person | None,
        mode: Mode,
        window: timedelta | None,
        intro: Callable[[State], Sequence[Block]] | None = None,
    ) -> Loaded:
        now = self.core.clock.now()
        try:
            state, effects = engine.begin(
                definition,
                now=now,
                people=people,
                facilitator=facilitator,
                presenter=presenter,
                mode=mode,
                window=window,
            )
        except Refused as exc:
            raise UserError(str(exc)) from None
        try:
            async with self.core.db.write() as s:
                session_id = await repo.create(
                    s,
                    team_id=team.id,
                    conversation=conversation_json(conversation),
                    protocol_id=definition.id,
                    title=definition.title,
                    definition=definition.model_dump(mode="json"),
                    state=state.to_json(),
                    mode=mode.value,
                    facilitator_id=facilitator.id,
                    now=now,
                )
                await self._within(s, session_id, team.id, definition, state, effects, now)
        except IntegrityError:
            raise UserError(
                "A session started in this channel a moment ago; /protocol status shows it."
            ) from None
        log.info("protocol session %d (%s) started in team %d", session_id, definition.id, team.id)
        loaded = await self.get(session_id)
        assert loaded is not None
        blocks = intro(state) if intro is not None else ()
        await self._perform(loaded, Outcome(loaded, state, 1, effects), None, blocks)
        return loaded

    # -- stepping ------------------------------------------------------------------------------

    async def apply(
        self,
        session_id: int,
        event: Event,
        *,
        expect_version: int | None = None,
        turn: Turn | None = None,
    ) -> Outcome:
        """Step the session with ``event``; ``expect_version`` makes a stale button a no-op."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            now = self.core.clock.now()
            try:
                async with self.core.db.write() as s:
                    row = await repo.get(s, session_id)
                    if row is None:
                        raise UserError("I can't find that session any more.")
                    before = self.load_row(row)
                    if expect_version is not None and row.version != expect_version:
                        return Outcome(before, before.state, row.version, stale=True)
                    try:
                        state, effects = engine.step(before.definition, before.state, event, now)
                    except Refused as exc:
                        raise UserError(str(exc)) from None
                    version = row.version
                    if state != before.state:
                        saved = await repo.save_state(
                            s,
                            session_id,
                            state=state.to_json(),
                            old_version=row.version,
                            facilitator_id=state.facilitator,
                            ended_at=state.ended_at if state.ended else None,
                            now=now,
                        )
                        if not saved:
                            raise _Conflict
                        version += 1
                    await self._within(
                        s, session_id, row.team_id, before.definition, state, effects, now
                    )
            except _Conflict:
                log.info(
                    "session %d changed while handling %s (attempt %d); stepping again",
                    session_id,
                    type(event).__name__,
                    attempt,
                )
                continue
            outcome = Outcome(before, state, version, effects)
            await self._perform(before, outcome, turn, ())
            return outcome
        raise UserError("The session is very busy right now; please try that again.")

    async def _within(
        self,
        s: AsyncSession,
        session_id: int,
        team_id: int,
        definition: Protocol,
        state: State,
        effects: Sequence[Effect],
        now: datetime,
    ) -> None:
        """The effects that belong in the same transaction as the state."""
        scheduler = self.core.scheduler
        for effect in effects:
            if isinstance(effect, Record):
                await repo.add_contribution(
                    s,
                    session_id=session_id,
                    step=effect.step,
                    step_id=definition.steps[effect.step].id,
                    member_id=effect.person,
                    author=state.name_of(effect.person) if effect.person is not None else None,
                    anonymous=effect.anonymous,
                    note=effect.note,
                    text=effect.text,
                    now=now,
                )
            elif isinstance(effect, CancelTimers):
                await scheduler.cancel_prefix_in(s, timer_key(session_id))
            elif isinstance(effect, SetTimers):
                await scheduler.cancel_prefix_in(s, timer_key(session_id))
                await self._schedule(s, session_id, state, effect)
            elif isinstance(effect, Finished):
                team = await identity.get_team(s, team_id)
                summary = build_summary(
                    session_id,
                    definition,
                    state,
                    await repo.contributions(s, session_id),
                    team_name=team.name if team else None,
                    now=now,
                )
                await repo.set_summary(s, session_id, summary)

    async def _schedule(
        self, s: AsyncSession, session_id: int, state: State, timers: SetTimers
    ) -> None:
        live = state.mode == Mode.LIVE
        for kind, due in (
            ("warn", timers.warn_at),
            ("time", timers.time_at),
            ("remind", timers.remind_at),
        ):
            if due is None:
                continue
            # Announcements in a live meeting are useless hours late (after a long outage);
            # anything that moves a session on must still happen, however late.
            late = live or kind == "warn"
            await self.core.scheduler.schedule_in(
                s,
                kind=TIMER_JOB,
                key=timer_key(session_id, timers.epoch, kind),
                due_at=due,
                payload={"session": session_id, "epoch": timers.epoch, "kind": kind},
                not_after=due + LATE_ANNOUNCEMENT if late else None,
            )

    async def on_timer(self, job: Job) -> None:
        payload = job.payload
        session_id = int(payload["session"])
        kind = str(payload["kind"])
        if kind not in ("warn", "time", "remind"):
            log.error("timer job %s has an unknown kind %r; ignoring it", job.key, kind)
            return
        if await self.get(session_id) is None:
            return
        await self.apply(session_id, engine.TimerFired(kind, int(payload["epoch"])))  # type: ignore[arg-type]

    # -- after the commit ----------------------------------------------------------------------

    def _lock(self, session_id: int) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def _perform(
        self, before: Loaded, outcome: Outcome, turn: Turn | None, intro: Sequence[Block]
    ) -> None:
        effects = outcome.effects
        for effect in effects:
            if isinstance(effect, Tell) and turn is not None:
                turn.reply(tell(before.definition, effect), private=True)
        if not intro and not any(_shows(e) for e in effects):
            return  # a contribution in the conversation: stored, nothing to show
        async with self._lock(before.id):
            latest = await self.get(before.id)
            if latest is None:
                return
            team = await self._team(latest)
            zone = self.core.zone_for(team=team)
            now = self.core.clock.now()
            if any(isinstance(e, RedrawCard) for e in effects):
                latest = await self.redraw(latest, zone)
            lines: list[Block] = list(intro)
            kinds = {"intro"} if intro else set()
            for effect in effects:
                if isinstance(effect, Announce):
                    said = announcement(before.definition, outcome.state, effect, zone, now)
                    lines.append(Section(said))
                    kinds.add(effect.kind)
                elif isinstance(effect, Record) and effect.echo:
                    lines.append(Section(echo(before.definition, outcome.state, effect)))
                    kinds.add("echo")
            if lines:
                message = OutMessage(blocks=tuple(lines))
                # What was said, at which version and step: the same message can't be queued
                # twice, and a second "one minute left" after an extension is a new message.
                key = say_key(
                    before.id,
                    outcome.version,
                    outcome.state.step,
                    "+".join(sorted(kinds)),
                    _digest(message_to_json(message)),
                )
                live = outcome.state.mode == Mode.LIVE
                await self._say(
                    latest, message, key=key, not_after=now + LATE_ANNOUNCEMENT if live else None
                )
            for effect in effects:
                if isinstance(effect, RemindQuiet):
                    await self._remind(latest, effect, team)
                elif isinstance(effect, Finished):
                    await self._finish(latest, team)
            if latest.row.status != repo.ACTIVE:
                self._locks.pop(before.id, None)
                self._definitions.pop(before.id, None)

    async def redraw(self, loaded: Loaded, zone: ZoneInfo) -> Loaded:
        """Show the session's current state on its card, posting the card the first time.

        A card left on an old step misleads the whole channel, so a failure that may pass is
        retried by a ``protocol.redraw`` job; a refusal for good is logged once and left.
        """
        what = f"show the card of protocol session {loaded.id}"
        try:
            sent = await self._send_card(loaded, zone)
        except DeliveryError as exc:
            _refused(what, exc)
            return loaded
        except Exception as exc:
            delay = _failed(what, exc)
            # replace: a later failure moves the one pending redraw to the latest wait time.
            await self._retry_later(
                kind=REDRAW_JOB,
                key=redraw_key(loaded.id),
                delay=delay,
                payload={"session": loaded.id},
                replace=True,
            )
            return loaded
        return await self._store_card(loaded, sent) if sent is not None else loaded

    async def _send_card(self, loaded: Loaded, zone: ZoneInfo) -> SentMessage | None:
        """Update the card; the first time, post it and return where it is."""
        message = session_card(
            loaded.definition,
            loaded.state,
            session_id=loaded.id,
            version=loaded.version,
            now=self.core.clock.now(),
            zone=zone,
        )
        if loaded.row.card:
            await self.core.outbox.update(sent_from_json(loaded.row.card), message)
            return None
        return await self.core.outbox.post(self._conversation(loaded), message)

    async def _store_card(self, loaded: Loaded, sent: SentMessage) -> Loaded:
        async with self.core.db.write() as s:
            await repo.set_card(s, loaded.id, sent_to_json(sent))
        refreshed = await self.get(loaded.id)
        return refreshed or loaded

    async def _retry_later(
        self,
        *,
        kind: str,
        key: str,
        delay: timedelta,
        payload: dict[str, Any],
        replace: bool,
        not_after: datetime | None = None,
    ) -> None:
        due = self.core.clock.now() + delay
        if not_after is not None and due > not_after:
            log.info("not retrying %s: it would be too late to be useful", key)
            return
        try:
            await self.core.scheduler.schedule(
                kind=kind,
                key=key,
                due_at=due,
                payload=payload,
                not_after=not_after,
                replace=replace,
            )
        except Exception:
            log.exception("could not schedule a retry (%s); it is lost", key)

    async def on_redraw(self, job: Job) -> None:
        """The retry of a failed redraw: show the state as it is now.

        A 429 propagates for the scheduler to retry at the platform's time, other errors get its
        backoff and give up after its attempts; a refusal for good ends the job.
        """
        session_id = int(job.payload["session"])
        async with self._latest(session_id) as latest:
            if latest is None:
                return
            zone = self.core.zone_for(team=await self._team(latest))
            try:
                sent = await self._send_card(latest, zone)
                if sent is not None:
                    await self._store_card(latest, sent)
            except DeliveryError as exc:
                _refused(f"show the card of protocol session {session_id}", exc)

    async def on_say(self, job: Job) -> None:
        """The retry of a failed post: the message exactly as it was, where the session talks."""
        payload = job.payload
        session_id = int(payload["session"])
        message = message_from_json(payload["message"])
        if not isinstance(message, OutMessage):
            log.error("retry job %s holds no message; dropping it", job.key)
            return
        async with self._latest(session_id) as latest:
            if latest is None:
                return
            thread = bool(payload.get("thread", True))
            where = self.thread(latest) if thread else self._conversation(latest)
            try:
                await self.core.outbox.post(where, message)
            except DeliveryError as exc:
                _refused(_posting(session_id, where), exc)

    @asynccontextmanager
    async def _latest(self, session_id: int) -> AsyncIterator[Loaded | None]:
        """A retry job's session as it is now, under the session's lock."""
        async with self._lock(session_id):
            latest = await self.get(session_id)
            try:
                yield latest
            finally:
                if latest is None or latest.row.status != repo.ACTIVE:
                    self._locks.pop(session_id, None)

    async def _team(self, loaded: Loaded) -> Team | None:
        async with self.core.db.read() as s:
            return await identity.get_team(s, loaded.row.team_id)

    def _conversation(self, loaded: Loaded) -> ConversationRef:
        return sent_from_json({**loaded.row.conversation, "message_id": ""}).conversation

    def thread(self, loaded: Loaded) -> ConversationRef:
        """Where the session talks: the card's thread once there is a card."""
        if loaded.row.card:
            card = sent_from_json(loaded.row.card)
            return card.conversation.in_thread(card.message_id)
        return self._conversation(loaded)

    async def _say(
        self,
        loaded: Loaded,
        message: OutMessage,
        *,
        key: str,
        thread: bool = True,
        not_after: datetime | None = None,
    ) -> None:
        """Post in the session's conversation; ``key`` names this message's retry, if needed."""
        where = self.thread(loaded) if thread else self._conversation(loaded)
        try:
            await self.core.outbox.post(where, message)
        except DeliveryError as exc:
            _refused(_posting(loaded.id, where), exc)
        except Exception as exc:
            delay = _failed(_posting(loaded.id, where), exc)
            # not replace: a key that exists was queued (or sent) already.
            await self._retry_later(
                kind=SAY_JOB,
                key=key,
                delay=delay,
                payload={
                    "session": loaded.id,
                    "thread": thread,
                    "message": message_to_json(message),
                },
                replace=False,
                not_after=not_after,
            )

    async def _remind(self, loaded: Loaded, effect: RemindQuiet, team: Team | None) -> None:
        expected = engine.speakers(loaded.definition, loaded.state, effect.step)
        async with self.core.db.read() as s:
            done = await repo.contributors(s, loaded.id, effect.step)
            members = [await identity.get_member(s, m) for m in expected if m not in done]
        step = loaded.definition.steps[effect.step]
        channel = team.name if team and team.name else "your team's channel"
        for member in members:
            if member is None:
                continue
            zone = self.core.zone_for(member, team)
            message = OutMessage(
                title=f"{loaded.definition.title}: your thoughts are welcome",
                blocks=(
                    Section(
                        text(
                            f"The session in #{channel} is on ",
                            step_heading(loaded.definition, effect.step),
                            f" until {when(effect.closes_at, zone, self.core.clock.now())}. ",
                            step.purpose,
                        )
                    ),
                    Section(
                        text(
                            "Reply to the session message in the channel, or type /protocol "
                            "add TEXT there. If you already added something anonymously, "
                            "thank you, and please ignore this."
                        )
                    ),
                ),
            )
            try:
                await self.core.outbox.to_member(member, message)
            except Exception:
                log.warning(
                    "could not remind member %d about protocol session %d",
                    member.id,
                    loaded.id,
                    exc_info=True,
                )

    async def _finish(self, loaded: Loaded, team: Team | None) -> None:
        summary = loaded.row.summary
        if not summary:
            log.error("protocol session %d ended without a stored summary", loaded.id)
            return
        zone = self.core.zone_for(team=team)
        await self._say(
            loaded, summary_message(summary, zone), key=say_key(loaded.id, "summary"), thread=False
        )
        log.info("protocol session %d ended (%s)", loaded.id, summary["outcome"])
        drafts = self.ports.drafts
        proposals = [
            ProposedCommitment(
                team_id=loaded.row.team_id,
                owner_member_id=int(n["member_id"]),
                text=str(n["text"]),
                session_id=loaded.id,
                # A protocol serves several indicators; which one a next step serves is its
                # owner's call (the confirm form asks), so none are guessed here.
            )
            for n in summary["next_steps"]
        ]
        if drafts is None or not proposals:
            return
        try:
            await drafts.propose(proposals)
        except Exception:
            log.exception(
                "could not hand the next steps of protocol session %d to commitments", loaded.id
            )
