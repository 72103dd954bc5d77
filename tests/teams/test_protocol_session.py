"""A whole Tuning protocol in a Teams channel, through the real protocol feature.

Three members; the facilitator starts it with an @mention, moves it on with both kinds of
card button (``Action.Execute`` invokes and ``Action.Submit`` messages, each carrying the data
plcbot put on the card it last drew), people contribute by replying in the card's thread with
a mention and through the card's contribution form (once anonymously), and at the end the
summary is posted and each next step reaches its author as a commitment draft. Everything is
asserted on what the loopback Bot Connector received.
"""

from __future__ import annotations

from typing import Any

from bot.clock import FakeClock
from tests.support.fake_connector import FakeConnector, Posted, card_text
from tests.teams.activities import BOT_NAME, CHANNEL, JO, MARIA, SAM, Person, Teams
from tests.teams.harness import TeamsServer, teams_server
from tests.teams.test_actions import actions

MESSAGE = "application/vnd.microsoft.activity.message"

PRESENTED = "Grade 5 fractions unit, week 3: students scale a recipe for the whole class."
CLARIFYING = "How many students completed the task?"
EXAMINED = "Most explanations justify each scaling step."
ANONYMOUS = "The rubric rewards correct answers more than reasoning."
WARM_COOL = "Warm: the recipe context gets everyone in. Cool: where is equivalence named?"
WARM_COOL_2 = "Warm: explanations every time. Cool: could they compare two recipes?"
PRESENTER_NOTE = "Noting: rubric weighting came up twice."
REFLECTED = "I'll add a comparison prompt and weight reasoning in the rubric."
NEXT_STEPS = {
    SAM: "Rewrite the final task with a compare-two-recipes prompt by Friday.",
    JO: "Try the comparison prompt with my class next week.",
    MARIA: "Bring three student samples to our next meeting.",
}


class Session:
    """The channel's session card and the three people working with it."""

    def __init__(self, server: TeamsServer, fake: FakeConnector, teams: Teams) -> None:
        self.server = server
        self.fake = fake
        self.teams = teams
        self.card: Posted | None = None

    @property
    def session_card(self) -> Posted:
        assert self.card is not None
        return self.card

    @property
    def thread(self) -> str:
        return f"{CHANNEL};messageid={self.session_card.activity_id}"

    def data(self, verb: str, posted: Posted | None = None) -> dict[str, Any]:
        """The data of the button ``verb`` on the card as plcbot last drew it."""
        card = (posted or self.session_card).card
        found = [a for a in actions(card) if a.get("verb") == verb]
        assert found, f"no {verb} button on: {card_text(card)}"
        data: dict[str, Any] = found[-1]["data"]
        return data

    async def execute(self, person: Person, verb: str) -> dict[str, Any]:
        card = self.session_card
        press = self.teams.execute(person, verb, self.data(verb), card_id=card.activity_id)
        answer = await self.server.post(press)
        assert answer.status == 200, answer
        body: dict[str, Any] = answer.body
        return body

    async def submit(self, person: Person, verb: str) -> None:
        card = self.session_card
        press = self.teams.submit(person, self.data(verb), card_id=card.activity_id)
        assert (await self.server.post(press)).status == 202

    async def reply(self, person: Person, text: str) -> None:
        """A reply in the card's thread that @mentions the bot (Teams' default delivery)."""
        post = self.teams.channel_message(person, text, thread=self.session_card.activity_id)
        assert (await self.server.post(post)).status == 202

    async def contribute_with_form(
        self, person: Person, text: str, *, anonymous: bool = False
    ) -> dict[str, Any]:
        """Press "Add contribution", then fill in the form plcbot sends to the 1:1 chat."""
        chat = f"a:dm-{person.user_id}"
        before = len(self.fake.in_conversation(chat))
        await self.execute(person, "protocol.add")
        form = self.fake.in_conversation(chat)[before]
        inputs = {e["id"]: e for e in form.card["body"] if "id" in e}
        data = {**self.data("protocol.contribute", form), "text": text}
        if anonymous:
            assert inputs["anonymous"]["value"] == "named"  # named unless you choose
            data["anonymous"] = "anonymous"
        press = self.teams.execute(
            person, "protocol.contribute", data, card_id=form.activity_id, where="personal"
        )
        press["conversation"]["id"] = form.conversation_id  # the chat plcbot opened for it
        answer = await self.server.post(press)
        assert answer.status == 200
        return inputs

    def step(self) -> str:
        return self.session_card.card["body"][0]["inlines"][0]["text"]


async def test_a_whole_tuning_protocol_runs_in_a_teams_channel(
    sqlite_url: str, clock: FakeClock, fake: FakeConnector, teams: Teams
) -> None:
    fake.set_members(CHANNEL, [MARIA.account, SAM.account, JO.account])
    async with teams_server(sqlite_url, clock) as server:
        session = Session(server, fake, teams)
        assert (await server.post(teams.channel_message(MARIA, "team sync"))).status == 202
        fake.clear()

        start = teams.channel_message(MARIA, "protocol start tuning @Sam", mentions=(SAM,))
        assert start["text"] == f"<at>{BOT_NAME}</at> protocol start tuning <at>Sam Okafor</at>"
        assert (await server.post(start)).status == 202
        # the card is a new post in the channel, so its thread collects the session's talk
        [card] = [p for p in fake.posted if p.conversation_id == CHANNEL]
        session.card = card
        assert session.step() == "Tuning protocol: step 1 of 9"
        assert "Facilitator: Maria Lopez" in card.text.replace("<at>", "").replace("</at>", "")
        intro = [p.text for p in fake.posted if p.conversation_id == session.thread]
        assert intro and intro[0].startswith("Welcome to Tuning protocol")

        # 1 -> 2 with Action.Execute: the card is redrawn in place for everyone
        body = await session.execute(MARIA, "protocol.next")
        assert body == {"statusCode": 200, "type": MESSAGE, "value": "Done."}
        assert session.step() == "Tuning protocol: step 2 of 9"
        puts = [r for r in fake.requests if r.method == "PUT"]
        assert [r.path for r in puts] == [
            f"/v3/conversations/{session.thread}/activities/{card.activity_id}"
        ]
        assert puts[0].body["attachments"][0]["content"] == card.card

        await session.reply(SAM, PRESENTED)
        # 2 -> 3 with Action.Submit (a message carrying the card's data as its value)
        await session.submit(MARIA, "protocol.next")
        assert session.step() == "Tuning protocol: step 3 of 9"

        await session.reply(JO, CLARIFYING)
        await session.execute(MARIA, "protocol.next")
        assert session.step() == "Tuning protocol: step 4 of 9"

        # a named contribution through the card's form (this step has no anonymous choice)
        inputs = await session.contribute_with_form(JO, EXAMINED)
        assert set(inputs) == {"text"}
        await session.submit(MARIA, "protocol.next")
        assert session.step() == "Tuning protocol: step 5 of 9"

        # "Prepare your feedback" welcomes anonymous drafts: Sam's goes in without a name
        inputs = await session.contribute_with_form(SAM, ANONYMOUS, anonymous=True)
        assert inputs["anonymous"]["type"] == "Input.ChoiceSet"
        await session.execute(MARIA, "protocol.next")
        assert session.step() == "Tuning protocol: step 6 of 9"

        # warm and cool feedback goes round the participants; the presenter only takes notes
        await session.reply(JO, WARM_COOL)
        await session.reply(MARIA, WARM_COOL_2)
        await session.reply(SAM, PRESENTER_NOTE)
        await session.submit(MARIA, "protocol.next")
        assert session.step() == "Tuning protocol: step 7 of 9"

        await session.reply(SAM, REFLECTED)
        await session.execute(MARIA, "protocol.next")
        assert session.step() == "Tuning protocol: step 8 of 9"
        await session.submit(MARIA, "protocol.next")
        assert session.step() == "Tuning protocol: step 9 of 9"

        for person, next_step in NEXT_STEPS.items():
            await session.reply(person, next_step)
        finish = next(a for a in actions(card.card) if a.get("verb") == "protocol.next")
        assert finish["title"] == "Finish"
        await session.execute(MARIA, "protocol.next")

        # every move redrew the one card; nothing else in the channel was ever updated
        assert session.step() == "Tuning protocol: ended"
        assert len(card.updates) >= 9
        assert {r.path.rsplit("/", 1)[1] for r in fake.requests if r.method == "PUT"} == {
            card.activity_id
        }

    # the summary is the channel's next post, where everyone sees it
    [summary] = [p for p in fake.posted if p.text.startswith("Summary: Tuning protocol")]
    assert [p for p in fake.posted if p.conversation_id == CHANNEL] == [card, summary]
    shown = summary.text
    for said in (PRESENTED, CLARIFYING, WARM_COOL, WARM_COOL_2, REFLECTED):
        assert said in shown
    assert f"Jo Park: {EXAMINED}" in shown
    assert f"Anonymous: {ANONYMOUS}" in shown and f"Sam Okafor: {ANONYMOUS}" not in shown
    assert PRESENTER_NOTE in shown and "presenter's note" in shown
    assert BOT_NAME not in shown and "<at>" not in shown  # the bot's mention was stripped
    for person, next_step in NEXT_STEPS.items():
        assert f"{person.name}: {next_step}" in shown

    # each next step reaches its author in their 1:1 chat as a commitment to confirm
    for person, next_step in NEXT_STEPS.items():
        drafts = [
            p
            for p in fake.in_conversation(f"a:dm-{person.user_id}")
            if p.text.startswith("Your next step from the meeting")
        ]
        assert len(drafts) == 1, person
        fields = {e["id"]: e for e in drafts[0].card["body"] if "id" in e}
        assert next_step.removesuffix(" by Friday.") in fields["what"]["value"]
        assert fields["due"]["type"] == "Input.Date"
        assert "Confirm" in card_text(drafts[0].card)
        if person is SAM:
            assert fields["due"]["value"] == "2026-11-27"  # "by Friday", read from the step
    everything = "\n".join(fake.texts())
    assert "Sorry" not in everything and "no longer works" not in everything
