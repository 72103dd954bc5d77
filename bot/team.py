"""``/team``: who is in this PLC, who leads it, and its default time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.context import Core
from bot.errors import UserError
from bot.features import Feature
from bot.messages import Field, Fields, ListBlock, ListItem, Mention, OutMessage, Section, text
from bot.parsing import split_args
from bot.people import resolve_person
from bot.router import CommandSpec, Router, Subcommand
from bot.turn import Turn
from storage import identity as repo


class TeamFeature(Feature):
    name = "team"

    def __init__(self, core: Core) -> None:
        self.core = core

    def install(self, router: Router) -> None:
        router.add_command(
            CommandSpec(
                name="team",
                summary="Who is in this team and who leads it; leads manage roles and time zone.",
                bare=self.show,
                subcommands=(
                    Subcommand("show", self.show, summary="members, roles and time zone"),
                    Subcommand("lead", self.make_lead, "@name", "make someone a lead (leads only)"),
                    Subcommand(
                        "member",
                        self.make_member,
                        "@name",
                        "a lead steps back to member (leads only)",
                    ),
                    Subcommand(
                        "timezone",
                        self.set_timezone,
                        "ZONE",
                        "the team's default time zone, e.g. America/Chicago (leads only)",
                        aliases=("tz",),
                    ),
                    Subcommand(
                        "sync",
                        self.sync,
                        summary="add everyone in this channel to the team (leads only)",
                    ),
                ),
            )
        )

    async def show(self, turn: Turn, _args: str) -> None:
        team = turn.require_team()
        async with self.core.db.read() as session:
            members = await repo.team_members(session, team.id)
        items = tuple(
            ListItem(
                text(Mention(tm.member.user_id, tm.member.display_name)),
                "lead" if tm.is_lead else None,
            )
            for tm in members
        )
        zone = team.timezone or f"{self.core.settings.timezone} (plcbot's default)"
        turn.reply(
            OutMessage(
                title=f"Team {team.name or team.conversation_id}",
                blocks=(
                    Fields(
                        (Field("Members", text(str(len(members)))), Field("Time zone", text(zone)))
                    ),
                    ListBlock(items, heading="Members"),
                ),
                footer="Leads can change roles with /team lead @name and /team member @name.",
            ),
            private=True,
        )

    async def _target(self, turn: Turn, args: str) -> tuple[repo.Team, repo.Member]:
        team = turn.require_channel("manage the team")
        turn.require_lead("change team roles")
        words = split_args(args)
        if len(words) != 1:
            raise UserError("Name one person, e.g. /team lead @maria.")
        return team, await resolve_person(turn, words[0], team)

    async def make_lead(self, turn: Turn, args: str) -> None:
        team, member = await self._target(turn, args)
        async with self.core.db.write() as session:
            await repo.set_role(session, team.id, member.id, repo.LEAD)
        self.core.identity.forget_team(team.id)
        turn.reply(
            OutMessage(
                blocks=(
                    Section(
                        text(
                            Mention(member.user_id, member.display_name),
                            " is now a lead of this team (added by ",
                            turn.member.display_name,
                            ").",
                        )
                    ),
                )
            )
        )

    async def make_member(self, turn: Turn, args: str) -> None:
        team, member = await self._target(turn, args)
        async with self.core.db.write() as session:
            leads = [tm for tm in await repo.team_members(session, team.id) if tm.is_lead]
            if len(leads) == 1 and leads[0].member.id == member.id:
                raise UserError(
                    "A team needs at least one lead. Make someone else a lead first "
                    "(/team lead @name)."
                )
            await repo.set_role(session, team.id, member.id, repo.MEMBER)
        self.core.identity.forget_team(team.id)
        turn.reply(f"{member.display_name} is now a member (no longer a lead) of this team.")

    async def set_timezone(self, turn: Turn, args: str) -> None:
        team = turn.require_channel("set the team's time zone")
        turn.require_lead("set the team's time zone")
        name = args.strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(
                f"{name!r} isn't a time zone I know. Use a name like America/New_York or "
                "Europe/London."
            ) from None
        async with self.core.db.write() as session:
            await repo.set_team_timezone(session, team.id, name)
        self.core.identity.forget_team(team.id)
        turn.reply(
            f"This team's default time zone is now {name}. Members whose chat profile has a time "
            "zone still get their prompts in their own time."
        )

    async def sync(self, turn: Turn, _args: str) -> None:
        team = turn.require_channel("sync the team")
        turn.require_lead("sync the team with the channel")
        people = await turn.messenger.roster(turn.event.conversation)
        if not people:
            turn.reply(
                "I couldn't read this channel's member list, so I left the team as it is. "
                "Members join the team when they first talk to me here.",
                private=True,
            )
            return
        count = await self.core.identity.sync_roster(team, people)
        turn.reply(f"The team now includes all {count} people in this channel.", private=True)
