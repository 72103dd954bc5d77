"""``/protocol``: facilitated discussion protocols, live or over days, with a lasting record.

The neighbouring features come in through ports: a :class:`~bot.ports.TeamAgenda` shows the
team's open items when a session starts ("last time we said..."), and
:class:`~bot.ports.CommitmentDrafts` turns each person's next step into a commitment for them
to confirm when a session ends. Without them, sessions run just the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import Core
from bot.features import Feature
from bot.messages import Block, ListBlock, ListItem, text
from bot.ports import CommitmentDrafts, TeamAgenda
from bot.protocol.actions import Actions
from bot.protocol.browse import Browse
from bot.protocol.commands import SessionCommands
from bot.protocol.context import ProtocolContext
from bot.protocol.runner import REDRAW_JOB, SAY_JOB, TIMER_JOB, Ports, Runner
from bot.router import CommandSpec, Router, Subcommand
from storage import identity
from storage import protocol_sessions as repo
from storage.identity import Member


class ProtocolsFeature(Feature):
    name = "protocols"

    def __init__(
        self,
        core: Core,
        agenda: TeamAgenda | None = None,
        drafts: CommitmentDrafts | None = None,
    ) -> None:
        self.core = core
        self.ports = Ports(agenda=agenda, drafts=drafts)
        self.runner = Runner(core, self.ports)
        self.ctx = ProtocolContext(core, self.ports, self.runner, core.settings.protocols_dir)
        self.browse = Browse(self.ctx)
        self.commands = SessionCommands(self.ctx)
        self.actions = Actions(self.ctx, self.commands)

    @property
    def agenda(self) -> TeamAgenda | None:
        return self.ports.agenda

    @agenda.setter
    def agenda(self, value: TeamAgenda | None) -> None:
        self.ports.agenda = value

    @property
    def drafts(self) -> CommitmentDrafts | None:
        return self.ports.drafts

    @drafts.setter
    def drafts(self, value: CommitmentDrafts | None) -> None:
        self.ports.drafts = value

    def install(self, router: Router) -> None:
        c, b = self.commands, self.browse
        router.add_command(
            CommandSpec(
                name="protocol",
                summary="Run a discussion protocol with your team, step by step, with timers.",
                subcommands=(
                    Subcommand("list", b.list, "[words or indicator]", "protocols I can run"),
                    Subcommand("info", b.info, "NAME", "what a protocol is for, and its steps"),
                    Subcommand(
                        "start",
                        c.start,
                        "NAME [@presenter] [--auto | --async 2d]",
                        "start one in this channel",
                    ),
                    Subcommand("next", c.next, "", "move to the next step (facilitator, leads)"),
                    Subcommand("back", c.back, "", "undo an accidental next"),
                    Subcommand("pause", c.pause, "", "stop the clock"),
                    Subcommand("resume", c.resume, "", "start the clock again"),
                    Subcommand("extend", c.extend, "MINUTES", "more time for this step"),
                    Subcommand("pass", c.pass_turn, "", "pass your turn in a round"),
                    Subcommand(
                        "add",
                        c.add,
                        "[--anon] [--step N] TEXT",
                        "add to the current step (anonymously where the step allows); the "
                        "note-taker may add to an earlier step with --step",
                    ),
                    Subcommand("status", c.status, "", "where the session is"),
                    Subcommand("roles", c.roles, "", "who holds which role, and suggestions"),
                    Subcommand("role", c.role, "ROLE @name", "hand a role to someone (or none)"),
                    Subcommand("end", c.end, "", "end the session and post the summary"),
                    Subcommand("history", b.history, "", "this team's past sessions"),
                    Subcommand("export", b.export, "[N]", "a session's record as Markdown"),
                ),
                examples=(
                    "/protocol list B2",
                    "/protocol start tuning @maria",
                    "/protocol start peeling-the-onion @sam --async 2d",
                    "/protocol add --anon I wonder whether the rubric...",
                ),
            )
        )
        router.add_action("protocol.", self.actions.on_action)
        router.add_message_handler(self.actions.on_message)
        self.core.scheduler.register(TIMER_JOB, self.runner.on_timer)
        self.core.scheduler.register(REDRAW_JOB, self.runner.on_redraw)
        self.core.scheduler.register(SAY_JOB, self.runner.on_say)

    async def start(self) -> None:
        self.ctx.reload()

    async def home(self, member: Member) -> Sequence[Block]:
        async with self.core.db.read() as s:
            teams = {team.id: team for team, _role in await identity.teams_of(s, member.id)}
            rows = await repo.active_for_teams(s, list(teams))
        if not rows:
            return ()
        items = []
        for row in rows:
            loaded = self.runner.load_row(row)
            team = teams[row.team_id]
            step = loaded.definition.steps[loaded.state.step]
            items.append(
                ListItem(
                    text(
                        f"{loaded.definition.title} in #{team.name or team.conversation_id}: "
                        f"step {loaded.state.step + 1} of {len(loaded.definition.steps)}, "
                        f"{step.title}"
                    ),
                    loaded.state.status.value,
                )
            )
        return (ListBlock(tuple(items), heading="Protocols running now"),)
