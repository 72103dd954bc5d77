"""``plcbot teams-manifest``: the app package a Teams admin uploads to add plcbot to Teams.

The package is a zip of ``manifest.json`` and two icons. The command lists in the manifest
come from plcbot's own router, so Teams suggests exactly the command words plcbot answers to
(the same words as Slack's slash commands), whichever features this build has.
"""

from __future__ import annotations

import argparse
import json
import re
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapters.teams.icons import ACCENT, color_icon, outline_icon
from adapters.teams.pages import ABOUT_PATH
from bot.settings import SettingsError, settings_from

MANIFEST_VERSION = "1.25"
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/"
    "MicrosoftTeams.schema.json"
)
SCOPES = ["team", "personal", "groupChat"]
COLOR_FILE = "color.png"
OUTLINE_FILE = "outline.png"
READ_CHANNEL_MESSAGES = "ChannelMessage.Read.Group"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")

SHORT_DESCRIPTION = "Protocols, reflections and commitments for your PLC."
FULL_DESCRIPTION = (
    "plcbot helps teachers' professional learning communities work together in Teams. Run "
    "discussion protocols (tuning, consultancy, looking at student work and more) with a "
    "shared card that keeps time and turns; get short, private reflection prompts tied to the "
    "Collaboration and Shared Accountability standard; and make commitments to each other, with "
    "friendly reminders and summaries for PLC leads. Your school or district runs plcbot on "
    "its own server; its summaries support growth and are never evaluations of educators."
)


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def command_list(commands: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """Teams allows 10 commands per list, titles up to 32 and descriptions up to 128 chars."""
    return [
        {"title": _clip(name, 32), "description": _clip(summary, 128)}
        for name, summary in commands[:10]
    ]


def build_manifest(
    *,
    app_id: str,
    commands: Sequence[tuple[str, str]],
    name: str,
    developer_name: str,
    website_url: str,
    privacy_url: str,
    terms_url: str,
    version: str,
    read_channel_messages: bool = False,
) -> dict[str, Any]:
    listed = command_list(commands)
    manifest: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {
            "name": _clip(developer_name, 32),
            "websiteUrl": website_url,
            "privacyUrl": privacy_url,
            "termsOfUseUrl": terms_url,
        },
        "name": {"short": _clip(name, 30), "full": _clip(f"{name}: PLC protocols and more", 100)},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": COLOR_FILE, "outline": OUTLINE_FILE},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["team", "groupChat"], "commands": listed},
                    {"scopes": ["personal"], "commands": listed},
                ],
            }
        ],
        # Without this, Teams (manifest 1.25+) refuses to install a team-scoped app in channels.
        "supportsChannelFeatures": "tier1",
        "validDomains": sorted({urlsplit(website_url).hostname or ""} - {""}),
    }
    if read_channel_messages:
        # Resource-specific consent: the team owner agrees, at install, that plcbot receives
        # channel messages that don't mention it (thread replies to a protocol card).
        manifest["webApplicationInfo"] = {"id": app_id, "resource": f"api://{app_id}"}
        manifest["authorization"] = {
            "permissions": {
                "resourceSpecific": [{"name": READ_CHANNEL_MESSAGES, "type": "Application"}]
            }
        }
    return manifest


def write_package(path: Path, manifest: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr(COLOR_FILE, color_icon())
        package.writestr(OUTLINE_FILE, outline_icon())


def _https(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise SettingsError(f"{name}: Teams needs an https:// address here, got {value!r}")
    return value


def _plcbot_version() -> str:
    try:
        version = metadata.version("plcbot")
    except metadata.PackageNotFoundError:
        return "1.0.0"
    return version if _SEMVER.match(version) else "1.0.0"


def run(args: argparse.Namespace) -> int:
    from bot.app import build_app

    if not _GUID.match(args.app_id or ""):
        raise SettingsError(
            f"--app-id: {args.app_id!r} is not a Microsoft App ID; use the Application (client) "
            "ID of your Azure bot, like 6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
        )
    version = args.version or _plcbot_version()
    if not _SEMVER.match(version):
        raise SettingsError(f"--version: {version!r} is not like 1.2.3")
    settings = settings_from(args)
    public = args.public_url or settings.get("PLCBOT_PUBLIC_URL")
    if public:
        public = _https("--public-url", public.rstrip("/"))
    explicit = (args.website_url, args.privacy_url, args.terms_url)
    if not public and not all(explicit):
        raise SettingsError(
            "--public-url: Teams needs https links to a website, privacy and terms page; pass "
            "the address people reach plcbot at (e.g. --public-url https://plcbot.example.org, "
            "where plcbot serves them) or set PLCBOT_PUBLIC_URL"
        )
    about = f"{public}{ABOUT_PATH}"
    bot = build_app(settings, platforms=[])
    commands = [(spec.name, spec.summary) for spec in bot.router.commands]
    commands.append(("help", "What plcbot can do, and how to use each command."))
    manifest = build_manifest(
        app_id=args.app_id.lower(),
        commands=commands,
        name=args.name,
        developer_name=args.developer_name,
        website_url=_https("--website-url", args.website_url or about),
        privacy_url=_https("--privacy-url", args.privacy_url or f"{about}#privacy"),
        terms_url=_https("--terms-url", args.terms_url or f"{about}#terms"),
        version=version,
        read_channel_messages=args.read_channel_messages,
    )
    out = Path(args.out)
    write_package(out, manifest)
    print(f"wrote {out} (Teams app {args.name!r}, version {version}, app id {args.app_id})")
    print(f"commands: {', '.join(name for name, _ in commands)}")
    print("upload it in Teams: Apps > Manage your apps > Upload an app (see docs/teams.md)")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "teams-manifest",
        help="write the Teams app package (manifest and icons) to upload to Teams",
        description="Write a Teams app package (a zip with manifest.json and icons) for plcbot.",
    )
    parser.add_argument(
        "--app-id", required=True, help="the Microsoft App ID of your Azure bot (a GUID)"
    )
    parser.add_argument("--out", default="plcbot-teams.zip", help="the zip to write")
    parser.add_argument(
        "--public-url",
        help="https address of this plcbot server (default PLCBOT_PUBLIC_URL); its about, "
        "privacy and terms page is linked from Teams",
    )
    parser.add_argument("--name", default="PLC Bot", help="the app's name in Teams")
    parser.add_argument("--developer-name", default="plcbot", help="who provides the app")
    parser.add_argument("--website-url", help="instead of the page plcbot serves")
    parser.add_argument("--privacy-url", help="your district's privacy statement")
    parser.add_argument("--terms-url", help="your district's terms of use")
    parser.add_argument("--version", help="package version like 1.0.3; raise it for each update")
    parser.add_argument(
        "--read-channel-messages",
        action="store_true",
        help="ask the team owner, at install, to let plcbot receive thread replies without an "
        "@mention (ChannelMessage.Read.Group)",
    )
    parser.set_defaults(run=run)
