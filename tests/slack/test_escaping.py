"""Nothing a person types can make plcbot ping @channel, @here or anyone else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.slack import mrkdwn
from bot.messages import Link, Mention, Strong
from tests.slack.showcase import Showcase
from tests.slack.workspace import SlackWorkspace
from tests.support.fake_slack import Call

# What Slack sends when someone types these characters literally: it escapes them.
TYPED = (
    "&lt;!channel&gt; &lt;!here|here&gt; &lt;@U0SAM&gt; &lt;https://evil.example|click&gt; &amp; *"
)
DANGEROUS = ("<!channel>", "<!here", "<@U0SAM>", "<https://evil")


def parsed_texts(call: Call) -> Iterator[str]:
    """Every string Slack would parse for markup: mrkdwn objects and the top-level text."""
    if isinstance(call.get("text"), str):
        yield call["text"]

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                yield node["text"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    yield from walk({k: v for k, v in call.args.items() if k != "text"})


def assert_nothing_unescaped(calls: list[Call]) -> None:
    outbound = [c for c in calls if c.method not in ("users.info", "conversations.info")]
    assert outbound
    for call in outbound:
        assert "link_names" not in call.args and "parse" not in call.args, call.method
        for value in parsed_texts(call):
            for danger in DANGEROUS:
                assert danger not in value, (call.method, value)


async def test_typed_markup_reaches_the_core_as_typed_and_slack_escaped(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    await slack.command("/show", "who " + TYPED)
    await slack.settled()
    assert showcase.seen[-1].text == (  # type: ignore[union-attr]
        "who <!channel> <!here|here> <@U0SAM> <https://evil.example|click> & *"
    )
    for where in ("echo", "whisper"):
        await slack.command("/show", f"{where} {TYPED}")
    await slack.message(TYPED, thread_ts="1700000005.000500")
    await slack.settled()
    assert_nothing_unescaped(slack.fake.calls)
    echoed = [t for c in slack.fake.sent for t in parsed_texts(c)]
    assert any("&lt;!channel&gt;" in t for t in echoed)


async def test_typed_markup_in_a_form_is_escaped_in_the_answer(slack: SlackWorkspace) -> None:
    await slack.command("/show", "form")
    await slack.settled()
    view = slack.fake.calls_to("views.open")[0]["view"]
    await slack.submit(view, {"headline": "<!here> <@U0SAM>", "when": "2026-12-01", "mood": "low"})
    await slack.settled()
    assert_nothing_unescaped(slack.fake.calls)


async def test_mentions_slack_resolved_become_plain_words(
    slack: SlackWorkspace, showcase: Showcase
) -> None:
    """``@channel`` typed as a mention arrives as ``<!channel>``; plcbot keeps the word only."""
    await slack.command("/show", "echo <!channel> <!here> <!subteam^S0LEADS|@leads>")
    await slack.settled()
    assert_nothing_unescaped(slack.fake.calls)
    assert "<!subteam" not in str(slack.fake.calls_to("chat.postMessage")[-1].args)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("&amp;", "&amp;amp;"),
    ],
)
def test_escape(raw: str, expected: str) -> None:
    assert mrkdwn.escape(raw) == expected


def test_only_explicit_mentions_and_checked_links_become_markup() -> None:
    assert mrkdwn.inline(Mention("U0SAM", "Sam")) == "<@U0SAM>"
    assert mrkdwn.inline(Mention("!channel", "everyone")) == "@everyone"
    assert mrkdwn.inline(Link("https://example.org/a?b=1&c=2", "Read")) == (
        "<https://example.org/a?b=1&amp;c=2|Read>"
    )
    assert mrkdwn.inline(Link("javascript:alert(1)", "x")) == "x (javascript:alert(1))"
    assert mrkdwn.inline(Link("https://x.org/|<!here>", "x")) == "x (https://x.org/|&lt;!here&gt;)"
    assert mrkdwn.inline(Strong("<!here>")) == "*&lt;!here&gt;*"
    assert mrkdwn.inline(Strong("a*b")) == "a*b"


def test_splitting_never_cuts_a_token_or_an_entity() -> None:
    body = ("word &amp; <@U0SAM> " * 400).strip()
    pieces = mrkdwn.split(body, 3000)
    assert all(len(p) <= 3000 for p in pieces) and len(pieces) == 3
    for piece in pieces:
        assert piece.count("<") == piece.count(">")
        assert not piece.endswith(("&", "&amp", "<@U0SA"))
    assert " ".join(pieces).split() == body.split()
    unbroken = "x" * 7000
    assert [len(p) for p in mrkdwn.split(unbroken, 3000)] == [3000, 3000, 1000]
