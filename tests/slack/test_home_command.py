"""``/plcbot home``: Slack has no ``/home`` slash command, so the overview comes through plcbot's
own entry, as an ephemeral answer only the member who asked sees."""

from __future__ import annotations

from bot.clock import FakeClock
from tests.slack.test_commands import texts
from tests.slack.workspace import SAM, running_slack
from tests.support.fake_slack import FakeSlack


async def test_plcbot_home_answers_only_the_one_who_asked(
    sqlite_url: str, clock: FakeClock, fake: FakeSlack
) -> None:
    async with running_slack(sqlite_url, clock, fake) as slack:
        await slack.command("/commit", "Call two families by Friday #private")
        await slack.command("/team", user=SAM)
        await slack.settled()
        posted_before = len(fake.calls_to("chat.postMessage"))
        answered_before = len(fake.answers())
        answer = await slack.command("/plcbot", "home")
        assert answer.status == 200
        await slack.command("/plcbot", "help")
        await slack.settled()
        answers = fake.answers()[answered_before:]
        assert len(fake.calls_to("chat.postMessage")) == posted_before  # nothing public
        assert not fake.calls_to("chat.postEphemeral")

    assert len(answers) == 2 and all(a["response_type"] == "ephemeral" for a in answers)
    [home] = [a for a in answers if "plcbot for Maria Garcia" in texts(a)]
    assert "#1 Call two families (due Fri 27 Nov, private)" in texts(home)
    [overview] = [a for a in answers if "plcbot: what I can do" in texts(a)]
    assert "/plcbot home" in texts(overview)  # help says how to type it in Slack
