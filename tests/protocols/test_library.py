"""The built-in library: every file loads, and the library keeps the promises made about it."""

import re
from pathlib import Path

import pytest

from protocols.loader import LIBRARY_DIR, files_in, load_file, load_library
from protocols.schema import Protocol, Speaker, StepKind

FILES = files_in(LIBRARY_DIR)
REQUIRED = {
    "tuning",
    "consultancy",
    "data-driven-dialogue",
    "atlas-data",
    "atlas-student-work",
    "collaborative-assessment-conference",
    "success-analysis",
    "four-as",
    "final-word",
    "chalk-talk",
    "peeling-the-onion",
    "issaquah-coaching",
    "microlabs",
    "compass-points",
    "charrette",
    "future-protocol",
    "pdsa-cycle",
    "team-norms",
    "qpls-discussion-guide",
}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_library_file_loads_and_validates(path: Path) -> None:
    loaded = load_file(path)
    assert loaded.problems == ()
    assert loaded.protocol is not None
    assert loaded.protocol.id == path.stem  # one file per protocol, named for its id


def test_the_library_has_at_least_eighteen_protocols_including_the_named_ones() -> None:
    library = load_library()
    assert library.problems == []
    assert len(library) >= 18
    assert set(library.protocols) >= REQUIRED


def _all() -> list[Protocol]:
    return list(load_library())


def test_each_protocol_credits_its_origin_without_trademarked_names() -> None:
    for p in _all():
        assert len(p.credit) > 40, p.id
        raw = (LIBRARY_DIR / f"{p.id}.yaml").read_text()
        assert "critical friends group" not in raw.casefold(), p.id
        assert not re.search(r"\bCFGs?\b", raw), p.id


def test_dilemma_protocols_say_to_use_them_once_trust_is_built() -> None:
    dilemmas = [p for p in _all() if "dilemma" in p.tags]
    assert {"consultancy", "peeling-the-onion"} <= {p.id for p in dilemmas}
    for p in dilemmas:
        assert any("built trust" in note for note in p.facilitator_notes), p.id


def test_every_protocol_ends_in_something_the_team_can_act_on() -> None:
    """A next-steps step is what turns a discussion into commitments."""
    for p in _all():
        assert any(s.kind == StepKind.NEXT_STEPS for s in p.steps), p.id


def test_presenter_silent_steps_are_participant_steps_and_anonymity_never_hides_a_presenter() -> (
    None
):
    for p in _all():
        for s in p.steps:
            if s.presenter_silent:
                assert s.who == Speaker.PARTICIPANTS and p.has_presenter, (p.id, s.id)
            if s.anonymous:
                assert s.who not in (Speaker.PRESENTER, Speaker.FACILITATOR), (p.id, s.id)


def test_the_standards_own_discussion_guide_follows_the_seed() -> None:
    guide = load_library().protocols["qpls-discussion-guide"]
    titles = [s.title.casefold() for s in guide.steps]
    assert titles[0] == "warm-up"
    assert [t.split(":")[0] for t in titles[1:4]] == ["element a", "element b", "element c"]
    assert titles[-1] == "take action"
    assert len(guide.indicators) == 14
    assert any("not a tool for evaluating" in n for n in guide.facilitator_notes)


def test_names_resolve_forgivingly_and_unknown_names_get_suggestions() -> None:
    library = load_library()
    assert library.find("Tuning Protocol") is library.protocols["tuning"]
    assert library.find("ATLAS looking at data") is library.protocols["atlas-data"]
    assert library.find("cac") is library.protocols["collaborative-assessment-conference"]
    assert library.find("frobnicate") is None
    assert library.suggest("tunning")[0] == "tuning"
    assert "consultancy" in library.suggest("consultncy")


def test_search_by_indicator_element_or_words() -> None:
    library = load_library()
    b2 = {p.id for p in library.search("B2")}
    assert {"consultancy", "peeling-the-onion", "issaquah-coaching", "tuning"} <= b2
    assert {p.id for p in library.search("c5")} == {p.id for p in library if "C5" in p.indicators}
    element_c = {p.id for p in library if any(code.startswith("C") for code in p.indicators)}
    assert {p.id for p in library.search("C")} == element_c
    assert {p.id for p in library.search("student work")} >= {
        "atlas-student-work",
        "collaborative-assessment-conference",
    }
    assert library.search("no such words here") == []
    # a query of only punctuation or emoji names nothing: it must not list everything
    assert library.search("?!") == [] and library.search("\U0001f600") == []
    assert len(library.search("  ")) == len(list(library))  # an empty query is the full list
