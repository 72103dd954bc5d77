"""What a session leaves behind: its summary (stored, posted, exported as Markdown).

The summary is built once, when the session ends, from the definition, the final state and
the recorded contributions, and stored as JSON so history and exports don't depend on the
protocol file staying the same. Anonymous contributions have no author at all (none is
stored), and the presenter's notes from listening steps are kept apart from the discussion.
The chat message is trimmed to stay within a message's limits; the export has everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.messages import (
    Attachment,
    Block,
    Field,
    Fields,
    ListBlock,
    ListItem,
    OutMessage,
    Section,
    text,
)
from bot.protocol.texts import ROLE_LABELS, human_duration_words
from bot.timefmt import span
from protocols.schema import Protocol, StepKind
from protocols.state import State
from storage.protocol_sessions import Contribution

ITEM_CHARS = 280  # a contribution in the chat summary; the export has it in full
LIST_CHARS = 2400  # one step's list in the chat summary (a Slack section holds 3000)
ITEMS_PER_STEP = 8


def build_summary(
    session_id: int,
    definition: Protocol,
    state: State,
    contributions: Sequence[Contribution],
    *,
    team_name: str | None,
    now: datetime,
) -> dict[str, Any]:
    ended = state.ended_at or now
    roles = [
        {"role": role.value, "name": state.name_of(getattr(state, role.value))}
        for role in definition.roles
        if getattr(state, role.value) is not None
    ]
    steps: list[dict[str, Any]] = []
    next_steps: list[dict[str, Any]] = []
    for index, step in enumerate(definition.steps):
        mine = [c for c in contributions if c.step == index]
        steps.append(
            {
                "title": step.title,
                "kind": step.kind.value,
                "collect": step.collect,
                "reached": index <= state.step,
                "contributions": [_entry(c) for c in mine if not _presenters(c)],
                "notes": [_entry(c) for c in mine if _presenters(c)],
            }
        )
        if step.kind == StepKind.NEXT_STEPS:
            next_steps.extend(
                {"member_id": c.member_id, "author": c.author, "text": c.text}
                for c in mine
                if c.member_id is not None and not c.anonymous and not c.is_note
            )
    return {
        "session": session_id,
        "team": team_name,
        "protocol": {
            "id": definition.id,
            "version": definition.version,
            "title": definition.title,
            "credit": definition.credit,
            "sources": list(definition.sources),
            "indicators": list(definition.indicators),
        },
        "mode": state.mode.value,
        "outcome": state.outcome or "ended_early",
        "started_at": state.started_at.isoformat(),
        "ended_at": ended.isoformat(),
        "minutes": max(0, round((ended - state.started_at).total_seconds() / 60)),
        "roles": roles,
        "steps": steps,
        "next_steps": next_steps,
        "contributions": sum(1 for c in contributions if not _presenters(c)),
    }


def _presenters(c: Contribution) -> bool:
    """A presenter's note, shown as theirs. Never an anonymous one, which earlier versions could
    store as a note: labelling it the presenter's would say who wrote it."""
    return c.is_note and not c.anonymous


def _entry(c: Contribution) -> dict[str, Any]:
    return {"author": None if c.anonymous else c.author, "text": c.text}


def _who(entry: Mapping[str, Any]) -> str:
    return entry["author"] or "Anonymous"


def _outcome(summary: Mapping[str, Any]) -> str:
    return "completed" if summary["outcome"] == "completed" else "ended early"


def _clip(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _roles_line(summary: Mapping[str, Any]) -> str:
    parts = [f"{_role_label(r['role'])}: {r['name']}" for r in summary["roles"]]
    return "; ".join(parts) or "none recorded"


def _role_label(role: str) -> str:
    for key, label in ROLE_LABELS.items():
        if key.value == role:
            return label.capitalize()
    return role


def _when(summary: Mapping[str, Any], zone: ZoneInfo) -> str:
    start = datetime.fromisoformat(summary["started_at"])
    return span(start, datetime.fromisoformat(summary["ended_at"]), zone)


def summary_message(summary: Mapping[str, Any], zone: ZoneInfo) -> OutMessage:
    title = summary["protocol"]["title"]
    minutes = int(summary["minutes"])
    blocks: list[Block] = [
        Fields(
            (
                Field("When", text(_when(summary, zone))),
                Field("Duration", text(human_duration_words(minutes * 60))),
                Field("Outcome", text(_outcome(summary))),
                Field("Roles", text(_roles_line(summary))),
            )
        )
    ]
    for number, step in enumerate(summary["steps"], 1):
        if not step["collect"] or not step["reached"] or step["kind"] == "next_steps":
            continue  # next steps get their own list below
        blocks.append(_step_list(number, step))
    if summary["next_steps"]:
        blocks.append(_capped("Next steps", [(n, None) for n in summary["next_steps"]]))
    return OutMessage(
        title=f"Summary: {title} (session #{summary['session']})",
        blocks=tuple(blocks),
        footer=(
            f"The full record: /protocol export {summary['session']}. "
            f"{summary['protocol']['credit']}"
        ),
    )


def _split(step: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """A step's discussion and the presenter's notes. A note without an author is anonymous (a
    summary stored by an earlier version): it joins the discussion, unlabelled."""
    notes = [e for e in step["notes"] if e["author"]]
    return [*step["contributions"], *(e for e in step["notes"] if not e["author"])], notes


def _step_list(number: int, step: Mapping[str, Any]) -> ListBlock:
    discussion, notes = _split(step)
    entries = [(e, None) for e in discussion] + [(e, "presenter's note") for e in notes]
    return _capped(f"{number}. {step['title']}", entries)


def _capped(heading: str, entries: Sequence[tuple[Mapping[str, Any], str | None]]) -> ListBlock:
    """A list short enough for one chat section; the rest is counted and left to the export."""
    items: list[ListItem] = []
    used = 0
    for entry, marker in entries:
        line = f"{_who(entry)}: {_clip(entry['text'], ITEM_CHARS)}"
        if len(items) >= ITEMS_PER_STEP or used + len(line) > LIST_CHARS:
            break
        items.append(ListItem(text(line), marker))
        used += len(line)
    if len(items) < len(entries):
        items.append(ListItem(text(f"and {len(entries) - len(items)} more in the export")))
    return ListBlock(tuple(items), heading=heading, empty_text="(nothing recorded)")


def summary_markdown(summary: Mapping[str, Any], zone: ZoneInfo) -> str:
    protocol = summary["protocol"]
    lines = [
        f"# {protocol['title']}: session #{summary['session']}",
        "",
        f"- Team: {summary.get('team') or 'unnamed'}",
        f"- When: {_when(summary, zone)} ({zone.key})",
        f"- Duration: {human_duration_words(int(summary['minutes']) * 60)}",
        f"- Mode: {summary['mode']}",
        f"- Outcome: {_outcome(summary)}",
        f"- Roles: {_roles_line(summary)}",
        f"- Indicators: {', '.join(protocol['indicators'])}",
        "",
    ]
    for number, step in enumerate(summary["steps"], 1):
        lines.append(f"## {number}. {step['title']}")
        lines.append("")
        if not step["reached"]:
            lines += ["(not reached)", ""]
            continue
        discussion, notes = _split(step)
        if not discussion and not notes:
            lines += ["(nothing recorded)", ""]
            continue
        lines += [f"- **{_who(e)}:** {_indent(e['text'])}" for e in discussion]
        if notes:
            lines += ["", "Presenter's notes:", ""]
            lines += [f"- {_indent(e['text'])}" for e in notes]
        lines.append("")
    lines.append("## Next steps")
    lines.append("")
    if summary["next_steps"]:
        lines += [f"- **{n['author']}:** {_indent(n['text'])}" for n in summary["next_steps"]]
    else:
        lines.append("(none recorded)")
    lines += ["", "---", "", f"Protocol: {protocol['credit']}"]
    lines += [f"- {url}" for url in protocol["sources"]]
    return "\n".join(lines) + "\n"


def _indent(value: str) -> str:
    return value.replace("\n", "\n  ")


def export_attachment(summary: Mapping[str, Any], zone: ZoneInfo) -> Attachment:
    name = f"plcbot-session-{summary['session']}-{summary['protocol']['id']}.md"
    return Attachment(
        filename=name,
        content=summary_markdown(summary, zone).encode("utf-8"),
        mime="text/markdown",
    )


def export_message(summary: Mapping[str, Any], zone: ZoneInfo) -> OutMessage:
    return OutMessage(
        blocks=(
            Section(
                text(
                    f"The record of {summary['protocol']['title']} (session "
                    f"#{summary['session']}), as Markdown."
                )
            ),
        ),
        attachment=export_attachment(summary, zone),
    )
