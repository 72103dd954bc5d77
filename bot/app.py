"""The composition root: everything plcbot is made of, wired in one place, started in order.

Nothing is wired at import time. :func:`build_app` builds the object graph from settings;
``async with bot.running():`` migrates and opens the database, starts the features, lets the
scheduler catch up on missed work, then opens the adapters, and stops them in reverse order.
Platform adapters are imported only when their settings enable them, so the core never loads a
platform SDK it is not using.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.clock import Clock, SystemClock
from bot.commitment import CommitmentsFeature
from bot.context import Core
from bot.dispatch import Dispatcher
from bot.features import Feature
from bot.housekeeping import Housekeeping
from bot.identity import Identity
from bot.messages import Block, OutMessage, Section, text
from bot.outbox import Outbox
from bot.ports import Adapter
from bot.protocol import ProtocolsFeature
from bot.reflection import ReflectionsFeature, SchoolCalendar
from bot.router import CommandSpec, Router
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.team import TeamFeature
from bot.turn import Turn
from storage import migrate
from storage.db import Database
from storage.identity import Member

log = logging.getLogger(__name__)

AdapterFactory = Callable[["PlcBot"], Adapter]
PLATFORM_ADAPTERS = {
    "slack": "adapters.slack:create_adapter",
    "teams": "adapters.teams:create_adapter",
}


def _load(path: str) -> AdapterFactory:
    module_name, _, attr = path.partition(":")
    factory: AdapterFactory = getattr(importlib.import_module(module_name), attr)
    return factory


class PlcBot:
    def __init__(self, core: Core, router: Router, features: Sequence[Feature]) -> None:
        self.core = core
        self.router = router
        self.features = list(features)
        self.dispatcher = Dispatcher(core, router)
        self.adapters: list[Adapter] = []
        # The overview spans every feature, so the command lives here, beside home_for.
        router.add_command(
            CommandSpec(
                name="home",
                summary=(
                    "Your overview: open commitments, peers' check-ins, your next prompt, your "
                    "teams' live sessions. Only you see it."
                ),
                bare=self._home,
                entry=True,
            )
        )

    @property
    def settings(self) -> Settings:
        return self.core.settings

    @property
    def db(self) -> Database:
        return self.core.db

    @property
    def scheduler(self) -> Scheduler:
        return self.core.scheduler

    def add_adapter(self, adapter: Adapter) -> Adapter:
        self.adapters.append(adapter)
        self.core.outbox.add(adapter.messenger)
        return adapter

    def feature(self, kind: type[Feature]) -> Feature:
        for feature in self.features:
            if isinstance(feature, kind):
                return feature
        raise LookupError(kind.__name__)

    async def home_for(self, member: Member, *, help_command: str = "/help") -> OutMessage:
        """A member's overview across features: open commitments, next prompt, live sessions."""
        blocks: list[Block] = []
        for feature in self.features:
            try:
                blocks.extend(await feature.home(member))
            except Exception:
                log.exception("the %s feature could not build its home section", feature.name)
        if not blocks:
            blocks.append(
                Section(text(f"Nothing here yet. Type {help_command} to see what I can do."))
            )
        return OutMessage(title=f"plcbot for {member.display_name}", blocks=tuple(blocks))

    async def _home(self, turn: Turn, _rest: str) -> None:
        # Private wherever it is asked for: it lists the member's own (and private) commitments.
        overview = await self.home_for(turn.member, help_command=turn.messenger.help_command)
        turn.reply(overview, private=True)

    @asynccontextmanager
    async def running(self, *, migrate_db: bool = True) -> AsyncIterator[PlcBot]:
        db = self.core.db
        started: list[Feature] = []
        adapters_started: list[Adapter] = []
        try:
            await db.ping()
            if migrate_db:
                await migrate.upgrade(db)
            for feature in self.features:
                await feature.start()
                started.append(feature)
            await self.core.scheduler.start()
            for adapter in self.adapters:
                await adapter.start()
                adapters_started.append(adapter)
            log.info(
                "plcbot is running (database: %s; platforms: %s)",
                db.dialect,
                ", ".join(a.platform for a in self.adapters) or "none",
            )
            yield self
        finally:
            for adapter in reversed(adapters_started):
                try:
                    await adapter.stop()
                except Exception:
                    log.exception("stopping the %s adapter failed", adapter.platform)
            await self.core.scheduler.stop()
            for feature in reversed(started):
                try:
                    await feature.stop()
                except Exception:
                    log.exception("stopping the %s feature failed", feature.name)
            await db.close()
            log.info("plcbot stopped")


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    platforms: Sequence[str] | None = None,
    scheduler_poll: timedelta = timedelta(seconds=30),
) -> PlcBot:
    """Wire plcbot. ``platforms`` defaults to those the settings enable (Slack, Teams)."""
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    scheduler = Scheduler(db, clock, poll_seconds=scheduler_poll.total_seconds())
    core = Core(
        settings=settings,
        db=db,
        clock=clock,
        scheduler=scheduler,
        outbox=Outbox(db, clock),
        identity=Identity(db, clock),
    )
    router = Router()
    school_calendar = SchoolCalendar(core)  # the QuietDays port, for every feature that sends
    commitments = CommitmentsFeature(core, quiet_days=school_calendar)
    features: list[Feature] = [
        TeamFeature(core),
        # Open commitments come back at the start of a protocol session, and a session's next
        # steps become commitments their owners confirm.
        ProtocolsFeature(core, agenda=commitments, drafts=commitments),
        commitments,
        Housekeeping(core),
        ReflectionsFeature(core, school_calendar),
    ]
    for feature in features:
        feature.install(router)
    bot = PlcBot(core, router, features)
    if platforms is None:
        platforms = [
            name
            for name, enabled in (
                ("slack", settings.slack_enabled),
                ("teams", settings.teams_enabled),
            )
            if enabled
        ]
    for name in platforms:
        bot.add_adapter(_load(PLATFORM_ADAPTERS[name])(bot))
    return bot
