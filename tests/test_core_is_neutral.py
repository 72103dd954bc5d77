"""The core must not depend on any chat platform's SDK (architecture rule 1)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "microsoft_agents", "botbuilder", "botframework")
# The command line is where a person picks an adapter (``plcbot console``); nothing else in the
# core may reach into adapters.
MAY_IMPORT_ADAPTERS = {"bot/cli.py"}


def test_no_module_in_bot_imports_a_platform_sdk() -> None:
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                where = str(path.relative_to(ROOT))
                if name.split(".")[0] in PLATFORM_SDKS or (
                    name.startswith("adapters") and where not in MAY_IMPORT_ADAPTERS
                ):
                    offenders.append(f"{where}: {name}")
    assert offenders == []


def test_importing_the_whole_core_loads_no_platform_sdk() -> None:
    """Catches indirect imports too: load every bot module in a clean interpreter."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "bot").rglob("*.py")
        if p.name != "__main__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {PLATFORM_SDKS!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
