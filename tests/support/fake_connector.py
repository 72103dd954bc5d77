"""A loopback Bot Connector: the Teams side of plcbot's outbound calls, for tests and benchmarks.

It speaks the Bot Connector REST protocol the Agents SDK's connector client uses, on a port the
OS picks, and records every request plcbot makes:

- ``POST /v3/conversations``: open a 1:1 chat (the same id again for the same user, as Teams
  does; 403 for users in :attr:`FakeConnector.refuse_direct`)
- ``POST /v3/conversations/{id}/activities[/{replyToId}]``: post a message (a new id back)
- ``PUT /v3/conversations/{id}/activities/{activityId}``: update one (404 if it never existed)
- ``GET /v3/conversations/{id}/pagedmembers``: the members set with :meth:`set_members`, in pages
- ``GET /v3/conversations/{id}/members/{userId}``, ``GET /v3/teams/{id}``: member, team details

:meth:`throttle` makes the next requests answer 429 with ``Retry-After``; ``expected_token``
makes requests without that bearer token answer 401, as the real connector does.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

THREAD_MARK = ";messageid="
BODY: web.RequestKey[Any] = web.RequestKey("body", object)


@dataclass
class Request:
    method: str
    path: str
    conversation_id: str | None
    body: Any
    authorization: str | None
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class Posted:
    conversation_id: str  # as plcbot named it, e.g. "19:x@thread.tacv2;messageid=17"
    activity_id: str
    activity: dict[str, Any]
    reply_to: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def current(self) -> dict[str, Any]:
        return self.updates[-1] if self.updates else self.activity

    @property
    def card(self) -> dict[str, Any]:
        return card_of(self.current)

    @property
    def text(self) -> str:
        return card_text(self.card)


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    for attachment in activity.get("attachments") or ():
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content: dict[str, Any] = attachment["content"]
            return content
    return {}


def card_text(element: Any) -> str:
    """Every piece of visible text in a card (text blocks, runs, inputs' labels, actions)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
                out.append(node["text"])
            if kind == "RichTextBlock":
                out.append("".join(i.get("text", "") for i in node.get("inlines", ())))
                return
            if isinstance(node.get("label"), str):
                out.append(node["label"])
            if kind and kind.startswith("Action.") and isinstance(node.get("title"), str):
                out.append(node["title"])
            for key, value in node.items():
                if key not in ("text", "inlines") and isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(element)
    return "\n".join(out)


class FakeConnector:
    def __init__(self, *, expected_token: str | None = None) -> None:
        self.expected_token = expected_token
        self.requests: list[Request] = []
        self.posted: list[Posted] = []
        self.created: list[dict[str, Any]] = []
        self.members: dict[str, list[dict[str, Any]]] = {}
        self.teams: dict[str, dict[str, Any]] = {}
        self.page_sizes: list[int] = []
        self.refuse_direct: set[str] = set()  # users Teams won't open a 1:1 chat with (403)
        self._ids = itertools.count(1_700_000_000_001)
        self._throttle: list[float] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- set-up ---------------------------------------------------------------------------

    def set_members(self, conversation_id: str, members: list[dict[str, Any]]) -> None:
        self.members[conversation_id] = members

    def throttle(self, times: int = 1, retry_after: float = 2.0) -> None:
        """The next ``times`` requests get 429 with ``Retry-After: retry_after``."""
        self._throttle.extend([retry_after] * times)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_get("/v3/conversations/{conversation}/pagedmembers", self._paged)
        app.router.add_get("/v3/conversations/{conversation}/pagedMembers", self._paged)
        app.router.add_get("/v3/conversations/{conversation}/members/{user}", self._member)
        app.router.add_get("/v3/teams/{team}", self._team)
        return app

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeConnector]:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/"
        try:
            yield self
        finally:
            await self._runner.cleanup()

    # -- what plcbot sent -----------------------------------------------------------------

    def in_conversation(self, conversation_id: str) -> list[Posted]:
        """Messages posted to a conversation, its threads included."""
        return [
            p for p in self.posted if p.conversation_id.split(THREAD_MARK)[0] == conversation_id
        ]

    def find(self, activity_id: str) -> Posted:
        for posted in self.posted:
            if posted.activity_id == activity_id:
                return posted
        raise KeyError(activity_id)

    def texts(self, conversation_id: str | None = None) -> list[str]:
        chosen = self.posted if conversation_id is None else self.in_conversation(conversation_id)
        return [p.text for p in chosen]

    def clear(self) -> None:
        self.requests.clear()
        self.posted.clear()
        self.created.clear()

    def __iter__(self) -> Iterator[Posted]:
        return iter(self.posted)

    # -- the protocol ---------------------------------------------------------------------

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            body = await request.json()
        self.requests.append(
            Request(
                request.method,
                request.path,
                request.match_info.get("conversation"),
                body,
                request.headers.get("Authorization"),
                dict(request.query),
            )
        )
        if self.expected_token is not None and (
            request.headers.get("Authorization") != f"Bearer {self.expected_token}"
        ):
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        if self._throttle:
            wait = self._throttle.pop(0)
            return web.json_response(
                {"error": {"code": "TooManyRequests"}},
                status=429,
                headers={"Retry-After": f"{wait:g}"},
            )
        request[BODY] = body
        response: web.StreamResponse = await handler(request)
        return response

    def _next_id(self) -> str:
        return str(next(self._ids))

    async def _create(self, request: web.Request) -> web.Response:
        body = request[BODY] or {}
        self.created.append(body)
        members = body.get("members") or [{}]
        user = members[0].get("id", "")
        if not user or not (body.get("bot") or {}).get("id"):
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        if user in self.refuse_direct:
            return web.json_response({"error": {"code": "Forbidden"}}, status=403)
        return web.json_response({"id": f"a:dm-{user}"}, status=201)

    async def _post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        activity_id = self._next_id()
        self.posted.append(
            Posted(conversation, activity_id, request[BODY], request.match_info.get("reply_to"))
        )
        return web.json_response({"id": activity_id}, status=201)

    async def _put(self, request: web.Request) -> web.Response:
        activity_id = request.match_info["activity"]
        base = request.match_info["conversation"].split(THREAD_MARK)[0]
        for posted in self.posted:
            if posted.activity_id == activity_id and (
                posted.conversation_id.split(THREAD_MARK)[0] == base
            ):
                posted.updates.append(request[BODY])
                return web.json_response({"id": activity_id})
        return web.json_response({"error": {"code": "ActivityNotFound"}}, status=404)

    async def _paged(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"].split(THREAD_MARK)[0]
        people = self.members.get(conversation)
        if people is None:
            return web.json_response({"error": {"code": "ConversationNotFound"}}, status=404)
        size = int(request.query.get("pageSize") or 200)
        self.page_sizes.append(size)
        start = int(request.query.get("continuationToken") or 0)
        page = people[start : start + size]
        result: dict[str, Any] = {"members": page}
        if start + size < len(people):
            result["continuationToken"] = str(start + size)
        return web.json_response(result)

    async def _member(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"].split(THREAD_MARK)[0]
        for person in self.members.get(conversation, ()):
            if person.get("id") == request.match_info["user"]:
                return web.json_response(person)
        return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)

    async def _team(self, request: web.Request) -> web.Response:
        team = self.teams.get(request.match_info["team"])
        if team is None:
            return web.json_response({"error": {"code": "TeamNotFound"}}, status=404)
        return web.json_response(team)
