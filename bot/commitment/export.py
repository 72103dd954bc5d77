"""``/commitments export``: the team's commitments a person may see, as a CSV file.

Written for spreadsheets: UTF-8 with a byte-order mark (so Excel reads accents right), one row
per commitment, and cells that would start a formula (``=``, ``+``, ``-``, ``@``) prefixed with
an apostrophe so a typed "=HYPERLINK(...)" stays text (CSV injection). What happened (the
note, the evidence) is left blank for someone the owner has not shared it with yet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.commitment.views import STATUS_LABELS
from bot.messages import Attachment
from storage.commitments import Commitment

COLUMNS = (
    "number",
    "owner",
    "what",
    "how_i_will_know",
    "due",
    "status",
    "visibility",
    "peers",
    "indicators",
    "protocol_session",
    "outcome_note",
    "evidence_link",
    "created",
    "reported",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def rows(commitments: Sequence[Commitment], zone: ZoneInfo, viewer_id: int) -> list[list[str]]:
    out = []
    for c in commitments:
        outcome = c.outcome_visible_to(viewer_id)
        out.append(
            [
                str(c.number),
                c.owner.name,
                c.what,
                c.how_know or "",
                c.due_on.isoformat(),
                STATUS_LABELS[c.status],
                c.visibility,
                "; ".join(p.name for p in c.peers),
                " ".join(c.indicators),
                "" if c.session_id is None else str(c.session_id),
                (c.outcome_note or "") if outcome else "",
                (c.evidence_url or "") if outcome else "",
                c.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                ""
                if c.reported_at is None
                else c.reported_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return out


def csv_file(
    commitments: Sequence[Commitment],
    zone: ZoneInfo,
    team_name: str,
    today: date,
    *,
    viewer_id: int,
) -> Attachment:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows(commitments, zone, viewer_id):
        writer.writerow([safe_cell(cell) for cell in row])
    slug = re.sub(r"[^a-z0-9]+", "-", team_name.lower()).strip("-") or "team"
    return Attachment(
        filename=f"commitments-{slug}-{today.isoformat()}.csv",
        content=buffer.getvalue().encode("utf-8-sig"),
        mime="text/csv",
    )
