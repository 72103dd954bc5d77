"""Routing inbound events to the features that handle them.

Commands are the same words on every platform (``/protocol start tuning`` in Slack, ``protocol
start tuning`` to the bot in Teams, a console line); each command lists its subcommands so
``help`` and "did you mean" answers come from one place. Button presses route by the prefix of
their ``action_id``; plain messages are offered to message handlers in order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.errors import UserError
from bot.events import ActionEvent, CommandEvent
from bot.messages import Fields, ListBlock, ListItem, OutMessage, Section, text
from bot.parsing import closest, first_word
from bot.turn import Turn

ArgHandler = Callable[[Turn, str], Awaitable[None]]
TurnHandler = Callable[[Turn], Awaitable[None]]
MessageHandler = Callable[[Turn], Awaitable[bool]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: ArgHandler
    usage: str = ""  # the arguments, e.g. "NAME [@presenter]"
    summary: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str
    subcommands: tuple[Subcommand, ...] = ()
    default: ArgHandler | None = (
        None  # runs when the first word is no subcommand (``/commit TEXT``)
    )
    default_usage: str = ""
    bare: ArgHandler | None = None  # runs for the command with nothing after it (``/commitments``)
    examples: tuple[str, ...] = ()
    # plcbot's own command, typed the way help is: Slack has no ``/home`` slash command, so
    # there it is ``/plcbot home``, like ``/plcbot help``.
    entry: bool = False

    def find(self, word: str) -> Subcommand | None:
        for sub in self.subcommands:
            if word == sub.name or word in sub.aliases:
                return sub
        return None


class Router:
    def __init__(self) -> None:
        self._commands: dict[str, CommandSpec] = {}
        self._actions: list[tuple[str, TurnHandler]] = []
        self._messages: list[MessageHandler] = []

    # -- registration -------------------------------------------------------------------------

    def add_command(self, spec: CommandSpec) -> None:
        if spec.name in self._commands or spec.name == "help":
            raise ValueError(f"command {spec.name!r} is already registered")
        self._commands[spec.name] = spec

    def add_action(self, prefix: str, handler: TurnHandler) -> None:
        self._actions.append((prefix, handler))
        self._actions.sort(key=lambda item: -len(item[0]))

    def add_message_handler(self, handler: MessageHandler) -> None:
        self._messages.append(handler)

    @property
    def commands(self) -> Sequence[CommandSpec]:
        return list(self._commands.values())

    def parse(self, line: str) -> tuple[str, str] | None:
        """``"/protocol start tuning"`` or ``"protocol start tuning"`` -> ``("protocol", ...)``.

        For platforms where commands arrive as text. Only known command words (and ``help``)
        count, so an ordinary sentence is never taken for a command.
        """
        word, rest = first_word(line.strip().lstrip("/"))
        if word == "help" or word in self._commands:
            return word, rest
        return None

    # -- routing -----------------------------------------------------------------------------

    async def route(self, turn: Turn) -> None:
        event = turn.event
        if isinstance(event, CommandEvent):
            await self._command(turn, event)
        elif isinstance(event, ActionEvent):
            for prefix, handler in self._actions:
                if event.action_id.startswith(prefix):
                    await handler(turn)
                    return
            raise UserError("That button belongs to something I no longer know about.")
        else:
            for message_handler in self._messages:
                if await message_handler(turn):
                    return
            if event.conversation.kind != "channel":
                turn.reply(self.help_message(turn.messenger.help_command), private=True)

    async def _command(self, turn: Turn, event: CommandEvent) -> None:
        name = event.name.strip().lstrip("/").lower()
        if name == "help":
            word, _ = first_word(event.text)
            spec = self._commands.get(word.lstrip("/"))
            overview = self.help_message(turn.messenger.help_command)
            turn.reply(
                self.command_help(spec, turn.messenger.help_command) if spec else overview,
                private=True,
            )
            return
        spec = self._commands.get(name)
        if spec is None:
            guesses = closest(name, [*self._commands, "help"])
            hint = f" Did you mean /{guesses[0]}?" if guesses else ""
            raise UserError(
                f"I don't know the command /{name}.{hint} "
                f"Type {turn.messenger.help_command} to see them all."
            )
        word, rest = first_word(event.text)
        if word in ("help", "?"):
            turn.reply(self.command_help(spec, turn.messenger.help_command), private=True)
            return
        sub = spec.find(word) if word else None
        if sub is not None:
            await sub.handler(turn, rest)
        elif not word:
            if spec.bare is not None:
                await spec.bare(turn, "")
            else:
                turn.reply(self.command_help(spec, turn.messenger.help_command), private=True)
        elif spec.default is not None:
            await spec.default(turn, event.text.strip())
        else:
            guesses = closest(word, [s.name for s in spec.subcommands])
            hint = f" Did you mean /{spec.name} {guesses[0]}?" if guesses else ""
            raise UserError(
                f"/{spec.name} has no {word!r}.{hint} Type /{spec.name} help to see what it does."
            )

    # -- help --------------------------------------------------------------------------------

    def help_message(self, help_command: str = "/help") -> OutMessage:
        """The overview; ``help_command`` is how this platform asks for help (``/plcbot help``)."""
        items = tuple(
            ListItem(text(invocation(spec, help_command), " - ", spec.summary))
            for spec in self._commands.values()
        )
        return OutMessage(
            title="plcbot: what I can do",
            blocks=(
                Section(
                    text(
                        "I help your PLC run discussion protocols, reflect on practice, and "
                        "follow through on commitments together."
                    )
                ),
                ListBlock(items, heading="Commands"),
                Section(text("Add help to any command for its details, e.g. /protocol help.")),
            ),
        )

    def command_help(self, spec: CommandSpec, help_command: str = "/help") -> OutMessage:
        typed = invocation(spec, help_command)
        lines = []
        if spec.default is not None:
            lines.append(ListItem(text(f"{typed} {spec.default_usage}".rstrip())))
        for sub in spec.subcommands:
            usage = f"{typed} {sub.name} {sub.usage}".rstrip()
            lines.append(ListItem(text(usage, " - " if sub.summary else "", sub.summary)))
        blocks: list[Section | ListBlock | Fields] = [Section(text(spec.summary))]
        if lines:
            blocks.append(ListBlock(tuple(lines), heading="Usage"))
        if spec.examples:
            blocks.append(
                ListBlock(tuple(ListItem(text(e)) for e in spec.examples), heading="Examples")
            )
        return OutMessage(title=typed, blocks=tuple(blocks))


def invocation(spec: CommandSpec, help_command: str = "/help") -> str:
    """How a person types the command: ``/team``, or for an entry command ``/plcbot home``."""
    if spec.entry and help_command.endswith("help"):
        return help_command.removesuffix("help") + spec.name
    return f"/{spec.name}"
