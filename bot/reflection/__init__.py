"""Reflections: scheduled private prompts tied to the standard's indicators, and the school
calendar (:class:`SchoolCalendar`, the ``QuietDays`` port other features ask before sending)."""

from bot.reflection.calendar import SchoolCalendar
from bot.reflection.feature import ReflectionsFeature

__all__ = ["ReflectionsFeature", "SchoolCalendar"]
