"""Calling Slack's Web API: the right token, paced per channel, 429s honoured, errors sorted.

Two kinds of caller want different things from a 429. A person who just typed a command is
waiting for the answer: wait the ``Retry-After`` and send it (nothing dropped). A scheduled job
is durable and will run again: hand it :class:`~bot.ports.RateLimited` so the scheduler retries
later instead of holding a worker. The adapter marks inbound handling with :data:`INTERACTIVE`;
everything else counts as a job, except that short waits are always taken in place.

Errors Slack will repeat forever (no access to the channel, the user left, the app was removed)
become :class:`~bot.ports.DeliveryError` with a sentence an IT person can act on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.pacing import ChannelPacer
from bot.ports import DeliveryError, RateLimited

log = logging.getLogger(__name__)

INTERACTIVE: ContextVar[bool] = ContextVar("plcbot_slack_interactive", default=False)
"""True while handling something a person just did in Slack (they are waiting for the answer)."""

JOB_WAIT_SECONDS = 5.0  # a scheduled send waits this long in place before handing back
INTERACTIVE_WAIT_SECONDS = 180.0  # past this, even a person's answer is given up (and logged)

PERMANENT = {
    "channel_not_found": "the channel no longer exists or plcbot cannot see it",
    "not_in_channel": "plcbot is not a member of the channel; invite it with /invite @plcbot",
    "is_archived": "the channel is archived",
    "user_not_found": "the Slack user no longer exists",
    "user_not_in_channel": "the person is not in that channel",
    "user_disabled": "the person's Slack account is deactivated",
    "cannot_dm_bot": "that user is a bot",
    "messages_tab_disabled": "plcbot's Messages tab is turned off in the Slack app settings",
    "invalid_auth": "the Slack token is not valid; check SLACK_BOT_TOKEN or reinstall the app",
    "not_authed": "no Slack token was sent; check SLACK_BOT_TOKEN",
    "account_inactive": "the Slack app was uninstalled or its token revoked",
    "token_revoked": "the Slack app's token was revoked; reinstall the app",
    "missing_scope": "the Slack app lacks a permission; update it from adapters/slack/manifest.yml",
    "restricted_action": "a workspace setting stops plcbot from posting there",
    "msg_too_long": "the message is longer than Slack allows",
    "invalid_blocks": "Slack refused the message layout",
    "message_not_found": "the message to update no longer exists",
    "cant_update_message": "that message can no longer be updated",
    "expired_trigger_id": "the form was opened too late (Slack allows 3 seconds)",
    "invalid_trigger_id": "the form could not be opened from there",
}
AUTH_ERRORS = {"invalid_auth", "account_inactive", "token_revoked", "not_authed"}


class SlackRefused(DeliveryError):
    """Slack refused for good; ``code`` is Slack's error code (``not_in_channel``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class TokenSource(Protocol):
    async def token_for(self, workspace_id: str) -> str: ...

    def forget(self, workspace_id: str) -> None: ...


class FixedToken:
    """Single-workspace mode: one bot token (``SLACK_BOT_TOKEN``) for everything."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token_for(self, workspace_id: str) -> str:
        return self._token

    def forget(self, workspace_id: str) -> None:
        return None


def error_code(exc: SlackApiError) -> str:
    response = exc.response
    try:
        return str(response.get("error") or "")
    except Exception:  # a non-JSON body (an HTML error page from a proxy)
        return ""


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list | tuple) else value)
    return None


def retry_after(exc: SlackApiError) -> float | None:
    """Seconds to wait if Slack rate-limited the call, else None."""
    response = exc.response
    if getattr(response, "status_code", None) != 429 and error_code(exc) != "ratelimited":
        return None
    raw = header(getattr(response, "headers", None), "Retry-After")
    try:
        return max(0.0, float(raw)) if raw is not None else 1.0
    except ValueError:
        return 1.0


class SlackApi:
    def __init__(
        self,
        client: AsyncWebClient,
        tokens: TokenSource,
        pacer: ChannelPacer,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        job_wait: float = JOB_WAIT_SECONDS,
        interactive_wait: float = INTERACTIVE_WAIT_SECONDS,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.pacer = pacer
        self.sleep = sleep  # waits for pacing and Retry-After (the adapter lends the worker)
        self.job_wait = job_wait
        self.interactive_wait = interactive_wait

    async def call(
        self,
        workspace_id: str,
        method: str,
        *,
        pace: str | None = None,
        **kwargs: Any,
    ) -> AsyncSlackResponse:
        """Call ``client.<method>`` (e.g. ``chat_postMessage``) for a workspace.

        ``pace`` names the channel to pace by (messages that appear in a channel).
        """
        token = await self.tokens.token_for(workspace_id)
        function: Callable[..., Awaitable[AsyncSlackResponse]] = getattr(self.client, method)
        waited = 0.0
        while True:
            if pace is not None:
                await self._pace(pace, method)
            try:
                return await function(token=token, **kwargs)
            except SlackApiError as exc:
                seconds = retry_after(exc)
                if seconds is None:
                    raise self._classify(exc, workspace_id, method) from exc
                if pace is not None:
                    self.pacer.hold(pace, seconds)
                limit = self.interactive_wait if INTERACTIVE.get() else self.job_wait
                if waited + seconds > limit:
                    if INTERACTIVE.get():
                        raise DeliveryError(
                            f"Slack kept rate-limiting {method} for over {limit:g}s; gave up"
                        ) from exc
                    raise RateLimited(seconds, f"Slack rate-limited {method}") from exc
                log.info("Slack rate-limited %s; retrying in %gs", method, seconds)
                waited += seconds
                if pace is None:  # paced calls wait in the pacer, which now holds the channel
                    await self.sleep(seconds)

    async def _pace(self, channel: str, method: str) -> None:
        delay = self.pacer.delay_for(channel)
        if delay <= 0:
            return
        if delay > self.job_wait and not INTERACTIVE.get():
            self.pacer.refund(channel)
            raise RateLimited(delay, f"{method} to {channel} must wait {delay:.0f}s for Slack")
        await self.sleep(delay)

    def _classify(self, exc: SlackApiError, workspace_id: str, method: str) -> Exception:
        code = error_code(exc)
        if code in AUTH_ERRORS:
            self.tokens.forget(workspace_id)
        reason = PERMANENT.get(code)
        if reason is not None:
            return SlackRefused(code, f"Slack {method} failed ({code}): {reason}")
        return exc
