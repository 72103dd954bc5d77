"""The console adapter: plcbot in a terminal, for trying it out, demos and scripted tests."""

from adapters.console.messenger import ConsoleMessenger
from adapters.console.session import ConsoleAdapter, ConsoleSession

__all__ = ["ConsoleAdapter", "ConsoleMessenger", "ConsoleSession"]
