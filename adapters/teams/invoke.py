"""The synchronous answer to an ``Action.Execute`` press (an ``adaptiveCard/action`` invoke).

Teams waits for this answer and shows it only to the person who pressed:

- In a 1:1 chat, the first reply replaces the pressed card (a submitted reflection form
  becomes "Thanks, saved"), unless the handler already redrew that card or refused the
  submission: a refused form stays on screen, with what to fix shown as a message, so
  nothing typed is lost.
- Elsewhere the card is left alone (handlers redraw shared cards for everyone with
  ``update``); short private replies are shown as the answer's message and anything richer
  goes to the member's 1:1 chat. Replies for everyone are posted in the conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.teams.cards import CARD_CONTENT_TYPE, Json
from bot.dispatch import TurnResult
from bot.events import ActionEvent, ConversationKind
from bot.messages import OutMessage, Section, plain
from bot.turn import Reply

MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
MESSAGE_CHARS = 500
SIMPLE_CHARS = 400


@dataclass
class InvokeAnswer:
    body: Json
    deliver: list[Reply] = field(default_factory=list)


def message_body(text: str) -> Json:
    return {"statusCode": 200, "type": MESSAGE_TYPE, "value": text[:MESSAGE_CHARS]}


def card_body(card: Json) -> Json:
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}


def error_body(status: int, text: str) -> Json:
    """For invokes plcbot can't act on (unknown names, malformed data)."""
    return {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {
            "code": "BadRequest" if status < 500 else "InternalError",
            "message": text[:MESSAGE_CHARS],
        },
    }


def is_simple(message: OutMessage) -> bool:
    """Plain text that reads well as a one-line answer."""
    return (
        not message.title
        and not message.buttons
        and message.form is None
        and message.attachment is None
        and all(isinstance(block, Section) and not block.heading for block in message.blocks)
        and len(plain_text(message)) <= SIMPLE_CHARS
    )


def plain_text(message: OutMessage) -> str:
    return " ".join(plain(b.body) for b in message.blocks if isinstance(b, Section)).strip()


def answer(
    event: ActionEvent,
    result: TurnResult,
    updated: Mapping[str, Any],
    render: Callable[[OutMessage], Json],
) -> InvokeAnswer:
    if result.duplicate:
        return InvokeAnswer(message_body("That was already done."))
    replies = list(result.replies)
    direct = event.conversation.kind == ConversationKind.DIRECT
    troubled = result.refused or result.failed
    redrawn = event.message_id is not None and event.message_id in updated
    if direct and replies and not troubled and not redrawn:
        return InvokeAnswer(card_body(render(replies[0].message)), replies[1:])
    if direct and redrawn and not replies:
        assert event.message_id is not None
        return InvokeAnswer(card_body(updated[event.message_id]))
    shown = [r for r in replies if (r.private or direct) and is_simple(r.message)]
    rest = [r for r in replies if not any(r is s for s in shown)]
    said = " ".join(plain_text(r.message) for r in shown)
    if not said:
        said = "Done." if redrawn or rest else "Got it."
    return InvokeAnswer(message_body(said), rest)
