"""Reading protocol files: the built-in library plus a school's own folder.

A broken file must never stop the bot, and whoever wrote it needs to find the mistake, so every
problem is reported as ``file:line: field: what is wrong``. Lines come from PyYAML's node marks:
the file is composed into nodes once to learn where each key and list item sits, then the
plain data is validated by the schema and each error's location is mapped back to a line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.indicators import parse_codes
from bot.parsing import closest
from protocols.schema import Protocol

log = logging.getLogger(__name__)

LIBRARY_DIR = Path(__file__).parent / "library"
PATTERNS = ("*.yaml", "*.yml")
MAX_FILE_BYTES = 256 * 1024

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one file, located as precisely as the file allows."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Loaded:
    path: Path
    protocol: Protocol | None
    problems: tuple[Problem, ...] = ()


def field_name(loc: Loc) -> str:
    """``("steps", 2, "minutes")`` -> ``steps#3.minutes`` (list items count from 1)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"#{part + 1}"
        else:
            out += ("." if out else "") + part
    return out or "(file)"


class _Marks:
    """Where each key and item of a YAML document starts, by its path in the data."""

    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}
        self.duplicates: list[tuple[Loc, int]] = []

    def walk(self, node: yaml.Node, loc: Loc) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                here = (*loc, key)
                if key in seen:
                    self.duplicates.append((here, key_node.start_mark.line + 1))
                seen.add(key)
                self.lines[here] = key_node.start_mark.line + 1
                self.walk(value_node, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines[(*loc, i)] = item.start_mark.line + 1
                self.walk(item, (*loc, i))

    def line_for(self, loc: Loc) -> int:
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1


def _message(error: Mapping[str, Any], data: Any) -> str:
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    if kind == "extra_forbidden":
        known = _known_fields(loc[:-1], data)
        guesses = closest(str(loc[-1]), known) if known else []
        hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
        return f"unknown field{hint}"
    if kind == "missing":
        return "required field is missing"
    message = str(error.get("msg", "invalid"))
    return re.sub(r"^(Value|Assertion) error, ", "", message)


def _known_fields(loc: Loc, data: Any) -> list[str]:
    from protocols.schema import GroupSize, Step

    if not loc:
        return list(Protocol.model_fields)
    if loc[0] == "steps":
        return list(Step.model_fields)
    if loc[0] == "group_size":
        return list(GroupSize.model_fields)
    return []


def _clean_loc(loc: Iterable[Any]) -> Loc:
    # Pydantic adds the validator's name to some locations ("function-after[...]"); drop them.
    return tuple(p for p in loc if isinstance(p, int) or not str(p).startswith("function-"))


# libyaml when PyYAML was built with it (it is ~20x faster); its nodes carry marks too.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers) and the plain data built from it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def parse(text: str, name: str) -> tuple[Protocol | None, list[Problem]]:
    """Validate one document's text; ``name`` is how problems refer to the file."""
    try:
        node, data = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "not valid YAML"
        return None, [Problem(name, line, "(yaml)", problem)]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, "(yaml)", str(exc).splitlines()[0])]
    if not isinstance(data, dict) or node is None:
        return None, [Problem(name, 1, "(file)", "expected a protocol: a mapping of fields")]
    marks = _Marks()
    marks.walk(node, ())
    problems = [
        Problem(name, line, field_name(loc), "this key appears twice; the second one would win")
        for loc, line in marks.duplicates
    ]
    if "indicators" in data and isinstance(data["indicators"], list):
        data["indicators"] = _expand_indicators(data["indicators"], marks, name, problems)
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        errors = [(_clean_loc(e.get("loc", ())), e) for e in exc.errors()]
        for loc, error in errors:
            if error.get("type") == "too_short" and any(
                other[: len(loc)] == loc and len(other) > len(loc) for other, _ in errors
            ):
                continue  # "needs at least one step" only because the steps themselves failed
            problems.append(
                Problem(name, marks.line_for(loc), field_name(loc), _message(error, data))
            )
        problems.sort(key=lambda p: p.line)
        return None, problems
    return (None, problems) if problems else (protocol, [])


def _expand_indicators(
    raw: list[Any], marks: _Marks, name: str, problems: list[Problem]
) -> list[str]:
    """Indicator lists may name a whole element ("A") as shorthand for its indicators."""
    codes: list[str] = []
    for i, item in enumerate(raw):
        try:
            codes.extend(parse_codes(str(item)))
        except ValueError as exc:
            loc: Loc = ("indicators", i)
            problems.append(
                Problem(
                    name,
                    marks.line_for(loc),
                    field_name(loc),
                    f"{exc} is not an indicator of the standard (use A1-A5, B1-B4, C1-C5)",
                )
            )
    return list(dict.fromkeys(codes))


def load_file(path: Path) -> Loaded:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problem = f"the file is {size:,} bytes; a protocol fits in {MAX_FILE_BYTES:,}"
            return Loaded(path, None, (Problem(name, 1, "(file)", problem),))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Loaded(path, None, (Problem(name, 1, "(file)", "not UTF-8 text"),))
    except OSError as exc:
        return Loaded(path, None, (Problem(name, 1, "(file)", exc.strerror or str(exc)),))
    protocol, problems = parse(text, name)
    return Loaded(path, protocol, tuple(problems))


def files_in(folder: Path) -> list[Path]:
    found: set[Path] = set()
    for pattern in PATTERNS:
        found.update(p for p in folder.glob(pattern) if p.is_file())
    return sorted(found)


@dataclass
class Library:
    """The protocols plcbot can run, by id, and what went wrong loading the others."""

    protocols: dict[str, Protocol] = field(default_factory=dict)
    origins: dict[str, Path] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    custom: set[str] = field(default_factory=set)

    def __iter__(self) -> Iterator[Protocol]:
        return iter(sorted(self.protocols.values(), key=lambda p: p.title.casefold()))

    def __len__(self) -> int:
        return len(self.protocols)

    def get(self, protocol_id: str) -> Protocol | None:
        return self.protocols.get(protocol_id)

    def _names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for protocol in self.protocols.values():
            for name in (*protocol.names, _slug(protocol.title)):
                names.setdefault(name, protocol.id)
        return names

    def find(self, name: str) -> Protocol | None:
        """By id, alias or title, forgiving case, spaces and punctuation."""
        wanted = _slug(name)
        found = self._names().get(wanted)
        return self.protocols[found] if found else None

    def suggest(self, name: str) -> list[str]:
        """The closest ids, for "did you mean"."""
        names = self._names()
        ids: list[str] = []
        for guess in closest(_slug(name), names, n=6):
            if names[guess] not in ids:
                ids.append(names[guess])
        return ids[:3]

    def search(self, query: str) -> list[Protocol]:
        """Protocols serving the indicators named (``B2``, ``A``), or matching all the words."""
        query = query.strip()
        if not query:
            return list(self)
        try:
            codes = set(parse_codes(query))
        except ValueError:
            codes = set()
        if codes:
            return [p for p in self if codes & set(p.indicators)]
        words = [w.casefold() for w in re.findall(r"\w+", query)]
        if not words:  # only punctuation or emoji: it names nothing, so nothing matches
            return []
        return [p for p in self if all(w in _haystack(p) for w in words)]

    def add(self, protocol: Protocol, origin: Path, *, custom: bool) -> None:
        if custom and protocol.id in self.protocols and protocol.id not in self.custom:
            log.info("protocol %r from %s replaces the built-in one (same id)", protocol.id, origin)
        self.protocols[protocol.id] = protocol
        self.origins[protocol.id] = origin
        if custom:
            self.custom.add(protocol.id)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")


def _haystack(protocol: Protocol) -> str:
    parts = [protocol.id, protocol.title, protocol.purpose, protocol.when_to_use, protocol.credit]
    parts.extend(protocol.aliases)
    parts.extend(protocol.tags)
    return " ".join(parts).casefold()


def load_library(custom_dir: Path | None = None, *, builtin_dir: Path = LIBRARY_DIR) -> Library:
    """The built-in library, then ``custom_dir`` (``PLCBOT_PROTOCOLS_DIR``): same id overrides.

    Invalid files are reported in ``problems`` (and logged) and skipped; two custom files with
    the same id keep the first (by file name) and report the second.
    """
    library = Library()
    for folder, custom in ((builtin_dir, False), (custom_dir, True)):
        if folder is None:
            continue
        if not folder.is_dir():
            library.problems.append(Problem(str(folder), 1, "(folder)", "not a folder"))
            continue
        for path in files_in(folder):
            loaded = load_file(path)
            library.problems.extend(loaded.problems)
            if loaded.protocol is None:
                continue
            protocol = loaded.protocol
            if custom and protocol.id in library.custom:
                library.problems.append(
                    Problem(
                        str(path),
                        1,
                        "id",
                        f"{protocol.id!r} is already defined in {library.origins[protocol.id]}; "
                        "this file was skipped",
                    )
                )
                continue
            library.add(protocol, path, custom=custom)
    for problem in library.problems:
        log.warning("protocol file skipped or incomplete: %s", problem)
    return library


def validate_files(paths: Sequence[Path]) -> list[Loaded]:
    return [load_file(path) for path in paths]
