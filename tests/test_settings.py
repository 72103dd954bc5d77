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


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@db:abc/plc", "needs a port that is a number 1-65535"),
        ("postgresql://u@db:70000/plc", "needs a port that is a number 1-65535"),
        ("postgresql://u@db:0/plc", "needs a port that is a number 1-65535"),
        ("postgresql://u@[::1/plc", "cannot read it as a URL"),
        ("sqlite+aiosqlite://", "an in-memory SQLite database forgets everything"),
        ("sqlite:///:memory:", "an in-memory SQLite database forgets everything"),
        ("sqlite:///file::memory:?cache=shared&uri=true", "an in-memory SQLite database"),
        ("postgresql://u@db/plc?sslmode=sometimes", "sslmode='sometimes' is not one of disable"),
        ("postgresql://u@db/plc?sslmod=require", "plcbot does not know the option 'sslmod'"),
        ("postgresql://u@db/plc?connect_timeout=soon", "connect_timeout='soon' is not a whole"),
        ("postgresql://u@db/plc?target_session_attrs=any-old", "target_session_attrs='any-old'"),
    ],
)
def test_a_database_url_that_cannot_work_is_refused_up_front(url: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"DATABASE_URL": url}, env_file=None)
    assert str(caught.value).startswith("DATABASE_URL: ")
    assert expected in str(caught.value)


def test_libpq_options_are_accepted_and_passwords_in_them_hidden() -> None:
    url = (
        "postgresql://plc:pw-secret@db:5432/plc?sslmode=verify-full&sslrootcert=/etc/ca.pem"
        "&sslpassword=key-secret&application_name=plcbot&connect_timeout=10"
    )
    s = load_settings({"DATABASE_URL": url}, env_file=None)
    assert s.database_url == url.replace("postgresql://", "postgresql+asyncpg://")
    shown = repr(s) + str(s.describe())
    assert "pw-secret" not in shown and "key-secret" not in shown
    assert "sslrootcert=/etc/ca.pem" in shown


def test_describe_shows_the_feature_settings_as_they_will_be_used() -> None:
    s = load_settings(
        {
            "PLCBOT_REFLECT_WINDOW_DAYS": "3",
            "PLCBOT_SCHOOL_WEEKEND": "none",
            "PLCBOT_SCHOOL_YEAR": "2026-08-24..2027-06-11",
            "PLCBOT_SCHOOL_CALENDAR": "/srv/district.ics",
        },
        env_file=None,
    )
    rows = dict(s.describe())
    assert rows["PLCBOT_REFLECT_WINDOW_DAYS"] == "3"
    assert rows["PLCBOT_REFLECT_REMINDER_DAYS"] == "1"
    assert rows["PLCBOT_SCHOOL_WEEKEND"] == "none"
    assert rows["PLCBOT_SCHOOL_YEAR"] == "2026-08-24..2027-06-11"
    assert rows["PLCBOT_SCHOOL_CALENDAR"] == "/srv/district.ics"
    assert rows["PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS"] == "False"
    assert rows["PLCBOT_COMMITMENTS_NUDGE_TIME"] == "15:30"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"PLCBOT_REFLECT_WINDOW_DAYS": "9"}, "PLCBOT_REFLECT_WINDOW_DAYS"),
        ({"PLCBOT_REFLECT_REMINDER_DAYS": "2"}, "PLCBOT_REFLECT_REMINDER_DAYS"),
        ({"PLCBOT_SCHOOL_YEAR": "next year"}, "PLCBOT_SCHOOL_YEAR"),
        ({"PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS": "perhaps"}, "PLCBOT_CALENDAR_ALLOW_PRIVATE_URLS"),
        ({"PLCBOT_COMMITMENTS_NUDGE_TIME": "teatime"}, "PLCBOT_COMMITMENTS_NUDGE_TIME"),
    ],
)
def test_describe_reports_a_bad_feature_setting(env: dict[str, str], names: str) -> None:
    s = load_settings(env, env_file=None)
    with pytest.raises(SettingsError) as caught:
        s.describe()
    assert str(caught.value).startswith(names + ":")
