from pathlib import Path

import pytest

from bot.settings import DEFAULT_DATABASE_URL, SettingsError, load_settings


def test_defaults_need_no_configuration() -> None:
    s = load_settings({}, env_file=None)
    assert s.database_url == DEFAULT_DATABASE_URL
    assert (s.host, s.port, s.log_level, s.timezone) == ("0.0.0.0", 3000, "INFO", "UTC")
    assert not s.slack_enabled and not s.teams_enabled


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"PLCBOT_TIMEZONE": "Mars/Olympus"}, "PLCBOT_TIMEZONE"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"TEAMS_ALLOW_ANONYMOUS": "maybe"}, "TEAMS_ALLOW_ANONYMOUS"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"MICROSOFT_APP_ID": "abc"}, "MICROSOFT_APP_PASSWORD"),
        ({"SLACK_CLIENT_ID": "1.2"}, "SLACK_CLIENT_SECRET"),
        ({"PLCBOT_PROTOCOLS_DIR": "/nowhere/at/all"}, "PLCBOT_PROTOCOLS_DIR"),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
    ],
)
def test_a_bad_value_names_its_setting(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env, env_file=None)
    assert str(caught.value).startswith(names + ":")


def test_postgres_urls_are_normalised_to_the_async_driver() -> None:
    s = load_settings({"DATABASE_URL": "postgres://u:pw@db:5432/plc"}, env_file=None)
    assert s.database_url == "postgresql+asyncpg://u:pw@db:5432/plc"
    assert not s.is_sqlite


def test_secrets_never_show(tmp_path: Path) -> None:
    s = load_settings(
        {
            "DATABASE_URL": "postgresql://plc:hunter2secret@db/plc",
            "SLACK_BOT_TOKEN": "xoxb-very-secret-token-1234",
            "SLACK_SIGNING_SECRET": "signing-secret-value",
            "MICROSOFT_APP_ID": "app",
            "MICROSOFT_APP_PASSWORD": "azure-password-value",
        },
        env_file=None,
    )
    shown = repr(s) + str(s.describe())
    for secret in ("hunter2secret", "xoxb-very-secret", "signing-secret-value", "azure-password"):
        assert secret not in shown
    assert "****" in shown


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nLOG_LEVEL=debug\nPLCBOT_REMINDER=2h\n")
    s = load_settings({"PORT": "5000"}, env_file=env_file)
    assert s.port == 5000
    assert s.log_level == "DEBUG"
    assert s.get("PLCBOT_REMINDER") == "2h"


def test_slack_api_url_gets_its_trailing_slash() -> None:
    s = load_settings({"SLACK_API_URL": "http://127.0.0.1:9/api"}, env_file=None)
    assert s.slack_api_url == "http://127.0.0.1:9/api/"
