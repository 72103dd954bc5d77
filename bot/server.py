"""``plcbot serve``: one aiohttp server for health checks and the platforms' webhooks."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import socket
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.app import PlcBot
from bot.settings import SettingsError
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
        expected = migrate.expected_heads()
    except DatabaseUnavailable as exc:
        return web.json_response({"status": "unavailable", "reason": str(exc)}, status=503)
    except Exception as exc:
        # A probe wants "not ready", not a 500: the details go to the log, not to the prober.
        log.exception("the readiness check failed")
        return web.json_response(
            {
                "status": "unavailable",
                "reason": f"the database check failed ({type(exc).__name__}); see the plcbot logs",
            },
            status=503,
        )
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
    """Run until SIGTERM or SIGINT, then stop taking requests and shut down in order.

    An address that cannot be listened on ends it with a :class:`SettingsError` naming the
    setting to change, after stopping what had been started.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with bot.running():
            runner = web.AppRunner(build_web_app(bot), access_log=None, shutdown_timeout=10)
            await runner.setup()
            site = web.TCPSite(runner, host, port)
            try:
                await site.start()
            except OSError as exc:
                await runner.cleanup()
                raise SettingsError(_cannot_listen(host, port, exc)) from None
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


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    """Why the server could not open its socket, naming the setting that fixes it."""
    if isinstance(exc, socket.gaierror):
        return (
            f"HOST: {host!r} is not an address or a name this machine can resolve; use e.g. 0.0.0.0"
        )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"PORT: port {port} on {host} is in use; set PORT (or --port) to a free port or stop "
            "the program that holds it"
        )
    if exc.errno == errno.EACCES:
        return f"PORT: this user may not listen on port {port}; use a port above 1023"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"HOST: {host!r} is not an address of this machine; use e.g. 0.0.0.0"
    return f"HOST: cannot listen on {host}:{port}: {exc.strerror or exc}"
