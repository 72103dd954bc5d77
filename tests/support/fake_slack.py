"""A loopback fake of Slack's Web API (and of response URLs, file uploads and Socket Mode).

It speaks the wire protocol the real SDKs use, records every call, and enforces the Block Kit
limits Slack enforces (50 blocks a message, 3000-character sections, 10 fields, unique action
ids, 24-character modal titles, 3000-character ``private_metadata``), so a rendering bug fails a
test here the way it would fail in Slack. Tell it to answer 429 with ``rate_limit``.

Used by the Slack tests and benchmarks; run it alone with ``python -m tests.support.fake_slack``
(it prints its Web API base URL).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TEAM_ID = "T0PLC"
TEAM_NAME = "Lincoln Middle School"
BOT_USER_ID = "UPLCBOT"
BOT_ID = "BPLCBOT"
BOT_TOKEN = "xoxb-plcbot-test-token"
APP_TOKEN = "xapp-plcbot-test-token"
APP_ID = "APLCBOT"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None = None
    at: float = field(default_factory=time.monotonic)

    answer: dict[str, Any] | None = None  # what the fake answered (set once it has)

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    @property
    def landed(self) -> str | None:
        """The conversation a post landed in: a person's id lands in the bot's DM with them."""
        return str((self.answer or {}).get("channel") or "") or None

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


def _json_arg(value: Any) -> Any:
    """Form-encoded calls carry blocks and views as JSON strings; JSON calls as objects."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


class BlockKitError(ValueError):
    pass


def check_blocks(blocks: Any, limit: int) -> None:
    """Slack's own checks, the ones plcbot's rendering must respect."""
    if not isinstance(blocks, list):
        raise BlockKitError("blocks must be a list")
    if len(blocks) > limit:
        raise BlockKitError(f"{len(blocks)} blocks; the limit is {limit}")
    action_ids: set[str] = set()
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            if "text" in block and len(block["text"]["text"]) > 3000:
                raise BlockKitError("section text over 3000 characters")
            fields = block.get("fields") or []
            if len(fields) > 10:
                raise BlockKitError("more than 10 fields")
            if any(len(f["text"]) > 2000 for f in fields):
                raise BlockKitError("a field over 2000 characters")
            if "text" not in block and not fields:
                raise BlockKitError("a section needs text or fields")
        elif kind == "header":
            if len(block["text"]["text"]) > 150 or block["text"]["type"] != "plain_text":
                raise BlockKitError("header text must be plain_text up to 150 characters")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= 25:
                raise BlockKitError("an actions block holds 1 to 25 elements")
            for element in elements:
                action_id = element.get("action_id")
                if action_id in action_ids:
                    raise BlockKitError(f"duplicate action_id {action_id!r}")
                action_ids.add(action_id)
                if len(element.get("value") or "") > 2000:
                    raise BlockKitError("a button value over 2000 characters")
                if len(element["text"]["text"]) > 75:
                    raise BlockKitError("a button label over 75 characters")
        elif kind == "context":
            if not 1 <= len(block.get("elements") or []) <= 10:
                raise BlockKitError("a context block holds 1 to 10 elements")
        elif kind == "input":
            if len(block["label"]["text"]) > 2000:
                raise BlockKitError("an input label over 2000 characters")
        elif kind not in ("divider", "image", "rich_text"):
            raise BlockKitError(f"unknown block type {kind!r}")


def check_view(view: Mapping[str, Any]) -> None:
    if view.get("type") == "modal":
        if len(view["title"]["text"]) > 24:
            raise BlockKitError("modal title over 24 characters")
        if len(view.get("private_metadata") or "") > 3000:
            raise BlockKitError("private_metadata over 3000 characters")
    check_blocks(view.get("blocks") or [], 100)


class FakeSlack:
    def __init__(
        self,
        *,
        team_id: str = TEAM_ID,
        team_name: str = TEAM_NAME,
        bot_user_id: str = BOT_USER_ID,
        bot_token: str = BOT_TOKEN,
        record: bool = True,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.tokens = {bot_token}
        self.record = record  # False keeps only counts (long benchmark runs)
        # False: a person's id as a chat.postMessage channel is channel_not_found
        self.user_ids_post_to_dms = True
        self.calls: list[Call] = []
        self.counts: Counter[str] = Counter()
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.channel_members: dict[str, list[str]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.uploads: dict[str, bytes] = {}
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.socket_messages: list[dict[str, Any]] = []
        self._envelopes: dict[str, dict[str, Any]] = {}  # sent, not yet acked: their payloads
        self._limits: dict[str, list[float]] = defaultdict(list)
        self._failures: dict[str, list[str]] = defaultdict(list)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.add_user(bot_user_id, "plcbot", is_bot=True)

    # -- set-up ----------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        display_name: str | None = None,
        real_name: str | None = None,
        tz: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name or display_name or name,
            "deleted": deleted,
            "is_bot": is_bot,
            "tz": tz,
            "profile": {
                "display_name": display_name or "",
                "real_name": real_name or display_name or name,
            },
        }

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: Iterable[str] = (),
        *,
        private: bool = False,
        bot_is_member: bool = True,
    ) -> None:
        self.channels[channel_id] = {
            "id": channel_id,
            "name": name,
            "is_channel": not private,
            "is_group": private,
            "is_im": False,
            "is_mpim": False,
            "is_private": private,
            "is_member": bot_is_member,
        }
        self.channel_members[channel_id] = list(members)

    def add_oauth_code(self, code: str, *, team_id: str, team_name: str, token: str) -> None:
        self.oauth_codes[code] = {"team_id": team_id, "team_name": team_name, "token": token}

    def rate_limit(self, method: str, *, times: int = 1, retry_after: float = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and this ``Retry-After``."""
        self._limits[method].extend([retry_after] * times)

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with ``{"ok": false, "error": error}``."""
        self._failures[method].extend([error] * times)

    # -- reading what happened -------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def sent(self) -> list[Call]:
        """Every message-like call (posts, updates, ephemerals, answers to commands), in order."""
        kinds = {"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url", "ack"}
        return sorted((c for c in self.calls if c.method in kinds), key=lambda c: c.at)

    def answers(self) -> list[Call]:
        """Every answer to a command, in order: carried in its ack or sent to its response URL."""
        calls = (c for c in self.calls if c.method in ("ack", "response_url"))
        return sorted(calls, key=lambda c: c.at)

    async def acked(
        self, response_url: str | None, body: Mapping[str, Any], *, at: float | None = None
    ) -> None:
        """A command's HTTP ack (or Socket Mode ack) that carried a message: Slack shows it as
        it shows one sent to the command's response URL, so it is recorded beside those.

        ``at``: when the command was sent. The ack is its first answer, whatever came in before
        the test read it, so it is placed before anything else plcbot sent for the command."""
        key = (response_url or "").rsplit("/response/", 1)[-1]
        call = Call("ack", {**body, "response_url": key})
        if at is not None:
            call.at = at
        await self._record(call)

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Call]:
        """Wait (without polling) until ``method`` was called ``count`` times."""

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)

        try:
            await asyncio.wait_for(enough(), within)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(f"{method} called fewer than {count} times; saw {seen}") from None
        return self.calls_to(method)

    async def _record(self, call: Call) -> None:
        self.counts[call.method] += 1
        if not self.record:
            return
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # -- server ----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str = "") -> str:
        return f"{self.url}/response/{key or next(self._ids)}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeSlack:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}"
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items()})
        return {k: _json_arg(v) for k, v in args.items()}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        call = Call(method, args, token)
        await self._record(call)
        if self._limits.get(method):
            retry_after = self._limits[method].pop(0)
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": f"{retry_after:g}"},
            )
        if self._failures.get(method):
            return web.json_response({"ok": False, "error": self._failures[method].pop(0)})
        if method == "oauth.v2.access":
            return web.json_response(self._oauth(args, request))
        if method == "apps.connections.open":
            if token != APP_TOKEN:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            ws_url = self.url.replace("http://", "ws://") + "/socket"
            return web.json_response({"ok": True, "url": ws_url})
        if token not in self.tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        try:
            body = handler(args)
        except BlockKitError as exc:
            body = {"ok": False, "error": "invalid_blocks", "detail": str(exc)}
        except KeyError as exc:
            body = {"ok": False, "error": "invalid_arguments", "detail": f"missing {exc}"}
        call.answer = body
        return web.json_response(body)

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_700_000_000 + n}.{n:06d}"

    # -- Web API methods -------------------------------------------------------------------

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://lincoln.slack.com/",
            "team": self.team_name,
            "user": "plcbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _channel_ok(self, channel: str) -> bool:
        """Known channels, and the bot's own DMs (``D`` + user id, see conversations.open)."""
        return channel in self.channels or (channel.startswith("D") and channel[1:] in self.users)

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args["channel"]
        if channel in self.users and self.user_ids_post_to_dms:
            channel = "D" + channel  # as Slack does: the bot's DM with them, named in the answer
        if not self._channel_ok(channel):
            return {"ok": False, "error": "channel_not_found"}
        info = self.channels.get(channel)
        if info is not None and not info["is_member"]:
            return {"ok": False, "error": "not_in_channel"}
        check_blocks(args.get("blocks") or [], 50)
        ts = self._next_ts()
        message = {"ts": ts, "text": args.get("text"), "blocks": args.get("blocks")}
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (args["channel"], args["ts"])
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        check_blocks(args.get("blocks") or [], 50)
        self.messages[key] = {"ts": args["ts"], "text": args.get("text"), "blocks": args["blocks"]}
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args["channel"]
        info = self.channels.get(channel)
        if info is None or not info["is_member"]:
            return {"ok": False, "error": "channel_not_found" if info is None else "not_in_channel"}
        check_blocks(args.get("blocks") or [], 50)
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args["users"])
        if users not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "channel": {"id": "D" + users}}

    def _m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        info = self.channels.get(args["channel"])
        if info is None or info["is_private"]:
            return {"ok": False, "error": "channel_not_found"}
        info["is_member"] = True
        return {"ok": True, "channel": info}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        if channel.startswith("D") and channel[1:] in self.users:
            return {"ok": True, "channel": {"id": channel, "is_im": True, "user": channel[1:]}}
        info = self.channels.get(channel)
        if info is None or (info["is_private"] and not info["is_member"]):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": info}

    def _m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        if channel not in self.channel_members:
            return {"ok": False, "error": "channel_not_found"}
        members = self.channel_members[channel]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = members[start : start + limit]
        cursor = str(start + limit) if start + limit < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args["user"]))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = args["view"]
        check_view(view)
        return {"ok": True, "view": {"id": f"V{next(self._ids)}", **view}}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args["view"]
        check_view(view)
        return {"ok": True, "view": {"id": f"V{next(self._ids)}", **view}}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}/upload/{file_id}"}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"]
        if any(f["id"] not in self.uploads for f in files):
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    def _oauth(self, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        install = self.oauth_codes.get(str(args.get("code")))
        if install is None:
            return {"ok": False, "error": "invalid_code"}
        self.tokens.add(install["token"])
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": "UINSTALLER"},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": install["token"],
            "bot_user_id": self.bot_user_id,
            "team": {"id": install["team_id"], "name": install["team_name"]},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # -- beside the Web API ----------------------------------------------------------------

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.counts))

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        await self._record(Call("file.upload", {"file_id": file_id}))
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    async def _response(self, request: web.Request) -> web.Response:
        args = await request.json()
        args["response_url"] = request.match_info["key"]
        await self._record(Call("response_url", args))
        try:
            check_blocks(args.get("blocks") or [], 50)
        except BlockKitError as exc:
            return web.Response(status=400, text=f"invalid_blocks: {exc}")
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        await self._record(Call("socket.connected", {}))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    data = json.loads(message.data)
                    self.socket_messages.append(data)
                    await self._record(Call("socket.ack", data))
                    envelope = self._envelopes.pop(str(data.get("envelope_id")), None)
                    if data.get("payload") and envelope is not None:
                        await self.acked(envelope.get("response_url"), data["payload"])
        finally:
            self._sockets.remove(ws)
        return ws

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Deliver a Socket Mode envelope to every connected client."""
        payload = envelope.get("payload")
        if isinstance(payload, dict):
            self._envelopes[str(envelope.get("envelope_id"))] = payload
        for ws in self._sockets:
            await ws.send_json(envelope)


async def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="run the fake Slack Web API")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = FakeSlack(record=False)
    for n in range(64):
        fake.add_user(f"U{n:04d}", f"teacher{n}", display_name=f"Teacher {n}")
    for n in range(64):
        fake.add_channel(f"C{n:04d}", f"plc-{n}", [f"U{m:04d}" for m in range(64)])
    await fake.start(port=args.port)
    print(fake.api_url, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main())
