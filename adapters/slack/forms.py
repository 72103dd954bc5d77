"""Forms as Slack modals, and their submissions back as plain ``{input_id: value}``.

A modal needs a fresh ``trigger_id`` (valid for 3 seconds), which only a person's click or
command provides. A form that arrives by itself (a reflection prompt sent by the scheduler) is
therefore shown as a button whose value carries the whole form; clicking it opens the modal.
Where the modal came from (the channel, the message, the command's ``response_url``) travels
in ``private_metadata`` so the submission is answered in the right place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    InputInteractiveElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.messages import Choice, Form, Input

FORM_CALLBACK = "plcbot.form"
FORM_OPEN_ACTION = "plcbot.slack.open_form"  # handled by the adapter, never by a feature
MODAL_TITLE_CHARS = 24
MODAL_BLOCKS = 100
METADATA_CHARS = 3000
LABEL_CHARS = 2000
PLACEHOLDER_CHARS = 150
OPTION_TEXT_CHARS = 75
OPTION_VALUE_CHARS = 150
OPTIONS = 100
INPUT_CHARS = 3000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FormTooLarge(ValueError):
    """The form does not fit in a Slack modal; the caller falls back to a message."""


def _short(value: str, limit: int) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _text(value: str) -> PlainTextObject:
    return PlainTextObject(text=value or " ", emoji=True)


# -- the form inside a button --------------------------------------------------------------


def encode_form(form: Form) -> str:
    data = {
        "a": form.action_id,
        "t": form.title,
        "v": form.value,
        "s": form.submit_label,
        "c": form.text_command,
        "i": [
            [
                i.input_id,
                i.label,
                i.kind,
                [[c.value, c.label] for c in i.choices],
                i.initial,
                i.placeholder,
                i.optional,
                i.max_length,
            ]
            for i in form.inputs
        ],
    }
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def decode_form(raw: str) -> Form:
    """The form a button carried; ``ValueError`` when it is not one (a forged or old value)."""
    try:
        data = json.loads(raw)
        inputs = tuple(
            Input(
                input_id=str(row[0]),
                label=str(row[1]),
                kind=row[2] if row[2] in ("text", "multiline", "date", "choice") else "text",
                choices=tuple(Choice(str(v), str(lab)) for v, lab in row[3]),
                initial=None if row[4] is None else str(row[4]),
                placeholder=None if row[5] is None else str(row[5]),
                optional=bool(row[6]),
                max_length=None if row[7] is None else int(row[7]),
            )
            for row in data["i"]
        )
        return Form(
            action_id=str(data["a"]),
            title=str(data["t"]),
            inputs=inputs,
            value=str(data.get("v") or ""),
            submit_label=str(data.get("s") or "Submit"),
            text_command=data.get("c"),
        )
    except (KeyError, TypeError, IndexError, json.JSONDecodeError) as exc:
        raise ValueError("not a plcbot form") from exc


# -- where the modal came from -------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """What a submission needs to act and answer as if it came from where the form was opened."""

    action_id: str
    value: str
    channel_id: str | None = None
    kind: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None
    response_url: str | None = None

    def encode(self) -> str:
        data = {
            "a": self.action_id,
            "v": self.value,
            "c": self.channel_id,
            "k": self.kind,
            "t": self.thread_ts,
            "m": self.message_ts,
            "r": self.response_url,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None}, separators=(",", ":"))

    @staticmethod
    def decode(raw: str) -> Origin:
        data = json.loads(raw)
        if not isinstance(data, dict) or not isinstance(data.get("a"), str):
            raise ValueError("not a plcbot form submission")

        def opt(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return Origin(
            action_id=data["a"],
            value=str(data.get("v") or ""),
            channel_id=opt("c"),
            kind=opt("k"),
            thread_ts=opt("t"),
            message_ts=opt("m"),
            response_url=opt("r"),
        )


def metadata_for(origin: Origin) -> str:
    encoded = origin.encode()
    if len(encoded) > METADATA_CHARS and origin.response_url:
        encoded = replace(origin, response_url=None).encode()
    if len(encoded) > METADATA_CHARS:
        raise FormTooLarge("the form's value is too long for a Slack modal")
    return encoded


# -- the modal -----------------------------------------------------------------------------


def _element(entry: Input) -> InputInteractiveElement:
    placeholder = _text(_short(entry.placeholder, PLACEHOLDER_CHARS)) if entry.placeholder else None
    if entry.kind == "date":
        initial = entry.initial if entry.initial and _DATE.match(entry.initial) else None
        return DatePickerElement(
            action_id=entry.input_id, initial_date=initial, placeholder=placeholder
        )
    if entry.kind == "choice":
        if not entry.choices or len(entry.choices) > OPTIONS:
            raise FormTooLarge(f"input {entry.input_id!r} needs 1 to {OPTIONS} choices")
        options = []
        for choice in entry.choices:
            if len(choice.value) > OPTION_VALUE_CHARS:
                raise FormTooLarge(f"a choice of {entry.input_id!r} has a value too long")
            options.append(
                Option(value=choice.value, text=_text(_short(choice.label, OPTION_TEXT_CHARS)))
            )
        initial_option = next((o for o in options if o.value == entry.initial), None)
        return StaticSelectElement(
            action_id=entry.input_id,
            options=options,
            initial_option=initial_option,
            placeholder=placeholder or _text("Choose one"),
        )
    max_length = min(entry.max_length or INPUT_CHARS, INPUT_CHARS)
    initial_value = entry.initial[:max_length] if entry.initial else None
    return PlainTextInputElement(
        action_id=entry.input_id,
        multiline=entry.kind == "multiline",
        initial_value=initial_value,
        placeholder=placeholder,
        max_length=max_length,
    )


def modal_for(form: Form, origin: Origin) -> View:
    if not form.inputs or len(form.inputs) > MODAL_BLOCKS:
        raise FormTooLarge(f"a modal holds 1 to {MODAL_BLOCKS} inputs")
    blocks = [
        InputBlock(
            block_id=entry.input_id,
            label=_text(_short(entry.label, LABEL_CHARS)),
            element=_element(entry),
            optional=entry.optional,
        )
        for entry in form.inputs
    ]
    return View(
        type="modal",
        callback_id=FORM_CALLBACK,
        title=_text(_short(form.title, MODAL_TITLE_CHARS)),
        submit=_text(_short(form.submit_label or "Submit", MODAL_TITLE_CHARS)),
        close=_text("Cancel"),
        private_metadata=metadata_for(origin),
        blocks=blocks,
    )


def submitted_values(state: Mapping[str, Any]) -> dict[str, str]:
    """``view.state.values`` as ``{input_id: text}``; empty optional inputs give ``""``."""
    values: dict[str, str] = {}
    for block_id, actions in (state.get("values") or {}).items():
        if not isinstance(actions, Mapping):
            continue
        for element in actions.values():
            if not isinstance(element, Mapping):
                continue
            kind = element.get("type")
            if kind == "plain_text_input":
                value = element.get("value")
            elif kind == "datepicker":
                value = element.get("selected_date")
            elif kind in ("static_select", "radio_buttons"):
                value = (element.get("selected_option") or {}).get("value")
            else:
                continue
            values[str(block_id)] = value if isinstance(value, str) else ""
    return values
