"""``plcbot protocols``: check protocol files before deploying them, and see the library.

``validate`` prints one line per problem, ``FILE:LINE: FIELD: MESSAGE``, the form editors and
CI logs understand, and exits 1 if any file is invalid. ``list`` shows what the bot will load
with the current settings (the built-in library plus ``PLCBOT_PROTOCOLS_DIR``), and reports
files it would skip.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from protocols.loader import files_in, load_library, validate_files


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "protocols", help="list the protocol library, or check your own protocol files"
    )
    sub = parser.add_subparsers(dest="protocols_command", required=True, metavar="ACTION")
    validate = sub.add_parser(
        "validate", help="check protocol files (YAML); prints FILE:LINE: FIELD: problem"
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="files or folders to check")
    validate.set_defaults(run=run_validate)
    listing = sub.add_parser("list", help="the protocols plcbot will load with these settings")
    listing.set_defaults(run=run_list)


def run_validate(args: argparse.Namespace) -> int:
    paths: list[Path] = []
    for raw in args.files:
        path = Path(raw)
        paths.extend(files_in(path) if path.is_dir() else [path])
    bad = 0
    for loaded in validate_files(paths):
        if loaded.protocol is None:
            bad += 1
            for problem in loaded.problems:
                print(problem)
        else:
            p = loaded.protocol
            print(f"{loaded.path}: ok ({p.id} v{p.version}, {len(p.steps)} steps, {p.minutes} min)")
    if bad:
        print(f"{bad} of {len(paths)} file(s) have problems.", file=sys.stderr)
    return 1 if bad else 0


def _codes(codes: tuple[str, ...]) -> str:
    return "all 14 indicators" if len(codes) == 14 else " ".join(codes)


def run_list(args: argparse.Namespace) -> int:
    from bot.settings import settings_from

    settings = settings_from(args)
    logging.getLogger("protocols.loader").setLevel(logging.ERROR)  # problems are printed below
    library = load_library(settings.protocols_dir)
    width = max((len(p.id) for p in library), default=10)
    for p in library:
        origin = " (custom)" if p.id in library.custom else ""
        print(
            f"{p.id.ljust(width)}  {p.minutes:>3} min  {_codes(p.indicators):<20}  "
            f"{p.title}{origin}"
        )
    for problem in library.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    return 0
