"""Slack payloads as plcbot's neutral events.

Slack writes people, channels and links inside text as ``<@U123|maria>``, ``<#C1|plc>`` and
``<https://...|label>``, and escapes ``&``, ``<``, ``>``. The core wants what the person saw:
``@Maria_Garcia`` (the display name as one word, so ``@name`` arguments still split and match),
``#plc``, the link's label, plain characters; the people mentioned come along as
:class:`~bot.events.MemberRef`\\ s with names and time zones from ``users.info``.

Every delivery gets a stable ``event_id`` for the dispatcher's de-duplication: the Events API's
own ``event_id``, a slash command's ``trigger_id`` (unique per invocation), and for interactions
a digest of the whole payload, so an identical retried payload is dropped while a second click
(a new payload) is not.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.slack.directory import Channel, Directory, Person
from adapters.slack.forms import Origin, submitted_values
from adapters.slack.render import strip_action_suffix
from bot.clock import Clock
from bot.events import (
    ActionEvent,
    CommandEvent,
    ConversationKind,
    ConversationRef,
    MemberRef,
    MessageEvent,
)

PLATFORM = "slack"
HELP_COMMAND = "plcbot"  # ``/plcbot`` is plcbot's own entry: help, or any command by name
ACCEPTED_SUBTYPES = {None, "thread_broadcast", "file_share"}
MAX_MENTIONS = 25  # people looked up per message; more are shown by name only
_TOKEN = re.compile(r"<([^<>\n]+)>")
_CHANNEL_KINDS = {
    "im": ConversationKind.DIRECT,
    "mpim": ConversationKind.GROUP,
    "channel": ConversationKind.CHANNEL,
    "group": ConversationKind.CHANNEL,
}


class Malformed(ValueError):
    """The payload lacks what Slack always sends; it is logged and ignored."""


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise Malformed(f"missing {key}")
    return value


def _opt(data: Mapping[str, Any] | None, key: str) -> str | None:
    if not isinstance(data, Mapping):
        return None
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def digest(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def workspace_of(body: Mapping[str, Any]) -> str:
    """The workspace (team) id of any payload; Enterprise Grid org ids as a last resort."""
    for candidate in (
        _opt(body, "team_id"),
        _opt(body.get("team"), "id"),
        _opt(body.get("user"), "team_id"),
        _opt(body, "enterprise_id"),
        _opt(body.get("enterprise"), "id"),
    ):
        if candidate:
            return candidate
    raise Malformed("no workspace id")


def unescape(value: str) -> str:
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def mention_word(display_name: str) -> str:
    return "@" + re.sub(r"\s+", "_", display_name.strip())


@dataclass
class Translator:
    directory: Directory
    clock: Clock
    bot_user_ids: set[str]

    # -- text ------------------------------------------------------------------------------

    async def read_text(self, workspace: str, raw: str) -> tuple[str, tuple[MemberRef, ...]]:
        """Slack's formatted text as plain text plus the people it mentions, in order."""
        mentions: list[MemberRef] = []
        seen: set[str] = set()
        out: list[str] = []
        position = 0
        for match in _TOKEN.finditer(raw):
            out.append(unescape(raw[position : match.start()]))
            position = match.end()
            token = match.group(1)
            target, _, label = token.partition("|")
            if target.startswith("@") and len(target) > 1:
                user_id = target[1:]
                if user_id not in seen and len(seen) >= MAX_MENTIONS:
                    out.append("@" + unescape(label or user_id))  # no look-up storm
                    continue
                person = await self.directory.person(workspace, user_id, hint=label or None)
                out.append(mention_word(person.display_name))
                if user_id not in seen and user_id not in self.bot_user_ids:
                    seen.add(user_id)
                    mentions.append(self.member(workspace, person.user_id, person))
            elif target.startswith("#"):
                out.append("#" + unescape(label or target[1:]))
            elif target.startswith("!"):
                special = target[1:].split("^", 1)[0]
                if special in ("here", "channel", "everyone"):
                    out.append("@" + special)
                else:
                    out.append(unescape(label or special))
            else:
                out.append(unescape(label or target))
        out.append(unescape(raw[position:]))
        return "".join(out), tuple(mentions)

    # -- people and places -----------------------------------------------------------------

    def member(self, workspace: str, user_id: str, person: Person) -> MemberRef:
        return MemberRef(PLATFORM, workspace, user_id, person.display_name, person.timezone)

    async def actor(self, workspace: str, user_id: str, hint: str | None = None) -> MemberRef:
        person = await self.directory.person(workspace, user_id, hint=hint)
        return self.member(workspace, user_id, person)

    async def conversation(
        self,
        workspace: str,
        channel_id: str,
        *,
        hint: str | None = None,
        thread_ts: str | None = None,
        kind: ConversationKind | None = None,
    ) -> ConversationRef:
        if kind is None:
            channel = await self.directory.channel(workspace, channel_id, hint=hint)
        else:
            channel = Channel(channel_id, kind, hint)
        return ConversationRef(
            PLATFORM,
            workspace,
            channel_id,
            channel.kind,
            name=channel.name,
            thread_id=thread_ts,
        )

    # -- deliveries ------------------------------------------------------------------------

    def command_name(self, command: str, text: str) -> tuple[str, str]:
        """``/team show`` -> ("team", "show"); ``/plcbot team show`` -> ("team", "show")."""
        name = command.strip().lstrip("/").lower()
        if name != HELP_COMMAND:
            return name, text
        word, _, rest = text.strip().partition(" ")
        word = word.lower().lstrip("/")
        if not word or word == "help":
            return "help", rest.strip()
        return word, rest.strip()

    async def command(self, body: Mapping[str, Any]) -> CommandEvent:
        workspace = workspace_of(body)
        user_id = _str(body, "user_id")
        channel_id = _str(body, "channel_id")
        command = _str(body, "command")
        raw = body.get("text")
        text, mentions = await self.read_text(workspace, raw if isinstance(raw, str) else "")
        name, text = self.command_name(command, text)
        trigger = _opt(body, "trigger_id")
        return CommandEvent(
            event_id=f"command:{trigger}" if trigger else f"command:{digest(body)}",
            at=self.clock.now(),
            actor=await self.actor(workspace, user_id, _opt(body, "user_name")),
            conversation=await self.conversation(
                workspace, channel_id, hint=_opt(body, "channel_name")
            ),
            platform_data=_platform_data(body, trigger_id=trigger),
            name=name,
            text=text.strip(),
            mentions=mentions,
        )

    async def message(self, body: Mapping[str, Any]) -> MessageEvent | None:
        """A person's message or thread reply; None for edits, bots and other bookkeeping."""
        event = body.get("event")
        if not isinstance(event, Mapping):
            raise Malformed("no event")
        if event.get("subtype") not in ACCEPTED_SUBTYPES or event.get("bot_id"):
            return None
        user_id = _opt(event, "user")
        if user_id is None or user_id in self.bot_user_ids:
            return None
        workspace = workspace_of(body)
        channel_id = _str(event, "channel")
        ts = _str(event, "ts")
        thread_ts = _opt(event, "thread_ts")
        reply_to = thread_ts if thread_ts and thread_ts != ts else None
        kind = _CHANNEL_KINDS.get(str(event.get("channel_type")))
        conversation = await self.conversation(
            workspace,
            channel_id,
            thread_ts=reply_to,
            kind=kind if kind != ConversationKind.CHANNEL else None,
        )
        raw = event.get("text")
        text, mentions = await self.read_text(workspace, raw if isinstance(raw, str) else "")
        return MessageEvent(
            event_id=_str(body, "event_id"),
            at=self.clock.now(),
            actor=await self.actor(workspace, user_id),
            conversation=conversation,
            platform_data={"ts": ts},
            text=text,
            mentions=mentions,
            reply_to=reply_to,
        )

    async def interaction_conversation(
        self, body: Mapping[str, Any], workspace: str, user_id: str
    ) -> ConversationRef:
        container = _map(body.get("container"))
        channel_id = _opt(body.get("channel"), "id") or _opt(container, "channel_id")
        if channel_id is None:  # a button on the App Home tab: answer in the person's DM
            channel_id = await self.directory.direct_channel(workspace, user_id)
            return await self.conversation(workspace, channel_id, kind=ConversationKind.DIRECT)
        thread_ts = _opt(container, "thread_ts") or _opt(body.get("message"), "thread_ts")
        return await self.conversation(
            workspace,
            channel_id,
            hint=_opt(body.get("channel"), "name"),
            thread_ts=thread_ts,
        )

    async def action(self, body: Mapping[str, Any], action: Mapping[str, Any]) -> ActionEvent:
        workspace = workspace_of(body)
        user_id = _str(body.get("user") or {}, "id")
        container = _map(body.get("container"))
        message_ts = _opt(container, "message_ts") or _opt(body.get("message"), "ts")
        value = action.get("value")
        if value is None and isinstance(action.get("selected_option"), Mapping):
            value = action["selected_option"].get("value")
        return ActionEvent(
            event_id=f"action:{digest(body)}",
            at=self.clock.now(),
            actor=await self.actor(workspace, user_id, _opt(body.get("user"), "name")),
            conversation=await self.interaction_conversation(body, workspace, user_id),
            platform_data=_platform_data(
                body,
                trigger_id=_opt(body, "trigger_id"),
                in_view=_opt(container, "type") == "view",
                ephemeral=bool(container.get("is_ephemeral")),
            ),
            action_id=strip_action_suffix(_str(action, "action_id")),
            value=value if isinstance(value, str) else "",
            message_id=message_ts,
        )

    async def submission(self, body: Mapping[str, Any]) -> ActionEvent:
        workspace = workspace_of(body)
        user_id = _str(body.get("user") or {}, "id")
        view = body.get("view")
        if not isinstance(view, Mapping):
            raise Malformed("no view")
        try:
            origin = Origin.decode(_str(view, "private_metadata"))
        except ValueError as exc:
            raise Malformed("the modal's metadata is not plcbot's") from exc
        if origin.channel_id:
            kind = ConversationKind(origin.kind) if origin.kind else None
            conversation = await self.conversation(
                workspace, origin.channel_id, thread_ts=origin.thread_ts, kind=kind
            )
        else:
            channel_id = await self.directory.direct_channel(workspace, user_id)
            conversation = await self.conversation(
                workspace, channel_id, kind=ConversationKind.DIRECT
            )
        state = _map(view.get("state"))
        data = _platform_data(body, trigger_id=_opt(body, "trigger_id"))
        if origin.response_url:
            data["response_url"] = origin.response_url
        return ActionEvent(
            event_id=f"view:{digest(body)}",
            at=self.clock.now(),
            actor=await self.actor(workspace, user_id, _opt(body.get("user"), "name")),
            conversation=conversation,
            platform_data=data,
            action_id=origin.action_id,
            value=origin.value,
            form=submitted_values(state),
            message_id=origin.message_ts,
        )


def _platform_data(
    body: Mapping[str, Any],
    *,
    trigger_id: str | None,
    in_view: bool = False,
    ephemeral: bool = False,
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if trigger_id:
        data["trigger_id"] = trigger_id
    response_url = _opt(body, "response_url")
    if response_url:
        data["response_url"] = response_url
    if in_view:
        data["in_view"] = True
    if ephemeral:
        data["ephemeral"] = True
    return data
