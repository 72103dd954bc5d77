"""Notes waiting for their channel's pace travel together (adapters/slack/joining.py)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.slack.joining import MAX_JOINED, ChannelNotes
from adapters.slack.pacing import ChannelPacer
from bot.events import ConversationKind, ConversationRef
from bot.messages import Button, Divider, OutMessage, Section, say, text

MEETING = ConversationRef("slack", "T0PLC", "C0MEET", ConversationKind.CHANNEL)
OTHER = ConversationRef("slack", "T0PLC", "C0OTHER", ConversationKind.CHANNEL)


class Slot:
    """A fake clock for the pacer, and a sleep that waits until the test opens the slot."""

    def __init__(self) -> None:
        self.now = 0.0
        self.open = asyncio.Event()
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.open.wait()
        self.now += seconds


@pytest.fixture
def slot() -> Slot:
    return Slot()


@pytest.fixture
def notes(slot: Slot) -> ChannelNotes:
    return ChannelNotes(ChannelPacer(rate=1.0, burst=1, monotonic=slot.monotonic), slot.sleep)


def note(n: int) -> OutMessage:
    return say(f"Note {n}")


async def test_notes_waiting_for_the_pace_go_out_as_one_message(
    notes: ChannelNotes, slot: Slot
) -> None:
    posted: list[tuple[str, OutMessage]] = []

    async def post(conversation: ConversationRef, message: OutMessage) -> None:
        notes.pacer.delay_for(conversation.conversation_id)  # as the Web API call does
        posted.append((conversation.conversation_id, message))

    await notes.send(MEETING, note(1), post)  # the channel is free: at once
    waiting = asyncio.create_task(notes.send(MEETING, note(2), post))
    await asyncio.sleep(0)
    assert slot.waits == [1.0] and len(posted) == 1
    await notes.send(MEETING, note(3), post)  # hands itself over and returns
    await notes.send(MEETING, note(4), post)
    await notes.send(OTHER, note(5), post)  # another channel is not held up
    assert [c for c, _ in posted] == ["C0MEET", "C0OTHER"]

    slot.open.set()
    await waiting
    channel, message = posted[-1]
    assert channel == "C0MEET"
    assert message.blocks == (
        Section(text("Note 2")),
        Divider(),
        Section(text("Note 3")),
        Divider(),
        Section(text("Note 4")),
    )
    assert len(posted) == 3


async def test_cards_and_full_batches_are_not_joined(notes: ChannelNotes, slot: Slot) -> None:
    posted: list[OutMessage] = []

    async def post(conversation: ConversationRef, message: OutMessage) -> None:
        notes.pacer.delay_for(conversation.conversation_id)
        posted.append(message)

    await notes.send(MEETING, note(0), post)
    waiting = asyncio.create_task(notes.send(MEETING, note(1), post))
    await asyncio.sleep(0)
    card = OutMessage(blocks=(Section(text("Vote")),), buttons=(Button("Yes", "vote", "1"),))
    titled = say("Summary", title="Tuning protocol")
    await notes.send(MEETING, card, post)  # has buttons: posted on its own
    await notes.send(MEETING, titled, post)  # has a title: posted on its own
    more = [
        asyncio.create_task(notes.send(MEETING, note(n), post)) for n in range(2, MAX_JOINED + 3)
    ]
    await asyncio.sleep(0)
    slot.open.set()
    await asyncio.gather(waiting, *more)
    assert posted[1:3] == [card, titled]
    first_batch = posted[3]
    assert sum(isinstance(b, Section) for b in first_batch.blocks) == MAX_JOINED
    later = [m for m in posted[4:] if m.blocks]
    shown = sum(sum(isinstance(b, Section) for b in m.blocks) for m in later)
    assert shown == 2  # the last two started the next message: nothing lost


async def test_a_joined_message_that_fails_is_raised_to_the_note_that_waited(
    notes: ChannelNotes, slot: Slot, caplog: pytest.LogCaptureFixture
) -> None:
    async def post(conversation: ConversationRef, message: OutMessage) -> None:
        notes.pacer.delay_for(conversation.conversation_id)
        if len(message.blocks) > 1:
            raise RuntimeError("Slack is down")

    await notes.send(MEETING, note(0), post)
    waiting = asyncio.create_task(notes.send(MEETING, note(1), post))
    await asyncio.sleep(0)
    await notes.send(MEETING, note(2), post)
    slot.open.set()
    with pytest.raises(RuntimeError, match="Slack is down"):
        await waiting
    assert "joining 2 channel notes was not delivered" in caplog.text
