"""The README's two promises are kept in step with what CI actually runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def marked_command(marker: str) -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```sh\n(.+?)\n```", readme)
    assert match, f"README has no {marker} block"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert marked_command("test-command") in ci.splitlines()


def test_the_run_command_starts_the_console() -> None:
    assert marked_command("run-command").endswith("plcbot console")
