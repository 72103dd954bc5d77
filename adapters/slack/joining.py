"""Channel notes that wait for their channel's pace travel together.

Slack takes about one message a second per channel. When ten people commit at the end of a
meeting, ten team notes a second apart would take ten seconds and fill the channel; under a
flood they would queue without end, and the queue would slow every acknowledgement (see
:mod:`adapters.slack.intake`). So while one plain note waits for its channel's next slot, the
notes that follow it to the same channel (and thread) join it, and they go out as one message,
each note after a divider, when the slot comes.

Only plain notes join: text blocks, no title, footer, buttons, form, picture or file (buttons
would need new ids, and a card is updated in place later). A note joins by handing itself
over: its sender carries on at once, and the note that waits posts them all, the way it posts
itself (a command's note can fall back to its ``response_url``), so notes that wait hold no
worker. A joined message that cannot be delivered is logged with how many notes it carried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from adapters.slack.pacing import ChannelPacer
from bot.events import ConversationRef
from bot.messages import Countdown, Divider, Image, OutMessage

log = logging.getLogger(__name__)

Post = Callable[[ConversationRef, OutMessage], Awaitable[object]]

MAX_JOINED = 20  # notes in one message: past this, the next note starts a new one


def joinable(message: OutMessage) -> bool:
    return (
        message.title is None
        and message.footer is None
        and not message.buttons
        and message.form is None
        and message.attachment is None
        and bool(message.blocks)
        and not any(isinstance(b, Image | Countdown) for b in message.blocks)
    )


def joined(messages: Sequence[OutMessage]) -> OutMessage:
    blocks = list(messages[0].blocks)
    for message in messages[1:]:
        blocks += [Divider(), *message.blocks]
    return OutMessage(blocks=tuple(blocks))


class ChannelNotes:
    def __init__(self, pacer: ChannelPacer, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.pacer = pacer
        self._sleep = sleep
        # per channel and thread: the notes the waiting one will post
        self._waiting: dict[tuple[str, str, str, str | None], list[OutMessage]] = {}

    async def send(self, conversation: ConversationRef, message: OutMessage, post: Post) -> None:
        """``post`` ``message``, or hand it to the note already waiting for this channel."""
        key = (*conversation.key, conversation.thread_id)
        if not joinable(message):
            await post(conversation, message)
            return
        waiting = self._waiting.get(key)
        if waiting is not None and len(waiting) < MAX_JOINED:
            waiting.append(message)
            return
        delay = self.pacer.free_in(conversation.conversation_id)
        if delay <= 0:
            await post(conversation, message)
            return
        waiting = self._waiting[key] = [message]
        try:
            await self._sleep(delay)
        finally:
            if self._waiting.get(key) is waiting:
                del self._waiting[key]
        try:
            await post(conversation, joined(waiting))
        except Exception:
            if len(waiting) > 1:
                log.warning("a message joining %d channel notes was not delivered", len(waiting))
            raise
