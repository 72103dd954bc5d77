"""Sending without letting a chat platform's hiccup undo what a person just did.

A commitment is saved first and announced after; if the announcement fails, the commitment
stands and the log says why. Scheduled sends instead let the scheduler retry: a platform's
"slow down" becomes a retry at the time it asks for, a permanent refusal is logged and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from bot.ports import DeliveryError, RateLimited
from bot.scheduler import RetryLater

log = logging.getLogger(__name__)


async def send_now(what: str, sending: Awaitable[object]) -> bool:
    """For sends a person's action causes: True if it went out; a failure is only logged."""
    try:
        await sending
    except (DeliveryError, RateLimited) as exc:
        log.warning("could not send %s: %s", what, exc)
    except Exception:
        log.exception("could not send %s", what)
    else:
        return True
    return False


async def send_scheduled(what: str, sending: Awaitable[object]) -> bool:
    """For scheduled sends: rate limits retry later, a refusal is logged; True if it went out."""
    try:
        await sending
    except RateLimited as exc:
        raise RetryLater(exc.retry_after, f"{what}: platform asked to slow down") from exc
    except DeliveryError as exc:
        log.warning(
            "%s was not delivered and will not be retried: %s (is plcbot still installed "
            "for this person or channel?)",
            what,
            exc,
        )
        return False
    return True
