"""Keeping a posted digest true to what its authors want shown.

The digest goes out when the round closes (:mod:`bot.reflection.delivery`). When a member
later deletes, un-shares, re-shares or edits an answer given while the round was open, the
digest in the channel is redrawn in place from the answers as they are now, so an answer its
author took back does not stay on display. Answers given after the round closed (late ones)
never join it.

The redraw is a job scheduled in the same transaction as the member's change, so it is not
lost if the platform is busy (a 429 is retried after its Retry-After) or the process stops.
Each change gets its own job: a redraw already running may have read the answers before the
change, and a job is not rescheduled while it runs. Redraws are idempotent and changes rare.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Core
from bot.messages import OutMessage
from bot.outbox import sent_from_json
from bot.ports import DeliveryError, RateLimited
from bot.reflection import messages
from bot.reflection.bank import PromptBank
from bot.scheduler import RetryLater
from storage import reflection_answers as answers_repo
from storage import reflections as repo
from storage.jobs import Job

log = logging.getLogger(__name__)

REDRAW = "reflect.redraw"


async def build_digest(
    session: AsyncSession, found: repo.Round, bank: PromptBank
) -> tuple[answers_repo.Participation, OutMessage]:
    """A round's digest from its on-time answers as they are now: the same when the round
    closes and whenever it is redrawn."""
    counts = await answers_repo.participation(session, found.id, on_time_only=True)
    shared = await answers_repo.shared_answers(session, found.id)
    follow_up = bank.follow_up(found.indicator)
    return counts, messages.digest_message(found.indicator, counts, shared, follow_up)


class Digests:
    def __init__(self, core: Core, bank: PromptBank) -> None:
        self.core = core
        self.bank = bank

    def register(self) -> None:
        self.core.scheduler.register(REDRAW, self._on_redraw)

    async def changed_in(self, session: AsyncSession, changed: answers_repo.ChangedAnswer) -> bool:
        """After a change to an answer, redraw its round's digest if it is shown in one.

        Runs in the caller's transaction; True when a redraw is on its way.
        """
        if changed.late:
            return False  # never part of the digest
        found = await repo.get_round(session, changed.round_id)
        if found is None or found.digest_ref is None:
            return False  # still open (no digest yet), or closed without one
        await self.core.scheduler.schedule_in(
            session,
            kind=REDRAW,
            key=f"reflect:redraw:{found.id}:{uuid.uuid4().hex}",
            due_at=self.core.clock.now(),
            payload={"round_id": found.id},
        )
        return True

    async def _on_redraw(self, job: Job) -> None:
        round_id = int(job.payload["round_id"])
        async with self.core.db.read() as session:
            found = await repo.get_round(session, round_id)
            if found is None or found.digest_ref is None:
                return
            _counts, digest = await build_digest(session, found, self.bank)
        try:
            await self.core.outbox.update(sent_from_json(found.digest_ref), digest)
        except RateLimited as exc:
            raise RetryLater(exc.retry_after, f"rate limited redrawing digest {round_id}") from exc
        except DeliveryError as exc:
            # The message is gone from the channel (or the platform is no longer configured):
            # there is nothing left on display to correct.
            log.warning("could not redraw the digest of round %d: %s", round_id, exc)
