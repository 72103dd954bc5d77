"""The baseline for the Teams benchmark: the smallest Agents SDK bot, echoing each message.

It is wired the way Microsoft's samples wire it (``CloudAdapter``, the SDK's JWT middleware in
anonymous mode, an ``ActivityHandler``), so the benchmark compares plcbot with what any bot on
the same SDK and machine costs. Run by ``bench/teams_bench.py``; prints its address when ready.
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware
from microsoft_agents.hosting.core import (
    ActivityHandler,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ConnectionManager,
    MessageFactory,
    TurnContext,
)


class Echo(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


async def main(port: int) -> None:
    config = AgentAuthConfiguration(anonymous_allowed=True)
    connections = ConnectionManager(
        provider_factory=lambda _c: AnonymousTokenProvider(),
        connections_configurations={"SERVICE_CONNECTION": config},
    )
    adapter = CloudAdapter(connection_manager=connections)
    agent = Echo()

    async def messages(request: web.Request) -> web.StreamResponse:
        response = await adapter.process(request, agent)
        return response or web.Response(status=202)

    app = web.Application(middlewares=[jwt_authorization_middleware])
    app["agent_configuration"] = config
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    print(f"listening on http://{host}:{bound}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(main(parser.parse_args().port))
