"""``plcbot serve``: one aiohttp server for health checks and the platforms' webhooks."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import PlcBot
from storage import migrate
from storage.db import DatabaseUnavailable

log = logging.getLogger(__name__)

BOT_KEY: web.AppKey[PlcBot] = web.AppKey("plcbot", PlcBot)


async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving (for liveness probes and Docker's HEALTHCHECK)."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready to take traffic: the database answers and its schema is current."""
    bot = request.app[BOT_KEY]
    try:
        await bot.db.ping()
        current = await migrate.current_heads(bot.db)
    except DatabaseUnavailable as exc:
        return web.json_response({"status": "unavailable", "reason": str(exc)}, status=503)
    expected = migrate.expected_heads()
    if current != expected:
        return web.json_response(
            {
                "status": "unavailable",
                "reason": "database schema is not current; run `plcbot db upgrade`",
                "database": sorted(current),
                "expected": sorted(expected),
            },
            status=503,
        )
    return web.json_response({"status": "ready", "database": bot.db.dialect})


@web.middleware
async def never_500_with_details(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Unexpected failures are logged in full and answered without internals."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.json_response({"error": "internal error; see the plcbot logs"}, status=500)


def build_web_app(bot: PlcBot) -> web.Application:
    app = web.Application(middlewares=[never_500_with_details], client_max_size=2 * 1024 * 1024)
    app[BOT_KEY] = bot
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    for adapter in bot.adapters:
        app.add_routes(adapter.routes())
    return app


async def serve(bot: PlcBot, *, host: str, port: int, ready: asyncio.Event | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop taking requests and shut down in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with bot.running():
            runner = web.AppRunner(build_web_app(bot), access_log=None, shutdown_timeout=10)
            await runner.setup()
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0] if runner.addresses else (host, port)
            log.info("listening on http://%s:%s", bound[0], bound[1])
            # Everything loaded so far (libraries, settings, the protocol library) lives as long
            # as the process: keep it out of the collector's full passes, whose pauses would
            # otherwise grow with it and stall every request (measured in bench/).
            gc.collect()
            gc.freeze()
            if ready is not None:
                ready.set()
            await stop.wait()
            log.info("shutting down")
            await runner.cleanup()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
