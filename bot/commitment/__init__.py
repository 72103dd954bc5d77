"""Commitments with peer accountability: make, follow up, report, share, summarise."""

from bot.commitment.feature import CommitmentsFeature

__all__ = ["CommitmentsFeature"]
