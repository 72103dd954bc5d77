"""``home``: a member's overview, asked for by command, seen only by the one who asked."""

import re

from bot.clock import FakeClock
from tests.support.harness import running_console


def answers(lines: list[str]) -> list[str]:
    """The output as one block per message plcbot sent, its header line first."""
    blocks: list[str] = []
    for line in lines:
        if re.match(r"\[\w{3} \d\d:\d\d\] ", line):
            blocks.append(line)
        elif blocks and line.startswith("  |"):
            blocks[-1] += "\n" + line
    return blocks


async def test_home_in_the_channel_is_shown_only_to_the_one_who_asked(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with running_console(sqlite_url, clock) as console:
        await console.say(
            "/as ana",
            "/team",
            "/commit Call two families by Friday #private",
            "/as ben",
            "/team",
        )
        [home] = answers(await console.say("/as ana", "/home"))
        assert home.startswith("[Mon 09:00] #plc <plcbot> (only Ana sees this)")
        assert "plcbot for Ana" in home and "Your open commitments:" in home
        assert "Call two families (due Fri 27 Nov, private)" in home
        # Ben's own overview, in the same channel, is his alone and shows nothing of Ana's.
        [bens] = answers(await console.say("/as ben", "/home"))
        assert bens.startswith("[Mon 09:00] #plc <plcbot> (only Ben sees this)")
        assert "plcbot for Ben" in bens and "Call two families" not in bens


async def test_home_works_in_a_dm_and_says_what_it_takes(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        await console.say("/as ana", "/team", "/dm")
        [home] = answers(await console.say("/home"))
        assert home.startswith("[Mon 09:00] DM with Ana <plcbot>")
        assert "Nothing open. /commit TEXT by DATE makes one." in home
        out = "\n".join(await console.say("/home everything", "/home help"))
    assert "/home has no 'everything'" in out
    assert "Your overview: open commitments, peers' check-ins, your next prompt" in out


async def test_help_lists_home(sqlite_url: str, clock: FakeClock) -> None:
    async with running_console(sqlite_url, clock) as console:
        out = "\n".join(await console.say("/help"))
    assert "/home - Your overview: open commitments" in out
