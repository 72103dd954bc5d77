"""What "this term" means when nobody set it: reflections and commitments count the same."""

from __future__ import annotations

from datetime import date


def half_year_start(today: date) -> date:
    """The school half-year ``today`` falls in: from 1 August, or from 1 January."""
    return date(today.year, 8, 1) if today.month >= 8 else date(today.year, 1, 1)
