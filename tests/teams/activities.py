"""Bot Framework activities as Teams sends them, for posting to ``/api/messages`` in tests.

The shapes follow what Teams sends: channel posts carry ``;messageid=ROOT`` in the conversation
id, ``<at>`` mentions with entities, and channelData with the team and tenant; ``Action.Submit``
is a message with ``value``; ``Action.Execute`` an ``adaptiveCard/action`` invoke.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

TENANT = "72f988bf-0000-4000-8000-000000000001"
BOT_ID = "28:plcbot-app-id"
BOT_NAME = "PLC Bot"
TEAM_ID = "19:team-general@thread.tacv2"
CHANNEL = "19:grade5-plc@thread.tacv2"

_ids = itertools.count(1_600_000_000_001)


def next_id() -> str:
    return str(next(_ids))


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    timezone: str | None = None

    @property
    def account(self) -> dict[str, Any]:
        return {"id": self.user_id, "name": self.name, "aadObjectId": f"aad-{self.user_id}"}


MARIA = Person("29:maria", "Maria Lopez", "America/Chicago")
SAM = Person("29:sam", "Sam Okafor")
JO = Person("29:jo", "Jo Park")


@dataclass
class Teams:
    """Builds activities for one tenant and one bot, pointing at ``service_url``."""

    service_url: str
    channel: str = CHANNEL
    team_name: str = "Grade 5 PLC"
    extra: dict[str, Any] = field(default_factory=dict)

    def _base(self, person: Person, conversation: dict[str, Any], **more: Any) -> dict[str, Any]:
        entities: list[dict[str, Any]] = [
            {"type": "clientInfo", "locale": "en-US", "platform": "Web", "country": "US"}
        ]
        if person.timezone:
            entities[0]["timezone"] = person.timezone
        activity: dict[str, Any] = {
            "id": next_id(),
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "timestamp": "2026-11-23T09:00:00.000Z",
            "from": person.account,
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"tenantId": TENANT, **conversation},
            "entities": entities,
            "locale": "en-US",
        }
        activity.update(more)
        return activity

    def _channel_data(self) -> dict[str, Any]:
        return {
            "teamsChannelId": self.channel,
            "teamsTeamId": TEAM_ID,
            "channel": {"id": self.channel},
            "team": {"id": TEAM_ID, "name": self.team_name},
            "tenant": {"id": TENANT},
        }

    def channel_message(
        self,
        person: Person,
        text: str,
        *,
        mention_bot: bool = True,
        mentions: tuple[Person, ...] = (),
        thread: str | None = None,
    ) -> dict[str, Any]:
        """A channel post (a new thread unless ``thread`` names the root it replies to)."""
        activity_id = next_id()
        body = text
        entities: list[dict[str, Any]] = []
        if mention_bot:
            body = f"<at>{BOT_NAME}</at> {body}"
            entities.append(
                {
                    "type": "mention",
                    "text": f"<at>{BOT_NAME}</at>",
                    "mentioned": {"id": BOT_ID, "name": BOT_NAME},
                }
            )
        for other in mentions:
            marked = f"<at>{other.name}</at>"
            body = body.replace("@" + other.name.split()[0], marked, 1)
            entities.append({"type": "mention", "text": marked, "mentioned": other.account})
        root = thread or activity_id
        activity = self._base(
            person,
            {
                "id": f"{self.channel};messageid={root}",
                "conversationType": "channel",
                "isGroup": True,
            },
            type="message",
            text=body,
            textFormat="plain",
            channelData=self._channel_data(),
        )
        activity["id"] = activity_id
        activity["entities"] = [*activity["entities"], *entities]
        return activity

    def personal_message(self, person: Person, text: str) -> dict[str, Any]:
        return self._base(
            person,
            {"id": f"a:personal-{person.user_id}", "conversationType": "personal"},
            type="message",
            text=text,
            textFormat="plain",
            channelData={"tenant": {"id": TENANT}},
        )

    def group_message(self, person: Person, text: str, *, mention_bot: bool) -> dict[str, Any]:
        body = f"<at>{BOT_NAME}</at> {text}" if mention_bot else text
        activity = self._base(
            person,
            {"id": "19:group-chat@thread.v2", "conversationType": "groupChat", "isGroup": True},
            type="message",
            text=body,
            channelData={"tenant": {"id": TENANT}},
        )
        if mention_bot:
            activity["entities"].append(
                {
                    "type": "mention",
                    "text": f"<at>{BOT_NAME}</at>",
                    "mentioned": {"id": BOT_ID, "name": BOT_NAME},
                }
            )
        return activity

    def _conversation_for(self, person: Person, where: str, thread: str | None) -> dict[str, Any]:
        if where == "personal":
            return {"id": f"a:personal-{person.user_id}", "conversationType": "personal"}
        root = thread or next_id()
        return {
            "id": f"{self.channel};messageid={root}",
            "conversationType": "channel",
            "isGroup": True,
        }

    def submit(
        self,
        person: Person,
        data: dict[str, Any],
        *,
        card_id: str,
        where: str = "channel",
        thread: str | None = None,
    ) -> dict[str, Any]:
        """``Action.Submit``: a message with the card's data (and inputs) as ``value``."""
        channel_data = self._channel_data() if where == "channel" else {"tenant": {"id": TENANT}}
        return self._base(
            person,
            self._conversation_for(person, where, thread or card_id),
            type="message",
            value=data,
            replyToId=card_id,
            channelData=channel_data,
        )

    def execute(
        self,
        person: Person,
        verb: str,
        data: dict[str, Any],
        *,
        card_id: str,
        where: str = "channel",
        thread: str | None = None,
    ) -> dict[str, Any]:
        """``Action.Execute``: the ``adaptiveCard/action`` invoke."""
        channel_data = self._channel_data() if where == "channel" else {"tenant": {"id": TENANT}}
        return self._base(
            person,
            self._conversation_for(person, where, thread or card_id),
            type="invoke",
            name="adaptiveCard/action",
            value={
                "action": {"type": "Action.Execute", "verb": verb, "data": data},
                "trigger": "manual",
            },
            replyToId=card_id,
            channelData=channel_data,
        )

    def bot_added_to_team(self, person: Person) -> dict[str, Any]:
        return self._base(
            person,
            {"id": self.channel, "conversationType": "channel", "isGroup": True},
            type="conversationUpdate",
            membersAdded=[{"id": BOT_ID}],
            channelData={**self._channel_data(), "eventType": "teamMemberAdded"},
        )
