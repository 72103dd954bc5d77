"""The prompt bank file and the PLCBOT_* settings are checked before plcbot starts."""

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.indicators import INDICATORS
from bot.reflection.bank import BANK_FILE, BankError, PromptBank
from bot.reflection.config import ReflectionConfig
from bot.settings import SettingsError, load_settings


def test_every_indicator_has_three_prompts_and_a_next_step() -> None:
    bank = PromptBank.load()
    for indicator in INDICATORS:
        prompts = bank.for_indicator(indicator.code)
        assert len(prompts) >= 3
        assert any(p.step for p in prompts)
        assert bank.follow_up(indicator.code).endswith("?")
    texts = [p.text for p in bank.all()]
    assert len(texts) == len(set(texts))
    assert not any("evaluat" in t.lower() or "rate yourself" in t.lower() for t in texts)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda t: t.replace("  C5:", "  Z9:"), "unknown indicator"),
        (lambda t: t.replace("id: A1.2\n", "id: A1.1\n"), "appears twice"),
        (
            lambda t: t.replace(
                "        step: true\n        text: Pick one", "        text: Pick one"
            ),
            "A1 has no next-step",
        ),
        (lambda t: t.replace("version: 1", "version: [1"), "not valid YAML"),
        (lambda t: t.replace("id: B2.3", "id: C2.9"), "should start with B2."),
    ],
)
def test_a_broken_bank_stops_start_up_with_its_reason(
    tmp_path: Path,
    change,
    complaint: str,  # type: ignore[no-untyped-def]
) -> None:
    broken = tmp_path / "prompts.yaml"
    broken.write_text(change(BANK_FILE.read_text()))
    with pytest.raises(BankError, match=complaint):
        PromptBank.load(broken)


def config(**env: str) -> ReflectionConfig:
    return ReflectionConfig.from_settings(load_settings(env, env_file=None))


def test_settings_have_safe_defaults_and_clear_errors() -> None:
    default = config()
    assert default.grace == timedelta(hours=6) and default.window_days == 2
    assert default.weekend == frozenset({5, 6}) and default.school_year is None
    custom = config(
        PLCBOT_REFLECT_GRACE="2h",
        PLCBOT_REFLECT_WINDOW_DAYS="3",
        PLCBOT_REFLECT_REMINDER_DAYS="0",
        PLCBOT_SCHOOL_WEEKEND="fri,sat",
        PLCBOT_SCHOOL_YEAR="2026-08-24..2027-06-11",
        PLCBOT_CALENDAR_QUIET_WORDS="Break, Feriado",
    )
    assert custom.grace == timedelta(hours=2) and custom.reminder_days == 0
    assert custom.weekend == frozenset({4, 5})
    assert custom.school_year == (date(2026, 8, 24), date(2027, 6, 11))
    assert custom.quiet_words == ("break", "feriado")
    assert config(PLCBOT_SCHOOL_WEEKEND="none").weekend == frozenset()
    for env, named in [
        ({"PLCBOT_REFLECT_GRACE": "soon"}, "PLCBOT_REFLECT_GRACE"),
        ({"PLCBOT_REFLECT_WINDOW_DAYS": "9"}, "PLCBOT_REFLECT_WINDOW_DAYS"),
        ({"PLCBOT_REFLECT_REMINDER_DAYS": "2"}, "before the answer window closes"),
        ({"PLCBOT_SCHOOL_WEEKEND": "caturday"}, "PLCBOT_SCHOOL_WEEKEND"),
        ({"PLCBOT_SCHOOL_YEAR": "2026"}, "PLCBOT_SCHOOL_YEAR"),
    ]:
        with pytest.raises(SettingsError, match=named):
            config(**env)
