"""Daily clean-up of bookkeeping rows that have done their job."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.context import Core
from bot.features import Feature
from bot.router import Router
from storage import events, jobs
from storage.jobs import Job

log = logging.getLogger(__name__)

KEEP_EVENT_IDS = timedelta(days=7)  # platforms stop retrying after minutes
KEEP_FINISHED_JOBS = timedelta(days=30)  # long enough to answer "did my reminder go out?"


class Housekeeping(Feature):
    name = "housekeeping"

    def __init__(self, core: Core) -> None:
        self.core = core

    def install(self, router: Router) -> None:
        self.core.scheduler.register("housekeeping", self.run)

    async def start(self) -> None:
        await self._plan()

    async def _plan(self) -> None:
        tomorrow = self.core.clock.now() + timedelta(days=1)
        await self.core.scheduler.schedule(
            kind="housekeeping",
            key=f"housekeeping:{tomorrow.date().isoformat()}",
            due_at=tomorrow.replace(hour=3, minute=0, second=0, microsecond=0),
            replace=False,
        )

    async def run(self, job: Job) -> None:
        now = self.core.clock.now()
        async with self.core.db.write() as session:
            dropped = await events.forget_before(session, now - KEEP_EVENT_IDS)
            purged = await jobs.purge_finished(session, now - KEEP_FINISHED_JOBS)
        log.info("housekeeping: forgot %d event ids and %d finished jobs", dropped, purged)
        await self._plan()
