"""The commitments feature: ``/commit``, ``/commitments``, follow-up jobs, and its two ports.

It provides ``TeamAgenda`` (open items a team carries into its next protocol session) and
``CommitmentDrafts`` (next steps from a session, confirmed by each owner), and uses
``QuietDays`` (the school calendar) so nobody is nudged on a day off.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.commitment.actions import Actions
from bot.commitment.commands import OwnerCommands
from bot.commitment.drafts import Drafts
from bot.commitment.followup import FollowUp
from bot.commitment.reports import Reports
from bot.commitment.service import CommitmentService
from bot.commitment.timing import Timing, WeekendsOff, parse_nudge_time
from bot.commitment.views import STATUS_LABELS, items
from bot.context import Core
from bot.features import Feature
from bot.messages import Block, ListBlock, ListItem, text
from bot.ports import AgendaItem, ProposedCommitment, QuietDays
from bot.router import CommandSpec, Router, Subcommand
from bot.settings import SettingsError
from storage import commitments as repo
from storage import identity
from storage.commitments import ACTIVE, DONE, DROPPED, NOT_YET, PARTLY, SHARED
from storage.identity import Member

NUDGE_TIME_SETTING = "PLCBOT_COMMITMENTS_NUDGE_TIME"
AGENDA_LIMIT = 30


class CommitmentsFeature(Feature):
    name = "commitments"

    def __init__(self, core: Core, quiet_days: QuietDays | None = None) -> None:
        self.core = core
        try:
            at = parse_nudge_time(core.settings.get(NUDGE_TIME_SETTING))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        self.timing = Timing(quiet_days or WeekendsOff(), at)
        self.followup = FollowUp(core, self.timing)
        self.service = CommitmentService(core, self.followup)
        self.drafts = Drafts(core, self.service, self.timing)
        self.owner = OwnerCommands(core, self.service)
        self.reports = Reports(core)
        self.actions = Actions(core, self.service, self.drafts)

    def install(self, router: Router) -> None:
        self.followup.register()
        o, r = self.owner, self.reports
        router.add_command(
            CommandSpec(
                name="commit",
                summary="Commit to a next step, with a date and a peer who checks in.",
                default=o.commit,
                default_usage="TEXT by DATE [with @peer ...] [#B3] [#private] [know: HOW]",
                bare=o.new,
                examples=(
                    "/commit Try exit tickets in period 3 by Friday with @ben #B3",
                    "/commit Call two families about reading logs by next Tuesday #private",
                    "/commit Co-plan the fractions unit by Dec 15 with @carla know: a shared "
                    "lesson plan",
                ),
            )
        )
        router.add_command(
            CommandSpec(
                name="commitments",
                summary="Your commitments, the team's, outcomes, and leads' summaries.",
                bare=o.mine,
                subcommands=(
                    Subcommand("mine", o.mine, summary="your commitments"),
                    Subcommand("team", o.team, summary="the team's shared commitments"),
                    Subcommand("new", o.new, summary="make one with a form", aliases=("add",)),
                    Subcommand("show", o.show, "N", "one commitment and its history"),
                    Subcommand("done", o.outcome(DONE), "N [NOTE]", "it's done"),
                    Subcommand("partly", o.outcome(PARTLY), "N [NOTE]", "partly done"),
                    Subcommand(
                        "not-yet",
                        o.outcome(NOT_YET),
                        "N [NOTE]",
                        "not yet (set a new date with edit)",
                        aliases=("notyet",),
                    ),
                    Subcommand("drop", o.outcome(DROPPED), "N [REASON]", "let it go"),
                    Subcommand(
                        "edit",
                        o.edit,
                        "N [TEXT] [by DATE] [with @peer] [#B3] [#private|#shared]",
                        "change it (N alone opens a form)",
                    ),
                    Subcommand("note", o.note, "N TEXT", "what happened for students"),
                    Subcommand("link", o.link, "N URL", "a link to evidence"),
                    Subcommand("share", o.share, "N", "post the outcome in the team's channel"),
                    Subcommand("reply", o.reply, "N TEXT", "write to the owner or the peers"),
                    Subcommand("search", r.search, "WORDS", "who has tried this?"),
                    Subcommand(
                        "summary",
                        r.summary,
                        "[this week|this month|term]",
                        "the team's follow-through (leads)",
                    ),
                    Subcommand("export", r.export, summary="a CSV file of what you can see"),
                    Subcommand("term", r.term, "[DATE]", "when the term started (leads)"),
                    Subcommand(
                        "confirm",
                        self.drafts.confirm_command,
                        "D [TEXT] [by DATE] [with @peer]",
                        "confirm a next step from a meeting",
                    ),
                ),
                examples=(
                    "/commitments done 12 Most students used the sentence frames",
                    "/commitments edit 12 by next Friday",
                    "/commitments search exit tickets",
                    "/commitments summary this month",
                ),
            )
        )
        router.add_action("commit.", self.actions.route)

    # -- ports -------------------------------------------------------------------------------

    async def open_items(self, team_id: int) -> Sequence[AgendaItem]:
        """TeamAgenda: the team's shared open commitments, soonest due first.

        ``status`` is for people to read ("open", "not yet"); private ones are never listed,
        since a session is shared with the whole team.
        """
        async with self.core.db.read() as session:
            found = await repo.for_team(session, team_id, active=True)
        return [
            AgendaItem(
                owner=c.owner.name,
                text=c.what,
                due=c.due_on,
                status=STATUS_LABELS[c.status],
                ref=c.ref,
            )
            for c in found
            if c.visibility == SHARED and c.status in ACTIVE
        ][:AGENDA_LIMIT]

    async def propose(self, proposals: Sequence[ProposedCommitment]) -> None:
        """CommitmentDrafts: ask each owner to confirm or edit their next step."""
        await self.drafts.propose(proposals)

    # -- home --------------------------------------------------------------------------------

    async def home(self, member: Member) -> Sequence[Block]:
        async with self.core.db.read() as session:
            mine = await repo.owned_by(session, member.id, statuses=ACTIVE, limit=20)
            asked = await repo.awaiting_check_in(session, member.id)
            team = (
                await identity.get_team(session, member.last_team_id)
                if member.last_team_id
                else None
            )
        today = self.core.clock.now().astimezone(self.core.zone_for(member, team)).date()
        blocks: list[Block] = [
            items(
                mine,
                today,
                "Your open commitments",
                show_owner=False,
                empty="Nothing open. /commit TEXT by DATE makes one.",
            )
        ]
        if asked:
            blocks.append(
                ListBlock(
                    tuple(
                        ListItem(
                            text(
                                c.owner.name,
                                f" ({c.ref}): ",
                                c.what,
                                f" - /commitments reply {c.number} TEXT",
                            )
                        )
                        for c in asked
                    ),
                    heading="Your peers would love a check-in",
                )
            )
        return blocks
