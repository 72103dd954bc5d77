"""Facilitated discussion protocols: the ``/protocol`` use case built on the pure engine."""

from bot.protocol.feature import ProtocolsFeature

__all__ = ["ProtocolsFeature"]
