"""What a protocol definition may say, checked once at start-up into frozen models.

Definitions are data written by people (the built-in library, a school's own files), so the
schema refuses anything the engine or a chat card could not show well: unknown fields (a typo
would otherwise be ignored silently), steps without minutes, prompts too long for a Slack
section, anonymous input where a name is the point (next steps become commitments), and a
total that does not add up.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from bot.indicators import BY_CODE

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")
_URL = re.compile(r"https?://\S+")


def _slug(value: str) -> str:
    # Said in words: whoever writes a protocol file shouldn't have to read a regex.
    if not _SLUG.fullmatch(value):
        raise ValueError(
            f"{value!r} can't be an id: use only lowercase letters a-z, digits and hyphens, "
            "start with a letter or digit, and keep it to 48 characters (e.g. my-protocol)"
        )
    return value


def _url(value: str) -> str:
    if not _URL.fullmatch(value):
        raise ValueError(
            f"{value!r} isn't a web address: write it in full, starting with https:// (or "
            "http://), with no spaces"
        )
    return value


Slug = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_slug)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Para = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]

MAX_PROMPT_CHARS = 1200  # all of a step's prompts together: one card section stays well under 3000
MAX_STEPS = 20  # a card and a summary per step must stay within a chat message's block limits


class Speaker(StrEnum):
    """Who has the floor in a step."""

    EVERYONE = "everyone"
    PRESENTER = "presenter"
    PARTICIPANTS = "participants"  # everyone except the presenter
    FACILITATOR = "facilitator"


class StepKind(StrEnum):
    INSTRUCTIONS = "instructions"  # the facilitator frames; nothing to collect
    ROUND = "round"  # one person at a time, in turn, with pass
    OPEN = "open"  # open contributions, any order
    SILENT_WRITING = "silent_writing"  # everyone writes, nobody talks
    PRESENTER_RESPONSE = "presenter_response"  # the presenter speaks to what they heard
    NEXT_STEPS = "next_steps"  # each person names a next step; these become commitments


class Role(StrEnum):
    FACILITATOR = "facilitator"
    PRESENTER = "presenter"
    TIMEKEEPER = "timekeeper"
    NOTE_TAKER = "note_taker"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class GroupSize(_Frozen):
    min: int = Field(ge=1, le=200)
    max: int = Field(ge=1, le=200)

    @model_validator(mode="after")
    def _ordered(self) -> GroupSize:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self

    def __str__(self) -> str:
        return f"{self.min}" if self.min == self.max else f"{self.min}-{self.max}"


class Step(_Frozen):
    id: Slug
    title: Line
    purpose: Para
    minutes: int = Field(ge=1, le=240)
    who: Speaker
    kind: StepKind
    prompts: tuple[Prompt, ...] = Field(default=(), max_length=8)
    collect: bool = True
    anonymous: bool = False
    presenter_silent: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Step:
        if sum(len(p) for p in self.prompts) > MAX_PROMPT_CHARS:
            raise ValueError(
                f"the prompts add up to more than {MAX_PROMPT_CHARS} characters; shorten them "
                "so the step fits on a chat card"
            )
        if self.anonymous and not self.collect:
            raise ValueError("anonymous: true needs collect: true (nothing is collected)")
        if self.anonymous and self.who in (Speaker.PRESENTER, Speaker.FACILITATOR):
            raise ValueError(f"anonymous input does not fit a step where the {self.who} speaks")
        if self.anonymous and self.kind == StepKind.NEXT_STEPS:
            raise ValueError(
                "a next_steps step cannot be anonymous: each next step becomes its owner's "
                "commitment"
            )
        if self.presenter_silent and self.who in (Speaker.PRESENTER, Speaker.EVERYONE):
            raise ValueError(
                f"presenter_silent: true contradicts who: {self.who.value}; use who: participants"
            )
        if self.kind == StepKind.NEXT_STEPS and not self.collect:
            raise ValueError("a next_steps step must collect (collect: true)")
        if self.kind == StepKind.PRESENTER_RESPONSE and self.who != Speaker.PRESENTER:
            raise ValueError("a presenter_response step needs who: presenter")
        return self


class Protocol(_Frozen):
    id: Slug
    version: int = Field(ge=1)
    title: Line
    aliases: tuple[Slug, ...] = ()
    purpose: Para
    when_to_use: Para
    group_size: GroupSize
    minutes: int = Field(ge=1, le=24 * 60)
    roles: tuple[Role, ...] = Field(min_length=1)
    credit: Para
    sources: tuple[Annotated[str, AfterValidator(_url)], ...] = ()
    indicators: tuple[str, ...] = Field(min_length=1)
    tags: tuple[Slug, ...] = ()
    facilitator_notes: tuple[Para, ...] = ()
    steps: tuple[Step, ...] = Field(min_length=1, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        unknown = [code for code in self.indicators if code not in BY_CODE]
        if unknown:
            raise ValueError(
                f"indicators: {', '.join(unknown)} not in the standard (use A1-A5, B1-B4, C1-C5)"
            )
        if Role.FACILITATOR not in self.roles:
            raise ValueError("roles must include facilitator (someone has to hold the process)")
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"two steps have the id {step.id!r}; step ids must be unique")
            seen.add(step.id)
        needs_presenter = any(
            s.who == Speaker.PRESENTER or s.presenter_silent or s.who == Speaker.PARTICIPANTS
            for s in self.steps
        )
        if needs_presenter and Role.PRESENTER not in self.roles:
            raise ValueError(
                "some steps involve a presenter (who: presenter or participants, or "
                "presenter_silent) but roles has no presenter"
            )
        total = sum(s.minutes for s in self.steps)
        if total != self.minutes:
            raise ValueError(
                f"minutes is {self.minutes} but the steps add up to {total}; make them agree"
            )
        if "dilemma" in self.tags and not any(
            re.search(r"\btrust", note, re.I) for note in self.facilitator_notes
        ):
            raise ValueError(
                "a dilemma protocol needs a facilitator note saying to use it once the group "
                "has built trust"
            )
        return self

    @property
    def has_presenter(self) -> bool:
        return Role.PRESENTER in self.roles

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this protocol answers to: its id and its aliases."""
        return (self.id, *self.aliases)

    def step_index(self, step_id: str) -> int:
        for i, step in enumerate(self.steps):
            if step.id == step_id:
                return i
        raise KeyError(step_id)
