"""Teams activities (the JSON the Bot Connector posts) as plcbot's inbound events.

Works on the raw JSON rather than the SDK's models: it is exactly what Teams sent, and a
missing or odd field becomes a clear :class:`BadActivity` (a 400) instead of an exception deep
in a handler.

Teams facts this relies on:

- A channel post that mentions the bot, and every reply in its thread, arrive with the
  conversation id ``19:...@thread.tacv2;messageid=ROOT``. The team is the channel (the id
  without the suffix); ROOT is the thread's first post, so a reply to plcbot's session card
  carries the card's id as ``reply_to``.
- Channel text mentions people as ``<at>Name</at>`` with a ``mention`` entity per person; the
  bot's own mention is removed before a command is read, others become ``@Name`` plus a
  resolved :class:`~bot.events.MemberRef`.
- ``Action.Submit`` arrives as a message with ``value`` and no text; ``Action.Execute`` as an
  ``adaptiveCard/action`` invoke whose ``value.action`` holds the verb and data.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yarl import URL

from adapters.teams.cards import DATA_ACTION, DATA_INPUTS, DATA_VALUE
from bot.events import (
    ActionEvent,
    CommandEvent,
    ConversationKind,
    ConversationRef,
    InboundEvent,
    MemberRef,
    MessageEvent,
)

PLATFORM = "teams"
THREAD_MARK = ";messageid="
DEFAULT_TENANT = "default"  # the Bot Framework Emulator and local tests send no tenant
MAX_EVENT_ID = 200  # processed_events.event_id holds 255 characters
MAX_ID = 255  # user and conversation ids are stored in 255-character columns
MAX_TENANT = 128  # workspaces.external_id
MAX_NAME = 200  # display names, team and conversation names
MAX_URL = 2_000
ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")  # how JSON can spell a lone surrogate
HANDLED = frozenset({"message", "invoke", "conversationUpdate", "installationUpdate"})

CommandParser = Callable[[str], "tuple[str, str] | None"]
_BREAKS = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]{0,200}>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class BadActivity(ValueError):
    """The activity lacks what plcbot needs; the message says what, for a 400 answer."""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _name(value: Any) -> str:
    """A display, team or chat name as plcbot stores and shows it: one line, no control
    characters, at most :data:`MAX_NAME` characters (the columns' size)."""
    return " ".join(_UNSTORABLE.sub("", _str(value)).split())[:MAX_NAME].strip()


def _usable_id(value: str, limit: int) -> bool:
    """Ids are stored in columns of ``limit`` characters; a control character in one (a NUL
    in particular, which PostgreSQL refuses) can only come from a forged or broken request."""
    return len(value) <= limit and not _CONTROL_CHARS.search(value)


def _usable_url(value: str) -> bool:
    try:
        url = URL(value)
    except (ValueError, TypeError):
        return False
    return url.scheme in ("https", "http") and bool(url.host) and _usable_id(value, MAX_URL)


def check(raw: Mapping[str, Any], body: bytes | None = None) -> None:
    """Refuse activities missing what every turn needs (before the SDK sees them).

    ``body``, the bytes ``raw`` was parsed from, spares re-encoding the whole activity to look
    for text that is not valid Unicode when the bytes show it cannot hold any.

    Every activity the Bot Connector sends names the ``serviceUrl`` that answers go to, and
    the SDK builds a connector client from it before any handler runs, whatever the type; an
    activity without a usable one is not from Teams, so it is a 400, never a failed turn.
    """
    kind = _str(raw.get("type"))
    if not kind:
        raise BadActivity("the activity has no type")
    conversation_id = _str(_dict(raw.get("conversation")).get("id"))
    if not conversation_id:
        raise BadActivity("the activity has no conversation.id")
    if not _usable_url(_str(raw.get("serviceUrl"))):
        what = "is not an http(s) URL" if raw.get("serviceUrl") else "is missing"
        raise BadActivity(f"the {kind} activity's serviceUrl {what}")
    if not _usable_id(split_thread(conversation_id)[0], MAX_ID):
        raise BadActivity("conversation.id is too long or holds control characters")
    if not _usable_id(tenant_of(raw), MAX_TENANT):
        raise BadActivity("the tenant id is too long or holds control characters")
    if kind not in HANDLED:
        return
    required = [("from.id", _dict(raw.get("from")).get("id"))]
    required.append(("recipient.id", _dict(raw.get("recipient")).get("id")))
    if kind in ("message", "invoke"):
        required.insert(0, ("id", raw.get("id")))
    missing = [name for name, value in required if not _str(value)]
    if missing:
        raise BadActivity(f"the {kind} activity has no {', '.join(missing)}")
    for name, value in required:
        if not _usable_id(_str(value), MAX_ID):
            raise BadActivity(f"{name} is too long or holds control characters")
    if body is not None and not ESCAPED_SURROGATE.search(body):
        return  # UTF-8 cannot carry a lone surrogate; only a JSON escape can
    try:
        json.dumps(raw, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise BadActivity("the activity holds text that is not valid Unicode") from None


def split_thread(conversation_id: str) -> tuple[str, str | None]:
    """``19:x@thread.tacv2;messageid=42`` -> ``("19:x@thread.tacv2", "42")``."""
    base, mark, root = conversation_id.partition(THREAD_MARK)
    return (base, root or None) if mark else (conversation_id, None)


def tenant_of(raw: Mapping[str, Any]) -> str:
    return (
        _str(_dict(raw.get("conversation")).get("tenantId"))
        or _str(_dict(_dict(raw.get("channelData")).get("tenant")).get("id"))
        or DEFAULT_TENANT
    )


def _kind(conversation: Mapping[str, Any]) -> ConversationKind:
    kind = _str(conversation.get("conversationType")).lower()
    if kind == "channel":
        return ConversationKind.CHANNEL
    if kind == "personal":
        return ConversationKind.DIRECT
    if kind == "groupchat" or conversation.get("isGroup") is True:
        return ConversationKind.GROUP
    return ConversationKind.DIRECT


def conversation_of(raw: Mapping[str, Any]) -> ConversationRef:
    """Where the activity happened, with everything a later proactive send needs.

    ``platform_data`` holds only values that stay the same from one activity to the next, so
    the core's reference cache isn't rewritten on every message.
    """
    conversation = _dict(raw.get("conversation"))
    channel_data = _dict(raw.get("channelData"))
    team = _dict(channel_data.get("team"))
    recipient = _dict(raw.get("recipient"))
    kind = _kind(conversation)
    base, root = split_thread(_str(conversation.get("id")))
    if kind != ConversationKind.CHANNEL:
        base, root = _str(conversation.get("id")), None
    name = (
        _name(team.get("name"))
        or _name(conversation.get("name"))
        or _name(_dict(channel_data.get("channel")).get("name"))
        or None
    )
    if kind == ConversationKind.DIRECT:
        name = _name(_dict(raw.get("from")).get("name")) or name
    data: dict[str, Any] = {
        "service_url": _str(raw.get("serviceUrl")),
        "tenant_id": tenant_of(raw),
        "bot_id": _str(recipient.get("id")),
        "bot_name": _str(recipient.get("name")),
        "conversation_type": _str(conversation.get("conversationType")) or kind.value,
    }
    if team.get("id"):
        data["team_id"] = _str(team.get("id"))
    return ConversationRef(PLATFORM, tenant_of(raw), base, kind, name, root, data)


def _timezone(raw: Mapping[str, Any]) -> str | None:
    candidates = [
        _str(_dict(entity).get("timezone"))
        for entity in raw.get("entities") or ()
        if _str(_dict(entity).get("type")) == "clientInfo"
    ]
    candidates.append(_str(raw.get("localTimezone")))
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
        return name
    return None


def actor_of(raw: Mapping[str, Any]) -> MemberRef:
    sender = _dict(raw.get("from"))
    user_id = _str(sender.get("id"))
    return MemberRef(
        PLATFORM, tenant_of(raw), user_id, _name(sender.get("name")) or user_id, _timezone(raw)
    )


def event_id(raw: Mapping[str, Any]) -> str:
    """The activity id, scoped by conversation: Teams ids are only unique within a chat."""
    base, _ = split_thread(_str(_dict(raw.get("conversation")).get("id")))
    scoped = f"{base}/{_str(raw.get('id'))}"
    if len(scoped) <= MAX_EVENT_ID:
        return scoped
    return "sha256:" + hashlib.sha256(scoped.encode()).hexdigest()


def compact_name(name: str) -> str:
    """``Maria Lopez`` -> ``MariaLopez``: one word, so ``@MariaLopez`` parses as one argument."""
    return re.sub(r"\s+", "", name) or "someone"


def text_and_mentions(raw: Mapping[str, Any]) -> tuple[str, tuple[MemberRef, ...], bool]:
    """The message as plain text, the people it mentions, and whether it mentions the bot."""
    text = _str(raw.get("text"))
    bot_id = _str(_dict(raw.get("recipient")).get("id"))
    tenant = tenant_of(raw)
    mentions: list[MemberRef] = []
    bot_mentioned = False
    for entity in raw.get("entities") or ():
        entity = _dict(entity)
        if _str(entity.get("type")) != "mention":
            continue
        mentioned = _dict(entity.get("mentioned"))
        user_id = _str(mentioned.get("id"))
        marked = _str(entity.get("text")) or f"<at>{_str(mentioned.get('name'))}</at>"
        name = _name(mentioned.get("name"))
        if not user_id or not _usable_id(user_id, MAX_ID):
            continue
        if user_id == bot_id:
            bot_mentioned = True
            text = text.replace(marked, " ", 1)
            continue
        text = text.replace(marked, "@" + compact_name(name or user_id), 1)
        if all(m.user_id != user_id for m in mentions):
            mentions.append(MemberRef(PLATFORM, tenant, user_id, name or user_id))
    text = _BREAKS.sub("\n", text)
    text = _UNSTORABLE.sub("", html.unescape(_TAGS.sub("", text)))
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    return "\n".join(lines).strip(), tuple(mentions), bot_mentioned


def _form_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def action_of(
    data: Mapping[str, Any], raw: Mapping[str, Any], now: datetime, verb: str = ""
) -> ActionEvent:
    """A pressed button or submitted form, from the data plcbot put on the card."""
    action_id = verb or _str(data.get(DATA_ACTION))
    if not action_id:
        raise BadActivity("the card action carries no plcbot action id")
    inputs = [name for name in _str(data.get(DATA_INPUTS)).split(",") if name]
    form = {name: _form_value(data.get(name)) for name in inputs}
    return ActionEvent(
        event_id=event_id(raw),
        at=now,
        actor=actor_of(raw),
        conversation=conversation_of(raw),
        action_id=action_id,
        value=_form_value(data.get(DATA_VALUE)),
        form=form,
        message_id=_str(raw.get("replyToId")) or None,
        platform_data={"activity_id": _str(raw.get("id"))},
    )


def message_event(
    raw: Mapping[str, Any], now: datetime, parse: CommandParser
) -> InboundEvent | None:
    """A message activity as a command, a plain message, or an ``Action.Submit``.

    In a channel or group chat only a message that mentions the bot can be a command: with
    the "read all messages" permission, "team meeting at 3" must stay a sentence. That
    permission also brings every other post, which is none of plcbot's business unless it
    mentions the bot; replies in channel threads still come through (a reply to a session
    card is a contribution).
    """
    value = raw.get("value")
    text, mentions, bot_mentioned = text_and_mentions(raw)
    if isinstance(value, Mapping) and not text:
        return action_of(value, raw, now)
    conversation = conversation_of(raw)
    if not text:
        return None  # a sticker, an image or an empty mention: nothing to act on
    common: dict[str, Any] = {
        "event_id": event_id(raw),
        "at": now,
        "actor": actor_of(raw),
        "conversation": conversation,
        "platform_data": {"activity_id": _str(raw.get("id"))},
    }
    may_command = bot_mentioned or conversation.kind == ConversationKind.DIRECT
    parsed = parse(text) if may_command else None
    if parsed is not None:
        name, rest = parsed
        return CommandEvent(name=name, text=rest, mentions=mentions, **common)
    root = conversation.thread_id
    reply_to = root if root and root != _str(raw.get("id")) else None
    if conversation.kind != ConversationKind.DIRECT and not bot_mentioned and reply_to is None:
        return None  # chatter the bot may see (with consent) but was not asked about
    return MessageEvent(text=text, mentions=mentions, reply_to=reply_to, **common)


def execute_event(raw: Mapping[str, Any], now: datetime) -> ActionEvent:
    """An ``Action.Execute`` press (the ``adaptiveCard/action`` invoke)."""
    action = _dict(_dict(raw.get("value")).get("action"))
    if _str(action.get("type")) not in ("", "Action.Execute"):
        raise BadActivity(f"unexpected card action type {action.get('type')!r}")
    return action_of(_dict(action.get("data")), raw, now, verb=_str(action.get("verb")))
