"""The neutral outbound message as plain JSON and back, for messages that wait in a job.

A retried announcement is stored exactly as it was rendered, so the retry says what that
moment said ("2 min left"), not what a later state would.
"""

from __future__ import annotations

import base64
import dataclasses
from datetime import datetime
from typing import Any

from bot import messages

# The neutral model's types, by name.
_MESSAGE_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        messages.OutMessage,
        messages.Section,
        messages.Fields,
        messages.Field,
        messages.ListBlock,
        messages.ListItem,
        messages.Countdown,
        messages.Image,
        messages.Divider,
        messages.Mention,
        messages.Strong,
        messages.Link,
        messages.Button,
        messages.Form,
        messages.Input,
        messages.Choice,
        messages.Attachment,
    )
}


def message_to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: message_to_json(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
        return {"_type": type(value).__name__, **fields}
    if isinstance(value, tuple):
        return [message_to_json(v) for v in value]
    if isinstance(value, datetime):
        return {"_type": "datetime", "iso": value.isoformat()}
    if isinstance(value, bytes):
        return {"_type": "bytes", "b64": base64.b64encode(value).decode("ascii")}
    return value


def message_from_json(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(message_from_json(v) for v in value)
    if not isinstance(value, dict):
        return value
    kind = value["_type"]
    if kind == "datetime":
        return datetime.fromisoformat(value["iso"])
    if kind == "bytes":
        return base64.b64decode(value["b64"])
    fields = {k: message_from_json(v) for k, v in value.items() if k != "_type"}
    return _MESSAGE_TYPES[kind](**fields)
