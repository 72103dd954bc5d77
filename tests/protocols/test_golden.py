"""The whole tuning protocol in the console, compared line by line with a reviewed transcript.

Three members run it from the start to the summary with the clock moved by hand. If a change
to the bot's wording or behaviour is intended, regenerate the transcript on purpose and read
the diff before committing it:

    PLCBOT_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/protocols/test_golden.py
"""

import os
from pathlib import Path

from bot.clock import FakeClock
from tests.support.harness import running_console

HERE = Path(__file__).parent / "golden"


async def test_a_whole_tuning_protocol_matches_the_transcript(
    db_url: str, clock: FakeClock
) -> None:
    script = (HERE / "tuning.script").read_text(encoding="utf-8").splitlines()
    expected_file = HERE / "tuning.expected"
    async with running_console(db_url, clock) as console:
        out = await console.script(script)
    transcript = "\n".join(out) + "\n"
    if os.environ.get("PLCBOT_REGENERATE_GOLDEN") == "1":
        expected_file.write_text(transcript, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert transcript.splitlines() == expected.splitlines()
    # What the transcript must show, so a careless regeneration cannot hide a regression.
    assert "Summary: Tuning protocol (session #1)" in transcript
    assert "Anonymous: The rubric rewards correct answers" in transcript
    assert "[presenter's note]" in transcript
    assert "Back to step 6 of 9" in transcript
    assert "Cam passed." in transcript
