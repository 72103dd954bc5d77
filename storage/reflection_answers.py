"""Reflection answers and teams' own prompts.

Privacy lives here, not in the callers: the only functions that return an answer's text are
:func:`member_answers` (a member's own, by their member id) and :func:`shared_answers`
(answers their authors chose to share; anonymous ones only when at least :data:`ANON_MINIMUM`
members answered that round). Nothing else selects ``body``.

An answer saved after its round closed is *late*: the digest had gone out without it, and it
never joins it, so redrawing a digest (after an answer in it is deleted or un-shared) shows
only what was given while the round was open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MemberRow
from storage.reflection_models import (
    ReflectionAnswerRow,
    ReflectionDeliveryRow,
    ReflectionPromptRow,
    ReflectionRoundRow,
)
from storage.reflections import (
    ANSWERED,
    PASSED,
    REACHED,
    SENT,
    SKIPPED,
    Delivery,
    set_delivery_state,
)
from storage.upsert import insert_for

PRIVATE, TEAM, ANON = "private", "team", "anon"
ANON_MINIMUM = 3  # anonymous answers are shown only when at least this many members answered


@dataclass(frozen=True, slots=True)
class MyAnswer:
    id: int
    delivery_id: int
    indicator: str
    prompt_text: str
    body: str
    share: str
    created_at: datetime
    late: bool = False


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    id: int
    late: bool  # given after the round closed (kept out of its digest)
    replaced_at: datetime | None  # when the answer this one replaced was saved; None: new


@dataclass(frozen=True, slots=True)
class ChangedAnswer:
    """Where a deleted or re-shared answer belonged, so its round's digest can be redrawn."""

    round_id: int
    late: bool


@dataclass(frozen=True, slots=True)
class SharedAnswer:
    indicator: str
    body: str
    author: str | None  # None when shared anonymously


@dataclass(frozen=True, slots=True)
class Participation:
    reached: int  # members who got the prompt
    answered: int
    passed: int


@dataclass(frozen=True, slots=True)
class TeamPrompt:
    id: int
    indicator: str
    body: str


async def participation(
    session: AsyncSession, round_id: int, *, on_time_only: bool = False
) -> Participation:
    """``on_time_only``: count only answers given while the round was open (as its digest)."""
    rows = await session.execute(
        select(ReflectionDeliveryRow.state, func.count())
        .where(ReflectionDeliveryRow.round_id == round_id)
        .group_by(ReflectionDeliveryRow.state)
    )
    counts = {state: int(n) for state, n in rows.all()}
    return Participation(
        reached=sum(counts.get(s, 0) for s in REACHED),
        answered=await _answer_count(session, round_id, on_time_only=on_time_only),
        passed=counts.get(PASSED, 0),
    )


async def _answer_count(session: AsyncSession, round_id: int, *, on_time_only: bool) -> int:
    stmt = (
        select(func.count())
        .select_from(ReflectionAnswerRow)
        .where(ReflectionAnswerRow.round_id == round_id)
    )
    if on_time_only:
        stmt = stmt.where(ReflectionAnswerRow.late.is_(False))
    return int(await session.scalar(stmt) or 0)


# -- answers ---------------------------------------------------------------------------------


async def save_answer(
    session: AsyncSession, delivery: Delivery, body: str, share: str, now: datetime, *, late: bool
) -> SavedAnswer:
    """Store (or replace) the member's answer to this delivery.

    ``late``: the round has closed. A replacement keeps the answer's first ``late``, so an
    answer given in time stays in its digest after an edit and a late one stays out of it.
    """
    before = (
        await session.execute(
            select(ReflectionAnswerRow.updated_at, ReflectionAnswerRow.late).where(
                ReflectionAnswerRow.delivery_id == delivery.id
            )
        )
    ).first()
    stmt = insert_for(session, ReflectionAnswerRow).values(
        delivery_id=delivery.id,
        round_id=delivery.round_id,
        team_id=delivery.team_id,
        member_id=delivery.member_id,
        indicator=delivery.indicator,
        body=body,
        share=share,
        late=late,
        created_at=now,
        updated_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["delivery_id"],
        set_={"body": stmt.excluded.body, "share": stmt.excluded.share, "updated_at": now},
    )
    await session.execute(stmt)
    await set_delivery_state(session, delivery.id, ANSWERED, only_from=(SENT, PASSED, ANSWERED))
    saved = (
        await session.execute(
            select(ReflectionAnswerRow.id, ReflectionAnswerRow.late).where(
                ReflectionAnswerRow.delivery_id == delivery.id
            )
        )
    ).one()
    return SavedAnswer(saved.id, bool(saved.late), before.updated_at if before else None)


async def count_member_answers(session: AsyncSession, member_id: int) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(ReflectionAnswerRow)
        .where(ReflectionAnswerRow.member_id == member_id)
    )
    return int(found or 0)


async def member_answers(
    session: AsyncSession, member_id: int, limit: int = 20, offset: int = 0
) -> list[MyAnswer]:
    """A member's own answers, newest first (their text: only ever for that member)."""
    rows = await session.execute(
        select(ReflectionAnswerRow, ReflectionDeliveryRow.prompt_text)
        .join(ReflectionDeliveryRow, ReflectionDeliveryRow.id == ReflectionAnswerRow.delivery_id)
        .where(ReflectionAnswerRow.member_id == member_id)
        .order_by(ReflectionAnswerRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [
        MyAnswer(a.id, a.delivery_id, a.indicator, prompt, a.body, a.share, a.created_at, a.late)
        for a, prompt in rows.all()
    ]


async def _own(
    session: AsyncSession, answer_id: int, member_id: int
) -> tuple[int, int, bool] | None:
    """(delivery id, round id, late) of one of the member's own answers."""
    found = (
        await session.execute(
            select(
                ReflectionAnswerRow.delivery_id,
                ReflectionAnswerRow.round_id,
                ReflectionAnswerRow.late,
            ).where(ReflectionAnswerRow.id == answer_id, ReflectionAnswerRow.member_id == member_id)
        )
    ).first()
    return (found.delivery_id, found.round_id, bool(found.late)) if found else None


async def delete_answer(
    session: AsyncSession, answer_id: int, member_id: int
) -> ChangedAnswer | None:
    """Delete one of the member's own answers; None if it isn't theirs (or is gone)."""
    found = await _own(session, answer_id, member_id)
    if found is None:
        return None
    delivery_id, round_id, late = found
    await session.execute(delete(ReflectionAnswerRow).where(ReflectionAnswerRow.id == answer_id))
    await set_delivery_state(session, delivery_id, SENT, only_from=(ANSWERED,))
    return ChangedAnswer(round_id, late)


async def set_share(
    session: AsyncSession, answer_id: int, member_id: int, share: str
) -> ChangedAnswer | None:
    """Change who may read one of the member's own answers; None if it isn't theirs."""
    found = await _own(session, answer_id, member_id)
    if found is None:
        return None
    await session.execute(
        update(ReflectionAnswerRow).where(ReflectionAnswerRow.id == answer_id).values(share=share)
    )
    return ChangedAnswer(found[1], found[2])


async def shared_answers(session: AsyncSession, round_id: int) -> list[SharedAnswer]:
    """What the team may read: answers shared with names, and anonymous ones when safe.

    Late answers never count: the digest went out without them.
    """
    answered = await _answer_count(session, round_id, on_time_only=True)
    shares = [TEAM, ANON] if answered >= ANON_MINIMUM else [TEAM]
    rows = await session.execute(
        select(ReflectionAnswerRow.indicator, ReflectionAnswerRow.body, ReflectionAnswerRow.share)
        .add_columns(MemberRow.display_name)
        .join(MemberRow, MemberRow.id == ReflectionAnswerRow.member_id)
        .where(
            ReflectionAnswerRow.round_id == round_id,
            ReflectionAnswerRow.share.in_(shares),
            ReflectionAnswerRow.late.is_(False),
        )
        .order_by(ReflectionAnswerRow.indicator, ReflectionAnswerRow.share.desc())
    )
    out = [
        SharedAnswer(indicator, body, name if share == TEAM else None)
        for indicator, body, share, name in rows.all()
    ]
    # Anonymous answers come in no stored order, so their position never hints at who wrote them.
    return sorted(out, key=lambda a: (a.indicator, a.author is None, a.author or a.body))


async def coverage(session: AsyncSession, team_id: int, since: date) -> dict[str, tuple[int, int]]:
    """indicator -> (rounds that asked about it, answers to it) since ``since``; counts only."""
    rounds = await session.execute(
        select(ReflectionRoundRow.indicator, func.count())
        .where(
            ReflectionRoundRow.team_id == team_id,
            ReflectionRoundRow.local_date >= since,
            ReflectionRoundRow.state != SKIPPED,
        )
        .group_by(ReflectionRoundRow.indicator)
    )
    answers = await session.execute(
        select(ReflectionAnswerRow.indicator, func.count())
        .join(ReflectionRoundRow, ReflectionRoundRow.id == ReflectionAnswerRow.round_id)
        .where(ReflectionAnswerRow.team_id == team_id, ReflectionRoundRow.local_date >= since)
        .group_by(ReflectionAnswerRow.indicator)
    )
    out: dict[str, tuple[int, int]] = {code: (int(n), 0) for code, n in rounds.all()}
    for code, n in answers.all():
        out[code] = (out.get(code, (0, 0))[0], int(n))
    return out


# -- teams' own prompts ----------------------------------------------------------------------


async def add_prompt(
    session: AsyncSession, team_id: int, indicator: str, body: str, by: int, now: datetime
) -> int:
    row = ReflectionPromptRow(
        team_id=team_id, indicator=indicator, body=body, created_by=by, created_at=now
    )
    session.add(row)
    await session.flush()
    return row.id


async def team_prompts(session: AsyncSession, team_id: int) -> list[TeamPrompt]:
    rows = await session.scalars(
        select(ReflectionPromptRow)
        .where(ReflectionPromptRow.team_id == team_id)
        .order_by(ReflectionPromptRow.indicator, ReflectionPromptRow.id)
    )
    return [TeamPrompt(r.id, r.indicator, r.body) for r in rows.all()]


async def remove_prompt(session: AsyncSession, team_id: int, prompt_id: int) -> bool:
    result = await session.execute(
        delete(ReflectionPromptRow).where(
            ReflectionPromptRow.id == prompt_id, ReflectionPromptRow.team_id == team_id
        )
    )
    return bool(getattr(result, "rowcount", 0))
