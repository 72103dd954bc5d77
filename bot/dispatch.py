"""Handling one inbound event from start to finish, the same way for every platform.

1. Drop it if this (platform, event id) was already handled (durably: retries arrive after
   restarts and on other replicas).
2. Resolve who and where (member, team, role), storing conversation references for later sends.
3. Route it to a feature.
4. Turn a :class:`~bot.errors.UserError` into a friendly private answer, and any other failure
   into an apology with a reference for the logs, never a traceback in chat; a failed event is
   forgotten again so the platform's retry can succeed.
5. Deliver the collected replies (or hand them to the adapter, which may need them in its HTTP
   response, as Teams' ``Action.Execute`` does).
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.batching import GroupCall
from bot.context import Core
from bot.errors import UserError
from bot.events import InboundEvent
from bot.messages import OutMessage, say
from bot.ports import Messenger
from bot.router import Router
from bot.turn import Reply, Turn
from storage import events as processed

log = logging.getLogger(__name__)

Claim = tuple[str, str, int]  # platform, event id, this delivery's number


@dataclass
class TurnResult:
    replies: list[Reply] = field(default_factory=list)
    duplicate: bool = False
    failed: bool = False
    refused: bool = False  # a UserError: the last reply says what to fix, nothing was stored


def welcome_lead(help_command: str) -> OutMessage:
    return say(
        "Welcome to plcbot! You're the first person to use me in this channel, so you are this "
        "team's lead for now: leads can change team settings and see team summaries. Hand the "
        f"role on or share it with /team lead @name. Type {help_command} to see what I can do."
    )


class Dispatcher:
    def __init__(self, core: Core, router: Router) -> None:
        self.core = core
        self.router = router
        # Each call gets its own key, so two copies of one event in a batch get one True.
        self._claims = itertools.count()
        self._claim = GroupCall(self._claim_many)

    async def _claim_many(self, calls: Sequence[Claim]) -> dict[Claim, bool]:
        """Durably claim the events of concurrent deliveries in one transaction: a lone
        delivery is claimed at once, and a burst pays for one commit, not one each."""
        async with self.core.db.write() as session:
            fresh = await processed.claim_events(
                session, ((p, e) for p, e, _n in calls), self.core.clock.now()
            )
        results: dict[Claim, bool] = {}
        for call in calls:
            key = call[:2]
            results[call] = key in fresh
            fresh.discard(key)  # a second copy in the same batch is a repeat
        return results

    async def handle(
        self, event: InboundEvent, messenger: Messenger, *, deliver: bool = True
    ) -> TurnResult:
        platform = event.actor.platform
        if event.event_id:
            first = await self._claim((platform, event.event_id, next(self._claims)))
            if not first:
                log.info("dropping repeated %s event %s", platform, event.event_id)
                return TurnResult(duplicate=True)
        result = TurnResult()
        try:
            resolved = await self.core.identity.resolve(event)
            turn = Turn(
                event=event,
                core=self.core,
                messenger=messenger,
                member=resolved.member,
                team=resolved.team,
                role=resolved.role,
            )
            if resolved.became_lead:
                turn.reply(welcome_lead(messenger.help_command), private=True)
            try:
                await self.router.route(turn)
            except UserError as exc:
                turn.replies.append(Reply(exc.reply, private=True))
                result.refused = True
            result.replies = turn.replies
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception(
                "handling %s event %s failed (reference %s)", platform, event.event_id, reference
            )
            result.failed = True
            result.replies = [
                Reply(
                    say(
                        "Sorry, something went wrong on my side and I couldn't finish that. "
                        "Nothing you had already saved was lost; please try again in a moment. "
                        f"If it keeps happening, give your IT contact this reference: {reference}."
                    ),
                    private=True,
                )
            ]
            if event.event_id:
                async with self.core.db.write() as session:
                    await processed.release_event(session, platform, event.event_id)
        if deliver:
            await self.deliver(event, messenger, result.replies)
        return result

    async def deliver(
        self, event: InboundEvent, messenger: Messenger, replies: list[Reply]
    ) -> None:
        for reply in replies:
            try:
                if reply.form is not None and await messenger.open_form(event, reply.form):
                    continue
                await messenger.reply(event, reply.message, private=reply.private)
            except Exception:
                log.exception("could not deliver a reply to %s", event.conversation.key)
