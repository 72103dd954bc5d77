"""Choosing what to ask: which indicator a round is about, which prompt each member gets.

Indicators: the team's chosen indicator asked least often this term comes next (ties go to
the one after the last asked, in catalogue order), so every chosen indicator is covered before
any comes round twice. Prompts: never the one a member had last time; otherwise the one they
have gone longest without, varied between members so a team doesn't all get the same words.
A channel-mode round asks everyone one prompt: never the last prompt of anyone in the team
(when every prompt was somebody's last, the one the fewest people had last).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from bot.reflection.bank import Prompt


def pick_indicator(chosen: Sequence[str], asked: Mapping[str, int], last: str | None) -> str:
    if not chosen:
        raise ValueError("no indicators to choose from")
    start = (chosen.index(last) + 1) if last in chosen else 0
    order = {code: (i - start) % len(chosen) for i, code in enumerate(chosen)}
    return min(chosen, key=lambda code: (asked.get(code, 0), order[code]))


def pick_prompt(prompts: Sequence[Prompt], recent: Sequence[str], seed: int) -> Prompt:
    """``recent``: this member's prompt ids, most recent first."""
    return pick_shared_prompt(prompts, [recent], seed)


def pick_shared_prompt(
    prompts: Sequence[Prompt], recents: Sequence[Sequence[str]], seed: int
) -> Prompt:
    """One prompt for the whole team; ``recents``: each member's prompt ids, most recent first.

    Nobody's last prompt if there is one such (else the fewest people's last), and of those
    the one longest since anyone had it."""
    if not prompts:
        raise ValueError("no prompts to choose from")
    last = Counter(ids[0] for ids in recents if ids)
    fewest = min(last[p.id] for p in prompts)
    candidates = [p for p in prompts if last[p.id] == fewest]
    longest = max((len(ids) for ids in recents), default=0)

    def staleness(prompt: Prompt) -> int:
        # How long ago anyone in the team had it; never: longer than anything.
        used = [ids.index(prompt.id) for ids in recents if prompt.id in ids]
        return min(used) if used else longest + 1

    best = max(staleness(p) for p in candidates)
    pool = [p for p in candidates if staleness(p) == best]
    return pool[seed % len(pool)]
