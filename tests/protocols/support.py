"""Helpers for session tests: a team of three in the console, buttons by label, and fakes of
the neighbouring commitments feature through its published ports (not mocks of our code)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.app import PlcBot
from bot.messages import Block, Fields, ListBlock, OutMessage, Section, plain
from bot.ports import AgendaItem, ProposedCommitment
from bot.protocol import ProtocolsFeature
from bot.protocol.runner import Loaded
from tests.support.harness import Console


@dataclass
class RecordingAgenda:
    """A ``TeamAgenda`` that serves fixed items and remembers who asked."""

    items: list[AgendaItem] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)

    async def open_items(self, team_id: int) -> Sequence[AgendaItem]:
        self.asked.append(team_id)
        return list(self.items)


@dataclass
class RecordingDrafts:
    """A ``CommitmentDrafts`` that keeps what it was asked to propose."""

    proposed: list[ProposedCommitment] = field(default_factory=list)

    async def propose(self, proposals: Sequence[ProposedCommitment]) -> None:
        self.proposed.extend(proposals)


def feature(bot: PlcBot) -> ProtocolsFeature:
    found = bot.feature(ProtocolsFeature)
    assert isinstance(found, ProtocolsFeature)
    return found


async def team_of_three(console: Console) -> None:
    """Ana (the lead), Ben and Cam each say hello in #plc; Ana speaks next."""
    await console.say("/as ana", "/team", "/as ben", "Morning!", "/as cam", "Hi!", "/as ana")


def button(lines: Sequence[str], label: str) -> str:
    """The console id of the most recent button with this label, e.g. ``b12``."""
    found = re.findall(rf"\[(b\d+) {re.escape(label)}\]", "\n".join(lines))
    assert found, f"no [{label}] button in the output"
    return found[-1]


def form_id(lines: Sequence[str]) -> str:
    found = re.findall(r"\[(f\d+)\] ", "\n".join(lines))
    assert found, "no form in the output"
    return found[-1]


async def active(bot: PlcBot) -> Loaded:
    loaded = await feature(bot).runner.active(1)
    assert loaded is not None
    return loaded


def agenda_item(owner: str, what: str) -> AgendaItem:
    return AgendaItem(owner=owner, text=what, due=date(2026, 11, 27), status="open", ref="#4")


def slack_sized(message: OutMessage, *, max_blocks: int = 45) -> list[str]:
    """What would break Slack's limits (blocks, 3000 characters a section); empty if fine.

    Counted conservatively: a list or a set of fields becomes one section, its heading another.
    """
    problems = []
    blocks = 1 if message.title else 0
    for block in message.blocks:
        blocks += _count(block)
        size = _chars(block)
        if size >= 3000:
            problems.append(f"{type(block).__name__} has {size} characters")
    blocks += 1 if message.buttons else 0
    blocks += 1 if message.footer else 0
    if blocks > max_blocks:
        problems.append(f"{blocks} blocks")
    return problems


def _count(block: Block) -> int:
    heading = getattr(block, "heading", None)
    return 2 if heading else 1


def _chars(block: Block) -> int:
    if isinstance(block, Section):
        return len(plain(block.body))
    if isinstance(block, ListBlock):
        return sum(len(plain(i.body)) + len(i.marker or "") + 6 for i in block.items)
    if isinstance(block, Fields):
        return sum(len(f.label) + len(plain(f.value)) + 4 for f in block.fields)
    return 0
