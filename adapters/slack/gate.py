"""The first look at a signed payload, before bolt or a listener reads it.

Bolt's matchers and argument builders index straight into payloads (``body["view"]["type"]``)
and turn a malformed one into a 500. This gate answers 400 instead, and acknowledges payload
types plcbot does not use without handling them, so nothing Slack (or anyone holding the
signing secret) sends can make plcbot answer with a server error.

It also gives bolt a ``respond`` that cannot fail. Bolt itself uses it only to tell someone in
a workspace that never installed plcbot so (through the request's ``response_url``), and it
does so before the ack: an unreachable or slow URL there would otherwise become a 500 or miss
Slack's 3 seconds. plcbot's own answers go through the messenger, not through this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

RESPOND_SECONDS = 2.0  # bolt's reply waits inside the request: stay within Slack's 3 seconds


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
        if not isinstance(view.get("type"), str):  # bolt reads it to tell workflow steps apart
            return f"{kind} with a view lacking its type"
        if not user_ok():
            return f"{kind} without a user"
    return None


KNOWN_TYPES = {"event_callback", "block_actions", "view_submission", "view_closed"}


class BestEffortRespond(AsyncRespond):
    """Bolt's ``respond``, bounded in time, logging a failure instead of raising it."""

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.wait_for(super().__call__(*args, **kwargs), RESPOND_SECONDS)
        except Exception as exc:  # a reply nobody may see must not fail the request
            log.warning("could not answer through a Slack response_url: %r", exc)
            return None


def _safe_respond(req: AsyncBoltRequest) -> None:
    url = req.context.response_url
    req.context["respond"] = BestEffortRespond(
        response_url=url if isinstance(url, str) else None,
        proxy=req.context.client.proxy,
        ssl=req.context.client.ssl,
    )


class PayloadGate(AsyncMiddleware):
    """Bolt middleware that runs after the signature check (``before_authorize``)."""

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        _safe_respond(req)
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
