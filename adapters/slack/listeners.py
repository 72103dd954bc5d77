"""The bolt listeners: acknowledge at once, translate, hand to the dispatcher.

Slack wants every request acknowledged within 3 seconds. With ``process_before_response=False``
bolt answers Slack as soon as ``ack()`` is called and the listener carries on, so each listener
acks first and only then does the real work (which stores what the person asked before the
dispatcher sends the answer). A slash command's ack waits up to a second for the command's first
private answer and carries it (:mod:`adapters.slack.answer`). Events API deliveries are
acknowledged by bolt itself.

Anything malformed is answered 400 by :mod:`adapters.slack.gate` before a listener sees it;
anything unknown is acknowledged and ignored. Nothing a listener does can turn into a 5xx or a
traceback in Slack: failures after the ack are logged with enough to act on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from adapters.slack.answer import ACK_DEADLINE_SECONDS, ANSWER, ANSWER_WAIT_SECONDS, AckAnswer
from adapters.slack.forms import FORM_CALLBACK, FORM_OPEN_ACTION, Origin, decode_form
from adapters.slack.intake import Tracker
from adapters.slack.messenger import SlackMessenger
from adapters.slack.render import strip_action_suffix, view_blocks
from adapters.slack.translate import PLATFORM, Malformed, Translator, workspace_of
from adapters.slack.webapi import INTERACTIVE
from bot.app import PlcBot
from bot.events import InboundEvent
from bot.messages import OutMessage, Section, text
from storage import identity as repo

log = logging.getLogger(__name__)

ANY = re.compile(r".*")


class Listeners:
    def __init__(
        self,
        bot: PlcBot,
        messenger: SlackMessenger,
        translator: Translator,
        tracker: Tracker,
        *,
        answer_wait: float = ANSWER_WAIT_SECONDS,
    ) -> None:
        self.bot = bot
        self.messenger = messenger
        self.translator = translator
        self.tracker = tracker
        self.answer_wait = answer_wait

    def register(self, app: AsyncApp, *, oauth: bool) -> None:
        app.command(re.compile(r"^/"))(self.on_command)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        if oauth:
            app.enable_token_revocation_listeners()
        app.event(ANY)(self.on_other_event)
        app.block_action(ANY)(self.on_action)
        app.view_submission(FORM_CALLBACK)(self.on_submission)
        app.view_submission(ANY)(self.on_other_view)
        app.view_closed(ANY)(self.on_other_view)

    # -- running the core ------------------------------------------------------------------

    def _learn(self, context: AsyncBoltContext) -> None:
        if context.bot_user_id:
            self.translator.bot_user_ids.add(context.bot_user_id)

    async def _dispatch(
        self, what: str, make: Callable[[], Awaitable[InboundEvent | None]]
    ) -> InboundEvent | None:
        return await self.tracker.run(lambda: self._handle(what, make))

    async def _handle(
        self, what: str, make: Callable[[], Awaitable[InboundEvent | None]]
    ) -> InboundEvent | None:
        INTERACTIVE.set(True)
        try:
            event = await make()
        except Malformed as exc:
            log.warning("ignored a Slack %s that made no sense (%s)", what, exc)
            return None
        except Exception:
            log.exception("could not read a Slack %s; it was ignored", what)
            return None
        if event is None:
            return None
        try:
            await self.bot.dispatcher.handle(event, self.messenger)
        except Exception:
            log.exception("handling a Slack %s failed (event %s)", what, event.event_id)
        return event

    # -- listeners -------------------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        self.tracker.track()
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        await self.tracker.admit()
        # The ack waits (briefly) for the command's first private answer: adapters/slack/answer.
        within = min(self.answer_wait, ACK_DEADLINE_SECONDS - (loop.time() - arrived))
        response_url = body.get("response_url")
        answer = None
        if within > 0 and isinstance(response_url, str):
            answer = AckAnswer(ack, response_url, within)
            ANSWER.set(answer)
        else:
            await ack()
        try:
            self._learn(context)
            await self._dispatch("command", lambda: self.translator.command(body))
        finally:
            if answer is not None:
                await answer.close()

    async def on_message(self, body: dict[str, Any], context: AsyncBoltContext) -> None:
        self.tracker.track()
        self._learn(context)
        await self._dispatch("message", lambda: self.translator.message(body))

    async def on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
    ) -> None:
        self.tracker.track()
        await self.tracker.admit()
        await ack()
        self._learn(context)
        if strip_action_suffix(str(action.get("action_id"))) == FORM_OPEN_ACTION:
            await self._open_offered_form(body, action)
            return
        event = await self._dispatch("button press", lambda: self.translator.action(body, action))
        if event is not None and event.platform_data.get("in_view"):
            await self.publish_home(event.actor.workspace_id, event.actor.user_id)

    async def on_submission(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        self.tracker.track()
        await self.tracker.admit()
        await ack()
        self._learn(context)
        await self._dispatch("form", lambda: self.translator.submission(body))

    async def on_other_view(self, ack: AsyncAck) -> None:
        await ack()

    async def on_other_event(self, body: dict[str, Any]) -> None:
        log.debug("ignored Slack event %s", (body.get("event") or {}).get("type"))

    async def on_home_opened(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        self.tracker.track()
        if event.get("tab") != "home" or not isinstance(event.get("user"), str):
            return
        try:
            await self.publish_home(workspace_of(body), event["user"])
        except Exception:
            log.exception("could not publish the App Home tab for %s", event.get("user"))

    # -- forms and home --------------------------------------------------------------------

    async def _open_offered_form(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        INTERACTIVE.set(True)
        try:
            form = decode_form(str(action.get("value") or ""))
            trigger_id = body["trigger_id"]
            workspace = workspace_of(body)
            user_id = body["user"]["id"]
            conversation = await self.translator.interaction_conversation(body, workspace, user_id)
            container = body.get("container") or {}
            response_url = body.get("response_url")
            origin = Origin(
                action_id=form.action_id,
                value=form.value,
                channel_id=conversation.conversation_id,
                kind=conversation.kind.value,
                thread_ts=conversation.thread_id,
                message_ts=container.get("message_ts"),
                response_url=response_url if isinstance(response_url, str) else None,
            )
            await self.messenger.open_form_with_trigger(workspace, trigger_id, form, origin)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("a Slack 'open form' button carried something unexpected: %s", exc)
        except Exception:
            log.exception("could not open a form in Slack")

    async def publish_home(self, workspace: str, user_id: str) -> None:
        """Show the member's overview on plcbot's App Home tab."""
        now = self.bot.core.clock.now()
        async with self.bot.db.write() as session:
            workspace_row = await repo.ensure_workspace(session, PLATFORM, workspace, now)
            member = await repo.find_member(session, workspace_row, user_id)
        if member is not None:
            message = await self.bot.home_for(member, help_command=self.messenger.help_command)
        else:
            person = await self.translator.directory.person(workspace, user_id)
            message = self._welcome(person.display_name)
        await self.messenger.publish_home(workspace, user_id, view_blocks(message, now=now))

    def _welcome(self, name: str) -> OutMessage:
        overview = self.bot.router.help_message(self.messenger.help_command)
        return OutMessage(
            title=f"plcbot for {name}",
            blocks=(
                Section(
                    text(
                        "Hello! Once you use plcbot in your team's channel, your commitments, "
                        "reflections and your team's sessions show up here. Type /plcbot help "
                        "in any channel to start."
                    )
                ),
                *overview.blocks,
            ),
        )
