"""Printing plcbot's messages to a terminal, with numbered buttons and forms to answer."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.console.render import render
from bot.clock import Clock
from bot.events import ConversationKind, ConversationRef, InboundEvent, MemberRef
from bot.messages import Button, Form, OutMessage
from bot.ports import Messenger, SentMessage

PLATFORM = "console"
KEEP_CONTROLS = 500


@dataclass(frozen=True)
class Control:
    """A button or form the user can use with ``/press`` or ``/submit``."""

    conversation: ConversationRef
    message_id: str
    button: Button | None = None
    form: Form | None = None


class ConsoleMessenger(Messenger):
    platform = PLATFORM

    def __init__(
        self,
        write: Callable[[str], None],
        clock: Clock,
        zone: ZoneInfo,
        files_dir: Path | None = None,
    ) -> None:
        self.write = write
        self.clock = clock
        self.zone = zone
        self.files_dir = files_dir or Path("plcbot-files")
        self.controls: OrderedDict[str, Control] = OrderedDict()
        self._next_message = 0
        self._next_control = 0
        self.roster_names: dict[str, MemberRef] = {}

    def _remember(self, control: Control, prefix: str) -> str:
        self._next_control += 1
        ident = f"{prefix}{self._next_control}"
        self.controls[ident] = control
        while len(self.controls) > KEEP_CONTROLS:
            self.controls.popitem(last=False)
        return ident

    def _show(
        self, header: str, conversation: ConversationRef, message_id: str, message: OutMessage
    ) -> None:
        ids = [
            self._remember(Control(conversation, message_id, button=b), "b")
            for b in message.buttons
        ]
        form_id = (
            self._remember(Control(conversation, message_id, form=message.form), "f")
            if message.form
            else None
        )
        lines = render(
            message,
            now=self.clock.now(),
            zone=self.zone,
            button_id=lambda i: ids[i],
            form_id=form_id,
        )
        stamp = self.clock.now().astimezone(self.zone).strftime("%a %H:%M")
        self.write(f"[{stamp}] {header}")
        for line in lines:
            self.write(("  | " + line).rstrip())
        if message.attachment is not None:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            target = self.files_dir / Path(message.attachment.filename).name
            target.write_bytes(message.attachment.content)
            self.write(f"  | saved {message.attachment.filename} to {target}")

    def _new_id(self) -> str:
        self._next_message += 1
        return f"m{self._next_message}"

    @staticmethod
    def _where(conversation: ConversationRef) -> str:
        if conversation.kind == ConversationKind.DIRECT:
            return f"DM with {conversation.name or conversation.conversation_id}"
        return "#" + (conversation.name or conversation.conversation_id)

    async def post(self, conversation: ConversationRef, message: OutMessage) -> SentMessage:
        message_id = self._new_id()
        thread = " (thread)" if conversation.thread_id else ""
        self._show(
            f"{self._where(conversation)}{thread} <plcbot>", conversation, message_id, message
        )
        return SentMessage(conversation, message_id)

    async def update(self, sent: SentMessage, message: OutMessage) -> None:
        self._show(
            f"{self._where(sent.conversation)} <plcbot> (updated {sent.message_id})",
            sent.conversation,
            sent.message_id,
            message,
        )

    async def post_private(
        self, conversation: ConversationRef, member: MemberRef, message: OutMessage
    ) -> None:
        self._show(
            f"{self._where(conversation)} <plcbot> (only {member.display_name} sees this)",
            conversation,
            self._new_id(),
            message,
        )

    async def post_direct(
        self, member: MemberRef, message: OutMessage, via: ConversationRef | None = None
    ) -> SentMessage:
        conversation = via or direct_conversation(member)
        message_id = self._new_id()
        self._show(f"DM to {member.display_name} <plcbot>", conversation, message_id, message)
        return SentMessage(conversation, message_id)

    async def open_form(self, event: InboundEvent, form: Form) -> bool:
        return False

    async def roster(self, conversation: ConversationRef) -> list[MemberRef]:
        return sorted(self.roster_names.values(), key=lambda m: m.user_id)


def direct_conversation(member: MemberRef) -> ConversationRef:
    return ConversationRef(
        PLATFORM,
        member.workspace_id,
        f"dm-{member.user_id}",
        ConversationKind.DIRECT,
        name=member.display_name,
    )
