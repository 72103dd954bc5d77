"""The prompt bank: plcbot's own prompts (a YAML file beside this module) plus each team's.

The file is data so that coaches can reword prompts without touching code; it is validated
when plcbot starts, and a mistake stops start-up with one line naming the problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.indicators import BY_CODE, INDICATORS

BANK_FILE = Path(__file__).with_name("prompts.yaml")
MIN_PROMPTS = 3
MAX_PROMPT_LENGTH = 400


class BankError(ValueError):
    """The prompt bank file is wrong; the message says where."""


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str  # "B3.2" for the bank's, "t12" for a team's own
    indicator: str
    text: str
    step: bool = False  # asks for a small concrete next step


class _PromptModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=16)
    text: str = Field(min_length=10, max_length=MAX_PROMPT_LENGTH)
    step: bool = False


class _IndicatorModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    follow_up: str = Field(min_length=10, max_length=MAX_PROMPT_LENGTH)
    prompts: list[_PromptModel]


class _BankModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    indicators: dict[str, _IndicatorModel]

    @field_validator("indicators")
    @classmethod
    def _complete(cls, value: dict[str, _IndicatorModel]) -> dict[str, _IndicatorModel]:
        unknown = sorted(set(value) - set(BY_CODE))
        if unknown:
            raise ValueError(f"unknown indicator(s) {', '.join(unknown)}")
        missing = [i.code for i in INDICATORS if i.code not in value]
        if missing:
            raise ValueError(f"no prompts for {', '.join(missing)}")
        seen: set[str] = set()
        for code, entry in value.items():
            if len(entry.prompts) < MIN_PROMPTS:
                raise ValueError(f"{code} has {len(entry.prompts)} prompts; it needs {MIN_PROMPTS}")
            if not any(p.step for p in entry.prompts):
                raise ValueError(f"{code} has no next-step prompt (step: true)")
            for p in entry.prompts:
                if not p.id.startswith(code + "."):
                    raise ValueError(f"prompt id {p.id!r} should start with {code}.")
                if p.id in seen:
                    raise ValueError(f"prompt id {p.id!r} appears twice")
                seen.add(p.id)
        return value


class PromptBank:
    def __init__(self, prompts: Mapping[str, Sequence[Prompt]], follow_ups: Mapping[str, str]):
        self._prompts = {code: tuple(items) for code, items in prompts.items()}
        self._follow_ups = dict(follow_ups)

    @classmethod
    def load(cls, path: Path = BANK_FILE) -> PromptBank:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            model = _BankModel.model_validate(raw)
        except OSError as exc:
            raise BankError(f"prompt bank {path}: cannot read it ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise BankError(f"prompt bank {path}: not valid YAML ({exc})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise BankError(f"prompt bank {path}: {where}: {first['msg']}") from None
        prompts = {
            code: [Prompt(p.id, code, p.text.strip(), p.step) for p in entry.prompts]
            for code, entry in model.indicators.items()
        }
        return cls(prompts, {code: e.follow_up for code, e in model.indicators.items()})

    def for_indicator(self, code: str) -> tuple[Prompt, ...]:
        return self._prompts.get(code, ())

    def follow_up(self, code: str) -> str:
        return self._follow_ups[code]

    def all(self) -> list[Prompt]:
        return [p for i in INDICATORS for p in self._prompts.get(i.code, ())]
