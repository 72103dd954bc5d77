"""The bolt listeners: acknowledge at once, translate, hand to the dispatcher.

Slack wants every request acknowledged within 3 seconds. With ``process_before_response=False``
bolt answers Slack as soon as ``ack()`` is called and the listener carries on, so each listener
acks first and only then does the real work (which stores what the person asked before the
dispatcher sends the answer). Events API deliveries are acknowledged by bolt itself.

Anything malformed is answered 400 by :class:`PayloadGate` before a listener sees it; anything
unknown is acknowledged and ignored. Nothing a listener does can turn into a 5xx or a traceback
in Slack: failures after the ack are logged with enough to act on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack.forms import FORM_CALLBACK, FORM_OPEN_ACTION, Origin, decode_form
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
T = TypeVar("T")


WORKERS = 8  # requests handled at once; each may hold a database connection
MAX_WAITING = 1000  # acknowledged, not yet handled; past this, acks wait for room
ACK_WAIT_SECONDS = 2.0  # ...but never so long that Slack's 3-second deadline passes


class Tracker:
    """The listener tasks still running after their ack, so shutdown (and tests) can wait.

    It also bounds the work: at most ``WORKERS`` requests are handled at once (more would only
    queue for database connections and slow every one of them down), and when ``MAX_WAITING``
    acknowledged requests are queued, new ones wait before their ack, so a flood slows Slack's
    deliveries down instead of filling memory.
    """

    def __init__(
        self,
        workers: int = WORKERS,
        max_waiting: int = MAX_WAITING,
        ack_wait: float = ACK_WAIT_SECONDS,
    ) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.workers = asyncio.Semaphore(workers)
        self.max_waiting = max_waiting
        self.ack_wait = ack_wait
        self.waiting = 0
        self._admitting = 0
        self._room = asyncio.Condition()

    async def admit(self) -> None:
        """Before an ack: wait (briefly) while the queue is full."""
        if self.waiting < self.max_waiting:
            return
        self._admitting += 1
        try:
            async with self._room:
                await asyncio.wait_for(
                    self._room.wait_for(lambda: self.waiting < self.max_waiting),
                    self.ack_wait,
                )
        except TimeoutError:
            log.warning(
                "plcbot is behind: %d Slack requests are waiting to be handled", self.waiting
            )
        finally:
            self._admitting -= 1

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        self.waiting += 1
        try:
            await self.workers.acquire()
        finally:
            self.waiting -= 1
            if self._admitting:
                async with self._room:
                    self._room.notify_all()
        try:
            return await work()
        finally:
            self.workers.release()

    def track(self) -> None:
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def settled(self) -> None:
        current = asyncio.current_task()
        while pending := [t for t in self._tasks if t is not current and not t.done()]:
            await asyncio.wait(pending)


def payload_problem(body: Mapping[str, Any]) -> str | None:
    """What is wrong with a signed payload's shape, or None when listeners can read it."""
    kind = body.get("type")

    def user_ok() -> bool:
        user = body.get("user")
        return isinstance(user, Mapping) and isinstance(user.get("id"), str)

    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
            return "an event_callback without an event"
        if not isinstance(body.get("event_id"), str):
            return "an event_callback without an event_id"
    elif kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions or not user_ok():
            return "block_actions without actions or user"
        if not all(isinstance(a, Mapping) and isinstance(a.get("action_id"), str) for a in actions):
            return "block_actions with an action lacking an action_id"
    elif kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, Mapping) or not isinstance(view.get("callback_id"), str):
            return f"{kind} without a view"
        if not user_ok():
            return f"{kind} without a user"
    return None


KNOWN_TYPES = {"event_callback", "block_actions", "view_submission", "view_closed"}


class PayloadGate(AsyncMiddleware):
    """Runs after the signature check and before anything else reads the payload.

    Bolt's own matchers and argument builders index into payloads (``body["view"]["type"]``)
    and turn a malformed one into a 500; this gate answers 400 instead, and acknowledges
    payload types plcbot does not use without handling them.
    """

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        if "command" in body or body.get("type") == "url_verification":
            await next()
            return resp
        kind = body.get("type")
        if kind == "app_rate_limited":
            log.warning(
                "Slack paused event deliveries to plcbot for a minute (over 30,000 events an "
                "hour in workspace %s)",
                body.get("team_id"),
            )
            return BoltResponse(status=200, body="")
        if kind not in KNOWN_TYPES:
            log.info("ignored a Slack request of type %r", kind)
            return BoltResponse(status=200, body="")
        problem = payload_problem(body)
        if problem is not None:
            log.warning("refused a malformed Slack request: %s", problem)
            return BoltResponse(status=400, body=f"malformed request: {problem}")
        await next()
        return resp


class Listeners:
    def __init__(
        self,
        bot: PlcBot,
        messenger: SlackMessenger,
        translator: Translator,
        tracker: Tracker,
    ) -> None:
        self.bot = bot
        self.messenger = messenger
        self.translator = translator
        self.tracker = tracker

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
        await self.tracker.admit()
        await ack()
        self._learn(context)
        await self._dispatch("command", lambda: self.translator.command(body))

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
            message = await self.bot.home_for(member)
        else:
            person = await self.translator.directory.person(workspace, user_id)
            message = self._welcome(person.display_name)
        await self.messenger.publish_home(workspace, user_id, view_blocks(message, now=now))

    def _welcome(self, name: str) -> OutMessage:
        overview = self.bot.router.help_message()
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
