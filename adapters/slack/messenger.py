"""Sending plcbot's messages to Slack.

- ``post``: ``chat.postMessage`` (one message per 50 blocks), then pictures and files into the
  same conversation. Never ``link_names`` and never ``parse=full``: user text stays inert.
- ``update``: ``chat.update`` of a card in place (``message_id`` is the message's ``ts``).
- ``post_private``: ``chat.postEphemeral``; a reply to a command or a click goes through the
  request's ``response_url`` instead, which works even where plcbot is not a channel member.
- ``post_direct``: the bot's DM, posted to the person's id where the DM is not known yet.
- ``open_form``: ``views.open`` with the request's ``trigger_id``.
- ``roster``: ``conversations.members`` and ``users.info``, without bots and deactivated people.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.answer import ANSWER
from adapters.slack.directory import Directory
from adapters.slack.forms import FormTooLarge, Origin, modal_for
from adapters.slack.joining import ChannelNotes
from adapters.slack.render import BlockJson, Rendered, Upload, render_message
from adapters.slack.translate import PLATFORM
from adapters.slack.webapi import INTERACTIVE, SlackApi, SlackRefused, header
from bot.clock import Clock
from bot.events import ConversationKind, ConversationRef, InboundEvent, MemberRef
from bot.messages import Form, OutMessage
from bot.ports import DeliveryError, Messenger, SentMessage

log = logging.getLogger(__name__)

RESPONSE_URL_USES = 5  # Slack accepts five responses per response_url


def _retry_after(status: int, headers: Mapping[str, Any] | None) -> float | None:
    if status != 429:
        return None
    try:
        return max(0.0, float(header(headers, "Retry-After") or 1))
    except ValueError:
        return 1.0


class SlackMessenger(Messenger):
    platform = PLATFORM
    help_command = "/plcbot help"

    def __init__(self, api: SlackApi, directory: Directory, clock: Clock) -> None:
        self.api = api
        self.directory = directory
        self.clock = clock
        self.session: aiohttp.ClientSession | None = None  # the adapter's, once started
        self.notes = ChannelNotes(api.pacer, api.sleep)

    def _render(self, message: OutMessage, *, uploads: bool = True) -> Rendered:
        return render_message(message, now=self.clock.now(), with_uploads=uploads)

    # -- posting ---------------------------------------------------------------------------

    async def _post_chunks(
        self, workspace: str, channel: str, thread_ts: str | None, rendered: Rendered
    ) -> tuple[str, str]:
        """Post every chunk; the conversation they landed in (Slack names it: a post to a
        person's id lands in the bot's DM with them) and the first chunk's ``ts``."""
        first_ts = ""
        committed = None
        try:
            for blocks in rendered.chunks:
                response = await self.api.call(
                    workspace,
                    "chat_postMessage",
                    pace=channel,
                    channel=channel,
                    thread_ts=thread_ts,
                    text=rendered.fallback,
                    blocks=blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                if committed is None:
                    first_ts = str(response.get("ts") or "")
                    channel = str(response.get("channel") or channel)
                    # Part of the message is out: the rest waits out any rate limit instead of
                    # handing it back, since a retried job would post the first part again.
                    committed = INTERACTIVE.set(True)
            await self._upload(workspace, channel, thread_ts, rendered.uploads)
        finally:
            if committed is not None:
                INTERACTIVE.reset(committed)
        return channel, first_ts

    async def _upload(
        self, workspace: str, channel: str, thread_ts: str | None, uploads: Sequence[Upload]
    ) -> None:
        for upload in uploads:
            await self.api.call(
                workspace,
                "files_upload_v2",
                pace=channel,
                channel=channel,
                thread_ts=thread_ts,
                filename=upload.filename,
                content=upload.content,
                title=upload.title,
                alt_txt=upload.alt,
            )

    async def post(self, conversation: ConversationRef, message: OutMessage) -> SentMessage:
        workspace, channel = conversation.workspace_id, conversation.conversation_id
        rendered = self._render(message)
        thread = conversation.thread_id
        try:
            landed, ts = await self._post_chunks(workspace, channel, thread, rendered)
        except SlackRefused as exc:
            if exc.code != "not_in_channel" or not await self._join(workspace, channel):
                raise
            landed, ts = await self._post_chunks(workspace, channel, thread, rendered)
        if landed != channel:
            conversation = replace(conversation, conversation_id=landed)
        return SentMessage(conversation, ts)

    async def _join(self, workspace: str, channel: str) -> bool:
        """Join a public channel plcbot was used in, so it can post there (and hear threads)."""
        try:
            await self.api.call(workspace, "conversations_join", channel=channel)
        except (SlackApiError, DeliveryError) as exc:
            log.info("could not join Slack channel %s: %s", channel, exc)
            return False
        log.info("joined Slack channel %s to post there", channel)
        return True

    async def update(self, sent: SentMessage, message: OutMessage) -> None:
        conversation = sent.conversation
        rendered = self._render(message, uploads=False)
        await self.api.call(
            conversation.workspace_id,
            "chat_update",
            pace=conversation.conversation_id,
            channel=conversation.conversation_id,
            ts=sent.message_id,
            text=rendered.fallback,
            blocks=rendered.chunks[0],
        )
        if len(rendered.chunks) > 1:  # a card that outgrew one message: the rest follows
            rest = Rendered(rendered.chunks[1:], rendered.fallback, [])
            await self._post_chunks(
                conversation.workspace_id,
                conversation.conversation_id,
                conversation.thread_id or sent.message_id,
                rest,
            )

    async def post_private(
        self, conversation: ConversationRef, member: MemberRef, message: OutMessage
    ) -> None:
        if conversation.kind == ConversationKind.DIRECT:
            await self.post(conversation, message)
            return
        rendered = self._render(message)
        try:
            for blocks in rendered.chunks:
                await self.api.call(
                    conversation.workspace_id,
                    "chat_postEphemeral",
                    channel=conversation.conversation_id,
                    user=member.user_id,
                    thread_ts=conversation.thread_id,
                    text=rendered.fallback,
                    blocks=blocks,
                )
        except SlackRefused as exc:
            # plcbot cannot post in that channel: say it in the person's DM instead.
            log.info("ephemeral message refused (%s); sending it as a DM", exc.code)
            await self.post_direct(member, message)
            return
        if rendered.uploads:  # files cannot be ephemeral: they go to the person's DM
            dm = await self.directory.direct_channel(conversation.workspace_id, member.user_id)
            await self._upload(conversation.workspace_id, dm, None, rendered.uploads)

    async def post_direct(
        self, member: MemberRef, message: OutMessage, via: ConversationRef | None = None
    ) -> SentMessage:
        """To the bot's DM with the person. Where plcbot does not know that DM yet, it posts to
        the person's id, which Slack delivers to the DM and answers with its id. That saves a
        ``conversations.open`` per person: Slack allows about 50 of those a minute, so a first
        round of prompts to a 5,000-person district would otherwise take well over an hour. A
        workspace that refuses the id as a channel gets the DM opened instead."""
        if via is not None and via.platform == PLATFORM:
            return await self.post(via, message)
        workspace, user_id = member.workspace_id, member.user_id
        known = self.directory.known_direct_channel(workspace, user_id)
        if known is None:
            try:
                sent = await self.post(self._direct(member, user_id), message)
            except SlackRefused as exc:
                if exc.code != "channel_not_found":
                    raise
                log.info("Slack refused a post to a person's id; opening their DM instead")
            else:
                landed = sent.conversation.conversation_id
                if landed != user_id:
                    self.directory.learn_direct_channel(workspace, user_id, landed)
                return sent
        channel = known or await self.directory.direct_channel(workspace, user_id)
        return await self.post(self._direct(member, channel), message)

    @staticmethod
    def _direct(member: MemberRef, channel: str) -> ConversationRef:
        return ConversationRef(
            PLATFORM,
            member.workspace_id,
            channel,
            ConversationKind.DIRECT,
            name=member.display_name,
        )

    # -- answering a request ---------------------------------------------------------------

    async def reply(self, event: InboundEvent, message: OutMessage, *, private: bool) -> None:
        response_url = event.platform_data.get("response_url")
        direct = event.conversation.kind == ConversationKind.DIRECT
        if (
            private
            and not direct
            and isinstance(response_url, str)
            and not message.attachment
            and (
                await self._answer_in_ack(response_url, message)
                or await self._respond(event, response_url, message)
            )
        ):
            return
        if not private:

            async def post_or_respond(conversation: ConversationRef, note: OutMessage) -> None:
                try:
                    await self.post(conversation, note)
                except SlackRefused as exc:
                    if not isinstance(response_url, str) or exc.code not in (
                        "channel_not_found",
                        "not_in_channel",
                    ):
                        raise
                    # A channel plcbot cannot post in (a private one, a DM between two
                    # people): the command's response_url can still answer there, visibly.
                    if not await self._respond(event, response_url, note, visible=True):
                        raise

            # Nobody updates a reply later, so a plain one may join others waiting for the
            # channel's pace (adapters/slack/joining.py).
            await self.notes.send(event.conversation, message, post_or_respond)
            return
        await super().reply(event, message, private=private)

    async def _answer_in_ack(self, response_url: str, message: OutMessage) -> bool:
        """The command's first private answer, in its ack if that is still open (see
        :mod:`adapters.slack.answer`); False when it must go another way."""
        pending = ANSWER.get()
        if pending is None or not pending.open or pending.response_url != response_url:
            return False  # not a command's first answer: nothing to render here
        rendered = self._render(message, uploads=False)
        if len(rendered.chunks) != 1:
            return False
        return await pending.answer(rendered.fallback, rendered.chunks[0])

    async def _respond(
        self, event: InboundEvent, url: str, message: OutMessage, *, visible: bool = False
    ) -> bool:
        """Answer through the request's ``response_url``; False if it cannot (then post)."""
        rendered = self._render(message, uploads=False)
        if len(rendered.chunks) > RESPONSE_URL_USES:
            return False
        client = AsyncWebhookClient(url, session=self.session)
        for blocks in rendered.chunks:
            waited = 0.0
            while True:
                try:
                    response = await client.send(
                        text=rendered.fallback,
                        blocks=blocks,
                        response_type="in_channel" if visible else "ephemeral",
                        replace_original=False,
                    )
                except Exception as exc:
                    log.warning("answering through Slack's response_url failed: %s", exc)
                    return False
                seconds = _retry_after(response.status_code, response.headers)
                if seconds is None or waited + seconds > self.api.interactive_wait:
                    break
                log.info("Slack rate-limited a response_url answer; retrying in %gs", seconds)
                waited += seconds
                await asyncio.sleep(seconds)
            if response.status_code != 200:
                log.warning(
                    "Slack's response_url refused the answer (%s %s); posting it instead",
                    response.status_code,
                    (response.body or "")[:100],
                )
                return False
        return True

    async def open_form(self, event: InboundEvent, form: Form) -> bool:
        trigger_id = event.platform_data.get("trigger_id")
        if not isinstance(trigger_id, str):
            return False
        conversation = event.conversation
        response_url = event.platform_data.get("response_url")
        origin = Origin(
            action_id=form.action_id,
            value=form.value,
            channel_id=conversation.conversation_id,
            kind=conversation.kind.value,
            thread_ts=conversation.thread_id,
            message_ts=getattr(event, "message_id", None),
            response_url=response_url if isinstance(response_url, str) else None,
        )
        try:
            view = modal_for(form, origin)
            await self.api.call(
                conversation.workspace_id, "views_open", trigger_id=trigger_id, view=view
            )
        except FormTooLarge as exc:
            log.info("form %s shown as a message: %s", form.action_id, exc)
            return False
        except (SlackApiError, DeliveryError) as exc:
            log.warning("could not open the form %s in Slack: %s", form.action_id, exc)
            return False
        return True

    async def open_form_with_trigger(
        self, workspace: str, trigger_id: str, form: Form, origin: Origin
    ) -> None:
        """A form offered in a message, opened by its button (the click gave a trigger)."""
        await self.api.call(
            workspace, "views_open", trigger_id=trigger_id, view=modal_for(form, origin)
        )

    async def roster(self, conversation: ConversationRef) -> list[MemberRef]:
        workspace = conversation.workspace_id
        people = []
        for user_id in await self.directory.member_ids(workspace, conversation.conversation_id):
            person = await self.directory.person(workspace, user_id)
            if person.is_bot or person.deleted:
                continue
            people.append(
                MemberRef(PLATFORM, workspace, user_id, person.display_name, person.timezone)
            )
        return people

    async def publish_home(self, workspace: str, user_id: str, blocks: Sequence[BlockJson]) -> None:
        await self.api.call(
            workspace,
            "views_publish",
            user_id=user_id,
            view={"type": "home", "blocks": list(blocks)},
        )
