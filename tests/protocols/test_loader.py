"""Protocol files written by people: precise problems, skipped files, overrides, and the CLI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from protocols.loader import LIBRARY_DIR, load_library, parse

ROOT = Path(__file__).resolve().parents[2]


def tuning_text() -> str:
    return (LIBRARY_DIR / "tuning.yaml").read_text()


def custom(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "protocols"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(needle)


def test_problems_name_the_file_line_and_field() -> None:
    text = tuning_text().replace("minutes: 5\n", "minutes: 0\n", 1)
    text = text.replace("kind: silent_writing", "kind: whispering", 1)
    protocol, problems = parse(text, "tuning.yaml")
    assert protocol is None
    assert [str(p) for p in problems] == [
        f"tuning.yaml:{line_of(text, 'minutes: 0')}: steps#3.minutes: Input should be greater "
        "than or equal to 1",
        f"tuning.yaml:{line_of(text, 'kind: whispering')}: steps#4.kind: Input should be "
        "'instructions', 'round', 'open', 'silent_writing', 'presenter_response' or "
        "'next_steps'",
    ]


def test_unknown_fields_get_a_did_you_mean() -> None:
    text = tuning_text().replace("    prompts:\n", "    promts:\n", 1)
    _, problems = parse(text, "t.yaml")
    assert [str(p) for p in problems] == [
        f"t.yaml:{line_of(text, 'promts:')}: steps#1.promts: unknown field "
        "(did you mean 'prompts'?)"
    ]


def test_cross_field_rules_point_at_the_step() -> None:
    text = tuning_text().replace("kind: next_steps", "kind: next_steps\n    anonymous: true", 1)
    _, problems = parse(text, "t.yaml")
    assert len(problems) == 1
    assert problems[0].field == "steps#9"
    assert problems[0].line == line_of(text, "- id: next-steps")
    assert "cannot be anonymous" in problems[0].message


def test_totals_indicators_and_duplicate_keys_are_checked() -> None:
    text = tuning_text().replace("minutes: 60", "minutes: 61", 1)
    text = text.replace("indicators: [A2,", "indicators: [Z9, A2,", 1)
    text = text.replace("version: 1\n", "version: 1\nversion: 2\n", 1)
    _, problems = parse(text, "t.yaml")
    shown = {(p.field, p.line) for p in problems}
    assert ("version", 3) in shown  # the second one
    assert ("indicators#1", line_of(text, "indicators:")) in shown
    messages = " ".join(p.message for p in problems)
    assert "appears twice" in messages and "Z9 is not an indicator" in messages


def test_broken_yaml_and_non_protocols_are_reported_not_raised() -> None:
    _, problems = parse("id: x\nsteps: [unclosed\n", "broken.yaml")
    assert problems[0].file == "broken.yaml" and problems[0].field == "(yaml)"
    assert problems[0].line >= 2
    _, problems = parse("- just\n- a list\n", "list.yaml")
    assert problems[0].message.startswith("expected a protocol")


def test_a_custom_folder_overrides_by_id_and_skips_invalid_files(tmp_path: Path) -> None:
    mine = yaml.safe_load(tuning_text())
    mine["title"] = "Tuning, our way"
    custom(tmp_path, "our-tuning.yaml", yaml.safe_dump(mine))
    new = dict(mine, id="our-quick-check", title="Quick check", aliases=[])
    custom(tmp_path, "quick.yml", yaml.safe_dump(new))
    custom(tmp_path, "broken.yaml", "id: broken\nsteps: [\n")
    custom(tmp_path, "twice.yaml", yaml.safe_dump(dict(new, title="Second copy")))
    custom(tmp_path, "notes.txt", "not a protocol, not loaded")
    library = load_library(tmp_path / "protocols")
    assert library.protocols["tuning"].title == "Tuning, our way"
    assert library.protocols["our-quick-check"].title == "Quick check"
    assert library.custom == {"tuning", "our-quick-check"}
    assert len(library) == len(load_library()) + 1
    skipped = {Path(p.file).name for p in library.problems}
    assert skipped == {"broken.yaml", "twice.yaml"}


def plcbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PLCBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        # An empty settings file: a named one must exist, and the repository's .env must not count.
        [sys.executable, "-m", "bot", "--env-file", os.devnull, *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_validate_cli_prints_one_line_per_problem_and_fails(tmp_path: Path) -> None:
    bad = custom(tmp_path, "bad.yaml", "id: Bad Id\nversion: 1\nsteps: []\n")
    good = LIBRARY_DIR / "consultancy.yaml"
    result = plcbot("protocols", "validate", str(good), str(bad))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{good}: ok (consultancy v1, 7 steps, 51 min)"
    assert (
        f"{bad}:1: id: 'Bad Id' can't be an id: use only lowercase letters a-z, digits and "
        "hyphens" in result.stdout
    )
    assert "pattern" not in result.stdout and "[a-z" not in result.stdout
    assert all(line.startswith(f"{bad}:") for line in lines[1:])
    assert "1 of 2 file(s) have problems" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_cli_accepts_a_folder_and_passes_the_library() -> None:
    result = plcbot("protocols", "validate", str(LIBRARY_DIR))
    assert result.returncode == 0, result.stdout
    assert result.stdout.count(": ok (") >= 18


@pytest.mark.parametrize("with_custom", [False, True])
def test_list_cli_shows_the_library_with_custom_files(tmp_path: Path, with_custom: bool) -> None:
    env = {}
    if with_custom:
        custom(tmp_path, "broken.yaml", "id: [\n")
        env["PLCBOT_PROTOCOLS_DIR"] = str(tmp_path / "protocols")
    result = plcbot("protocols", "list", env=env)
    assert result.returncode == 0, result.stderr
    assert "tuning" in result.stdout and "all 14 indicators" in result.stdout
    assert ("skipped:" in result.stderr) == with_custom


def test_the_documented_example_is_a_valid_protocol() -> None:
    docs = (ROOT / "docs" / "protocols.md").read_text()
    example = docs.split("### Format\n\n```yaml\n", 1)[1].split("```", 1)[0]
    protocol, problems = parse(example, "docs/protocols.md")
    assert problems == [] and protocol is not None
    assert protocol.id == "lesson-study" and len(protocol.steps) == 3
