"""The pure pieces: reading Slack's text, command names, forms in buttons and modals."""

from __future__ import annotations

import pytest

from adapters.slack.forms import (
    FormTooLarge,
    Origin,
    decode_form,
    encode_form,
    metadata_for,
    modal_for,
    submitted_values,
)
from adapters.slack.render import strip_action_suffix
from adapters.slack.translate import Translator, mention_word
from bot.messages import Choice, Form, Input
from tests.slack.showcase import SURVEY
from tests.slack.workspace import JO, SlackWorkspace


async def test_reading_slack_text(slack: SlackWorkspace) -> None:
    translator: Translator = slack.adapter.translator
    raw = (
        "<https://example.org/x|the notes> <mailto:a@b.org|a@b.org> <https://plain.org> "
        "<!subteam^S0LEADS|@leads> <!date^1392734382^{date}|Feb 18> <#C0MATH> "
        f"<@{JO}> <@{JO}> <@UNKNOWN1|ghost> 2 &lt; 3 &amp;&amp; 4 &gt; 1"
    )
    text, mentions = await translator.read_text("T0PLC", raw)
    assert text == (
        "the notes a@b.org https://plain.org @leads Feb 18 #C0MATH "
        "@Jo_Okafor @Jo_Okafor @ghost 2 < 3 && 4 > 1"
    )
    assert [m.user_id for m in mentions] == [JO, "UNKNOWN1"]  # once each, in order
    assert mentions[1].display_name == "ghost"  # users.info failed: the name Slack gave


def test_command_names() -> None:
    translator = Translator.__new__(Translator)
    assert translator.command_name("/team", "show") == ("team", "show")
    assert translator.command_name("/Team", "") == ("team", "")
    assert translator.command_name("/plcbot", "") == ("help", "")
    assert translator.command_name("/plcbot", "help protocol") == ("help", "protocol")
    assert translator.command_name("/plcbot", "Team lead @x") == ("team", "lead @x")
    assert mention_word("  Maria   del Mar ") == "@Maria_del_Mar"


def test_action_ids_lose_only_plcbots_suffix() -> None:
    assert strip_action_suffix("protocol.next#3") == "protocol.next"
    assert strip_action_suffix("protocol.next") == "protocol.next"
    assert strip_action_suffix("tag#x") == "tag#x"


def test_a_form_survives_a_button_value() -> None:
    assert decode_form(encode_form(SURVEY)) == SURVEY
    for bad in ("", "{}", "[1]", '{"a": "x", "t": "y", "i": [[1]]}', "not json"):
        with pytest.raises(ValueError, match="not a plcbot form"):
            decode_form(bad)


def test_modal_limits() -> None:
    origin = Origin(action_id="x.y", value="v")
    with pytest.raises(FormTooLarge):
        modal_for(Form("x.y", "Empty", ()), origin)
    many = tuple(Choice(str(n), f"Option {n}") for n in range(101))
    with pytest.raises(FormTooLarge):
        modal_for(Form("x.y", "T", (Input("c", "Pick", kind="choice", choices=many),)), origin)
    with pytest.raises(FormTooLarge):
        metadata_for(Origin(action_id="x.y", value="v" * 3100))
    # a long response URL is dropped before the form is refused
    kept = metadata_for(Origin(action_id="x.y", value="v" * 2500, response_url="u" * 600))
    assert Origin.decode(kept).response_url is None
    view = modal_for(SURVEY, origin).to_dict()
    assert view["title"]["text"] == "How did today's protoco…"  # 24 characters


def test_submitted_values_by_element_type() -> None:
    state = {
        "values": {
            "a": {"a": {"type": "plain_text_input", "value": "text"}},
            "b": {"b": {"type": "plain_text_input", "value": None}},
            "c": {"c": {"type": "datepicker", "selected_date": "2026-12-01"}},
            "d": {"d": {"type": "static_select", "selected_option": {"value": "good"}}},
            "e": {"e": {"type": "radio_buttons", "selected_option": None}},
            "f": {"f": {"type": "checkboxes", "selected_options": []}},
            "g": "garbage",
        }
    }
    assert submitted_values(state) == {
        "a": "text",
        "b": "",
        "c": "2026-12-01",
        "d": "good",
        "e": "",
    }


async def test_a_text_naming_many_people_does_not_look_them_all_up(slack: SlackWorkspace) -> None:
    raw = " ".join(f"<@U{n:05d}|p{n}>" for n in range(40))
    text, mentions = await slack.adapter.translator.read_text("T0PLC", raw)
    assert len(mentions) == 25 and len(slack.fake.calls_to("users.info")) == 25
    assert text.split()[-1] == "@p39"
