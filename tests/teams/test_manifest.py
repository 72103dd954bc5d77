"""``plcbot teams-manifest``: a package Teams accepts for sideloading."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.app import build_app
from bot.cli import main
from bot.settings import load_settings

APP_ID = "6F1C2D3E-4A5B-4C6D-8E7F-0A1B2C3D4E5F"


@pytest.fixture(autouse=True)
def _scratch_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'plcbot.db'}")
    monkeypatch.delenv("PLCBOT_PUBLIC_URL", raising=False)


def package(tmp_path: Path, *extra: str) -> tuple[dict[str, object], zipfile.ZipFile]:
    out = tmp_path / "plcbot-teams.zip"
    code = main(
        [
            "--env-file",
            os.devnull,  # no settings file: only what the command line says
            "teams-manifest",
            "--app-id",
            APP_ID,
            "--out",
            str(out),
            *extra,
        ]
    )
    assert code == 0
    archive = zipfile.ZipFile(out)
    return json.loads(archive.read("manifest.json")), archive


def test_the_package_holds_a_valid_manifest_and_both_icons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, archive = package(tmp_path, "--public-url", "https://plcbot.district.example/")
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert manifest["manifestVersion"] == "1.25"
    assert manifest["$schema"] == (
        "https://developer.microsoft.com/json-schemas/teams/v1.25/MicrosoftTeams.schema.json"
    )
    assert manifest["id"] == APP_ID.lower()
    assert manifest["version"] == "0.1.0"
    developer = manifest["developer"]
    assert isinstance(developer, dict)
    assert developer["privacyUrl"] == "https://plcbot.district.example/teams/about#privacy"
    assert all(
        str(developer[k]).startswith("https://")
        for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
    )
    assert manifest["validDomains"] == ["plcbot.district.example"]
    assert manifest["supportsChannelFeatures"] == "tier1"
    [bot] = manifest["bots"]  # type: ignore[misc]
    assert bot["botId"] == APP_ID.lower()
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    expected = [spec.name for spec in build_app(load_settings({}, env_file=None)).router.commands]
    assert "team" in expected
    for command_list in bot["commandLists"]:
        titles = [c["title"] for c in command_list["commands"]]
        assert titles == [*expected, "help"]  # the router's command words, as in Slack
        assert all(len(c["description"]) <= 128 for c in command_list["commands"])
    assert "authorization" not in manifest  # reading all channel messages is opt-in

    color = Image.open(io.BytesIO(archive.read("color.png")))
    assert color.size == (192, 192) and color.format == "PNG"
    assert len({pixel[:3] for pixel in color.convert("RGBA").get_flattened_data()}) > 2
    outline = Image.open(io.BytesIO(archive.read("outline.png"))).convert("RGBA")
    assert outline.size == (32, 32)
    pixels = list(outline.get_flattened_data())
    assert {p[:3] for p in pixels if p[3] > 0} == {(255, 255, 255)}  # white only
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)
    assert "commands: " + ", ".join([*expected, "help"]) in capsys.readouterr().out


def test_reading_thread_replies_without_mentions_is_an_explicit_choice(tmp_path: Path) -> None:
    manifest, _archive = package(
        tmp_path,
        "--website-url",
        "https://district.example/it",
        "--privacy-url",
        "https://district.example/privacy",
        "--terms-url",
        "https://district.example/terms",
        "--read-channel-messages",
        "--version",
        "1.4.2",
    )
    assert manifest["version"] == "1.4.2"
    assert manifest["authorization"] == {
        "permissions": {
            "resourceSpecific": [{"name": "ChannelMessage.Read.Group", "type": "Application"}]
        }
    }
    assert manifest["webApplicationInfo"]["id"] == APP_ID.lower()  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--app-id", "my-bot"], "--app-id: 'my-bot' is not a Microsoft App ID"),
        (["--app-id", APP_ID], "--public-url: Teams needs https links"),
        (
            ["--app-id", APP_ID, "--public-url", "http://plcbot.local"],
            "--public-url: Teams needs an https",
        ),
        (["--app-id", APP_ID, "--public-url", "https://x.example", "--version", "2"], "--version:"),
    ],
)
def test_mistakes_are_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    out = tmp_path / "x.zip"
    assert main(["teams-manifest", *args, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"plcbot: {complaint}") and len(error.strip().splitlines()) == 1
    assert not out.exists()
