"""The baseline for bench/slack_commands.py: a slack-bolt app that only acknowledges.

Same stack as plcbot's Slack endpoint (aiohttp, ``to_bolt_request``, ``AsyncApp.async_dispatch``
with ``process_before_response=False``, signature checks, ``auth.test`` against the fake), and
nothing else. Prints the port it listens on (chosen by the OS).
"""

from __future__ import annotations

import argparse
import asyncio
import re

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    app = AsyncApp(
        signing_secret=args.secret,
        client=AsyncWebClient(token=args.token, base_url=args.api_url),
        process_before_response=False,
    )

    @app.command(re.compile(".*"))
    async def ack_only(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
