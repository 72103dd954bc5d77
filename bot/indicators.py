"""The standard plcbot serves: "Collaboration and Shared Accountability" and its 14 indicators.

Quality Professional Learning Standards (California Department of Education). The standards
describe quality professional learning; they are not a tool for evaluating educators, and
nothing plcbot says frames them that way. Short titles are plcbot's own; ``text`` follows
the standard's wording.

Also here: the stages of the cycle of continuous improvement from Learning Forward's Learning
Communities standard, which reflections and PDSA-style protocols refer to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STANDARD = "Collaboration and Shared Accountability"
STANDARD_PURPOSE = (
    "Quality professional learning facilitates the development of a shared purpose for student "
    "learning and collective responsibility for achieving it."
)


@dataclass(frozen=True, slots=True)
class Element:
    code: str  # "A"
    title: str
    summary: str


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str  # "A1"
    element: str  # "A"
    title: str  # a short title for chat
    text: str  # the indicator in the standard's words


ELEMENTS = (
    Element(
        "A",
        "Collaborative Culture",
        "A culture of collaboration and mutual trust, where educators work together to "
        "strengthen their practice and improve student learning.",
    ),
    Element(
        "B",
        "Shared Accountability",
        "Educators commit to shared ownership and accountability for effective practice and "
        "student learning.",
    ),
    Element(
        "C",
        "External Networks",
        "External collaborations that give educators with diverse experiences and needs "
        "effective options to improve their practice.",
    ),
)

INDICATORS = (
    Indicator(
        "A1",
        "A",
        "Communities of practice with shared goals",
        "Establishes professional communities of practice to support mutually agreed-upon "
        "student learning goals and outcomes.",
    ),
    Indicator(
        "A2",
        "A",
        "Purposes, agreements and safe sharing",
        "Sets clear purposes, goals, and working agreements that support the sharing of "
        "practices and results within a safe and supportive environment.",
    ),
    Indicator(
        "A3",
        "A",
        "Common language and group-process skills",
        "Integrates a common understanding of the terminology and group process skills involved "
        "in establishing and sustaining a professional community of practice.",
    ),
    Indicator(
        "A4",
        "A",
        "An evidence-based improvement cycle",
        "Structures collective learning around an evidence-based cycle of continuous learning "
        "and improvement, maintaining a consistent focus on shared goals.",
    ),
    Indicator(
        "A5",
        "A",
        "Making practice visible",
        "Supports educators in making practice more transparent, through peer observation, "
        "common planning, and experimentation with feedback.",
    ),
    Indicator(
        "B1",
        "B",
        "Holding ourselves and peers accountable",
        "Emphasizes educators' responsibility to hold themselves and their peers accountable "
        "for upholding professional standards and improving student learning outcomes.",
    ),
    Indicator(
        "B2",
        "B",
        "Naming challenges, getting peer support",
        "Expects educators to identify personal challenges and receive constructive support "
        "from their peers that expands their personal and collective expertise.",
    ),
    Indicator(
        "B3",
        "B",
        "Trying new approaches and sharing results",
        "Extends educators' commitment to try new approaches and share results with their "
        "colleagues.",
    ),
    Indicator(
        "B4",
        "B",
        "Using colleagues' expertise",
        "Presents opportunities to recognize and use the expertise of educators within schools "
        "or districts.",
    ),
    Indicator(
        "C1",
        "C",
        "Working with external providers",
        "Builds educators' skills in working with and evaluating external professional learning "
        "providers.",
    ),
    Indicator(
        "C2",
        "C",
        "Families and community as partners",
        "Includes families, community members, regional partnerships, institutions of higher "
        "education, professional organizations, and others as professional learning providers "
        "and partners.",
    ),
    Indicator(
        "C3",
        "C",
        "Exchanging practices with outside collaborators",
        "Structures opportunities for educators and external collaborators to exchange "
        "promising practices and resources.",
    ),
    Indicator(
        "C4",
        "C",
        "Networks with specialised expertise",
        "Capitalizes on relationships with networks that have specialized expertise or "
        "resources, in order to extend educators' access to resources not available locally.",
    ),
    Indicator(
        "C5",
        "C",
        "Technology across communities",
        "Uses technology to support cross-community communications and extend educators' access "
        "to learning and resources.",
    ),
)

BY_CODE = {i.code: i for i in INDICATORS}
ELEMENT_BY_CODE = {e.code: e for e in ELEMENTS}

# Learning Forward, Learning Communities standard: a cycle of continuous improvement; the
# evidence-based cycle that CYCLE_INDICATOR (A4) asks a team to structure its learning around.
# ``/reflect indicators`` shows its stages beside that indicator.
CYCLE_INDICATOR = "A4"
CYCLE_SOURCE = "Learning Forward, Learning Communities standard"
IMPROVEMENT_CYCLE = (
    ("data", "Use data to find student and educator learning needs"),
    ("goals", "Set shared goals for student and educator learning"),
    ("learning", "Learn: content, pedagogy, how students learn"),
    ("strategies", "Choose evidence-based strategies"),
    ("apply", "Apply the learning in classrooms, with support"),
    ("monitor", "Use evidence to monitor and refine"),
    ("evaluate", "Evaluate results"),
)

_CODE = re.compile(r"^[ABC][1-5]$")


def parse_codes(raw: str) -> tuple[str, ...]:
    """``"A, b3 #C1"`` -> ``("A1".."A5", "B3", "C1")``; an element letter means all its indicators.

    Raises ``ValueError`` naming the first code that is not an indicator, so callers can say so.
    """
    found: list[str] = []
    for token in re.split(r"[\s,;]+", raw.strip()):
        code = token.strip().lstrip("#").upper()
        if not code:
            continue
        if code in ELEMENT_BY_CODE:
            found.extend(i.code for i in INDICATORS if i.element == code)
        elif _CODE.match(code) and code in BY_CODE:
            found.append(code)
        else:
            raise ValueError(code)
    return tuple(dict.fromkeys(found))


def label(code: str) -> str:
    """``"B3 Trying new approaches and sharing results"``."""
    indicator = BY_CODE.get(code)
    return f"{code} {indicator.title}" if indicator else code
