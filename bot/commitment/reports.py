"""Looking across commitments: search, the leads' summary, the CSV export, the term start."""

from __future__ import annotations

import re
from datetime import date

from bot.commitment import access, export, summary
from bot.commitment.dates import read_date
from bot.commitment.inputs import today_for
from bot.commitment.views import item
from bot.context import Core
from bot.errors import UserError
from bot.messages import Block, ListBlock, ListItem, OutMessage, Section, text
from bot.timefmt import day
from bot.turn import Turn
from storage import commitments as repo
from storage import identity
from storage.identity import Team

MIN_WORD = 3
MAX_WORDS = 6


class Reports:
    def __init__(self, core: Core) -> None:
        self.core = core

    @staticmethod
    def _name(team: Team) -> str:
        return team.name or team.conversation_id

    async def search(self, turn: Turn, args: str) -> None:
        words = [w for w in re.findall(r"[\w'-]+", args.lower()) if len(w) >= MIN_WORD]
        if not words:
            raise UserError(
                "What should I look for? e.g. /commitments search exit tickets "
                f"(words of {MIN_WORD} letters or more)."
            )
        team_ids = await access.my_team_ids(turn, everywhere=True)
        async with self.core.db.read() as session:
            found = await repo.search(session, team_ids, turn.member.id, words[:MAX_WORDS])
            names = await repo.team_names(session, team_ids) if len(team_ids) > 1 else {}
        today = turn.now.astimezone(self.core.zone_for(turn.member, turn.team)).date()
        entries = []
        for c in found:
            line = item(c, today, team_name=names.get(c.team_id))
            body = line.body
            if c.outcome_note and c.outcome_visible_to(turn.member.id):
                body = (*body, " What happened: ", c.outcome_note[:300])
            entries.append(ListItem(body, line.marker))
        query = " ".join(words[:MAX_WORDS])
        blocks: list[Block] = [
            ListBlock(
                tuple(entries),
                heading=f"Commitments mentioning {query!r}",
                empty_text="Nobody has written about that yet. Maybe you'll be the first?",
            )
        ]
        if found:
            blocks.append(
                Section(
                    text(
                        "Curious how it went? Ask the owner with /commitments reply N TEXT "
                        "(if you're their peer), or in the team's channel."
                    )
                )
            )
        turn.reply(OutMessage(title="Who has tried this?", blocks=tuple(blocks)), private=True)

    async def summary(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        turn.require_lead("see the team's commitment summary")
        turn.reply(await self.summary_card(team, turn.member.id, args), private=True)

    async def summary_card(self, team: Team, viewer_id: int, period_name: str) -> OutMessage:
        """The summary as a lead sees it (the benchmark times exactly this)."""
        zone = self.core.zone_for(None, team)
        today = self.core.clock.now().astimezone(zone).date()
        period, trend = summary.periods(period_name, today, term_start(team))
        since = min(p.start for p in [period, *trend])
        async with self.core.db.read() as session:
            found = await repo.for_team(session, team.id, due_from=since, active=True)
        result = summary.summarise(found, today, period, trend, viewer_id=viewer_id)
        return summary.card(result, self._name(team), today)

    async def export(self, turn: Turn, _args: str) -> None:
        team = turn.require_team()
        if turn.role is None:
            raise UserError("You're not a member of this team, so I can't export its commitments.")
        zone = self.core.zone_for(turn.member, team)
        async with self.core.db.read() as session:
            found = await repo.for_team(session, team.id, viewer_id=turn.member.id)
        today = turn.now.astimezone(zone).date()
        attachment = export.csv_file(found, zone, self._name(team), today, viewer_id=turn.member.id)
        turn.reply(
            OutMessage(
                title=f"Commitments in {self._name(team)}",
                blocks=(
                    Section(
                        text(
                            f"{len(found)} commitments you can see, as a spreadsheet file "
                            "(private ones only if they are yours or name you as a peer)."
                        )
                    ),
                ),
                attachment=attachment,
            ),
            private=True,
        )

    async def term(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        turn.require_lead("set when the term started")
        today = today_for(turn, team)
        if not args.strip():
            start = term_start(team)
            shown = day(start, today) if start else "not set (summaries use August or January)"
            turn.reply(
                f"This term started: {shown}. Change it with /commitments term DATE.",
                private=True,
            )
            return
        start = read_date(args, today)
        if start > today:
            raise UserError(
                "The term start should be today or earlier: the first day of this term."
            )
        if today - start > summary.TERM_LIMIT:
            raise UserError(
                f"{day(start, today)} is more than two years ago. The term start should be the "
                "first day of this term, for example /commitments term "
                f"{summary.default_term_start(today).isoformat()}."
            )
        async with self.core.db.write() as session:
            await identity.update_team_settings(
                session, team.id, {summary.TERM_SETTING: start.isoformat()}
            )
        self.core.identity.forget_team(team.id)
        turn.reply(
            f"Term start set to {day(start, today)}; /commitments summary term counts from then.",
            private=True,
        )


def term_start(team: Team) -> date | None:
    raw = team.settings.get(summary.TERM_SETTING)
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
