"""Finding a protocol and looking back: ``list``, ``info``, ``history``, ``export``."""

from __future__ import annotations

from bot.errors import UserError
from bot.indicators import label
from bot.messages import (
    Field,
    Fields,
    Link,
    ListBlock,
    ListItem,
    OutMessage,
    Section,
    text,
)
from bot.protocol.context import ProtocolContext
from bot.protocol.summary import build_summary, export_message
from bot.protocol.texts import KIND_LABELS, ROLE_LABELS, human_duration_words, shown
from bot.timefmt import day
from bot.turn import Turn
from protocols.schema import Protocol
from storage import identity
from storage import protocol_sessions as repo

INFO_EXAMPLES = 5  # names shown when /protocol info is asked about nothing


class Browse:
    def __init__(self, ctx: ProtocolContext) -> None:
        self.ctx = ctx

    async def list(self, turn: Turn, args: str) -> None:
        query = shown(args, limit=len(args))  # repeated back: nothing a person can't see
        found = self.ctx.library.search(query)
        if not found:
            raise UserError(
                f"No protocol matches {shown(query)!r}. Try an indicator such as B2, or a word "
                "such as data or feedback; /protocol list shows them all."
            )
        items = tuple(
            ListItem(
                text(
                    f"{p.id}: {p.title} ({p.minutes} min, {p.group_size} people) ",
                    " ".join(p.indicators) if len(p.indicators) < 14 else "all indicators",
                )
            )
            for p in found
        )
        heading = f"Protocols for {shown(query)}" if query else "Protocols I can facilitate"
        turn.reply(
            OutMessage(
                blocks=(ListBlock(items, heading=heading),),
                footer="/protocol info NAME tells you more; /protocol start NAME [@presenter] "
                "runs one.",
            ),
            private=True,
        )

    async def info(self, turn: Turn, args: str) -> None:
        if not args.strip():
            names = ", ".join(p.id for p in list(self.ctx.library)[:INFO_EXAMPLES])
            raise UserError(
                "Which protocol? Name one, e.g. /protocol info tuning. Some I know: "
                f"{names}; /protocol list shows them all."
            )
        turn.reply(info_message(self.ctx.find(args)), private=True)

    async def history(self, turn: Turn, _args: str) -> None:
        team = turn.require_team()
        async with self.ctx.core.db.read() as s:
            listing = await repo.history(s, team.id)
        if not listing:
            turn.reply(
                "This team hasn't run a protocol with me yet. /protocol list shows what I can "
                "facilitate.",
                private=True,
            )
            return
        zone = self.ctx.core.zone_for(turn.member, team)
        today = turn.now.astimezone(zone).date()
        items = []
        for entry in listing:
            started = entry.started_at.astimezone(zone)
            if entry.ended_at is None:
                how, marker = "running now", "running"
            else:
                minutes = round((entry.ended_at - entry.started_at).total_seconds() / 60)
                how, marker = human_duration_words(minutes * 60), None
            items.append(
                ListItem(
                    text(
                        f"#{entry.id} {entry.title}: {day(started.date(), today)} "
                        f"{started:%H:%M}, {how}, {entry.contributions} "
                        + ("contribution" if entry.contributions == 1 else "contributions")
                    ),
                    marker,
                )
            )
        turn.reply(
            OutMessage(
                blocks=(ListBlock(tuple(items), heading="Sessions"),),
                footer="/protocol export N gives a session's full record as Markdown.",
            ),
            private=True,
        )

    async def export(self, turn: Turn, args: str) -> None:
        team = turn.require_team()
        wanted = args.strip().lstrip("#")
        async with self.ctx.core.db.read() as s:
            if wanted:
                if not wanted.isdigit():
                    raise UserError("Give the session's number, e.g. /protocol export 3.")
                row = await repo.get(s, int(wanted))
            else:
                listing = await repo.history(s, team.id, limit=1)
                row = await repo.get(s, listing[0].id) if listing else None
            if row is None or row.team_id != team.id:
                raise UserError(
                    f"This team has no session #{wanted}; /protocol history lists them."
                    if wanted
                    else "This team hasn't run a protocol with me yet."
                )
            summary = row.summary
            if summary is None:  # still running: the record so far
                loaded = self.ctx.runner.load_row(row)
                summary = build_summary(
                    row.id,
                    loaded.definition,
                    loaded.state,
                    await repo.contributions(s, row.id),
                    team_name=(await identity.get_team(s, team.id) or team).name,
                    now=turn.now,
                )
        turn.reply(export_message(summary, self.ctx.core.zone_for(turn.member, team)), private=True)


def info_message(p: Protocol) -> OutMessage:
    steps = tuple(
        ListItem(
            text(f"{s.title} ({s.minutes} min, {s.who.value}): {KIND_LABELS[s.kind]}"),
            "presenter listens" if s.presenter_silent else None,
        )
        for s in p.steps
    )
    blocks: list[Section | Fields | ListBlock] = [
        Section(text(p.purpose)),
        Section(text(p.when_to_use), heading="When to use it"),
        Fields(
            (
                Field("Time", text(f"{p.minutes} min")),
                Field("Group size", text(f"{p.group_size} people")),
                Field("Roles", text(", ".join(ROLE_LABELS[r] for r in p.roles))),
            )
        ),
        ListBlock(steps, heading="Steps", ordered=True),
    ]
    if p.facilitator_notes:
        blocks.append(
            ListBlock(
                tuple(ListItem(text(n)) for n in p.facilitator_notes), heading="For the facilitator"
            )
        )
    blocks.append(
        ListBlock(tuple(ListItem(text(label(c))) for c in p.indicators), heading="Indicators")
    )
    links = (part for url in p.sources for part in (" ", Link(url)))
    blocks.append(Section(text(p.credit, *links), heading="Credit"))
    return OutMessage(
        title=p.title,
        blocks=tuple(blocks),
        footer=f"Start it with /protocol start {p.id}"
        + (" @presenter" if p.has_presenter else "")
        + " (add --async 2d to run it over days).",
    )
