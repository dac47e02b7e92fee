"""The typed settings: read once from `EPOLICY_*`, every value of its field's type or a clear error at start."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.app import create_app
from gateway.bootstrap import build_services
from gateway.config import Settings, SettingsError


def test_variables_are_read_as_their_fields_types() -> None:
    settings = Settings.from_env(
        "EPOLICY",
        {
            "EPOLICY_WORKER_THREADS": "0",
            "EPOLICY_BACKEND_TIMEOUT": "2.5",
            "EPOLICY_METRICS_ENABLED": "false",
            "EPOLICY_RATELIMIT_ENABLED": "true",
            "EPOLICY_INSURER_URLS": '{"77001": "https://smo.example/soap"}',
            "EPOLICY_DATABASE_URL": "postgresql+psycopg://db/epolicy",
            "EPOLICY_RATELIMIT_PER_ADDRESS": "",  # empty: an optional setting unset
            "OTHER_WORKER_THREADS": "7",  # another prefix: not ours
        },
    )
    assert settings.worker_threads == 0
    assert settings.backend_timeout == 2.5
    assert settings.metrics_enabled is False
    assert settings.ratelimit_enabled is True
    assert settings.insurer_urls == {"77001": "https://smo.example/soap"}
    assert settings.database == "postgresql+psycopg://db/epolicy"
    assert settings.ratelimit_per_address is None
    assert settings.insurer_addresses(["77001", "77002"]) == {
        "77001": "https://smo.example/soap",
        "77002": "http://127.0.0.1:8090/insurers/77002",
    }


def test_the_defaults_hold_when_nothing_is_set() -> None:
    assert Settings.from_env("EPOLICY", {}) == Settings()
    assert Settings().jwks_url == "http://127.0.0.1:8090/oauth/jwks"
    assert Settings(oauth_jwks_url="https://idp.example/keys").jwks_url == "https://idp.example/keys"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EPOLICY_WORKER_THREADS", "two", "EPOLICY_WORKER_THREADS='two': a whole number is expected"),
        ("EPOLICY_BACKEND_TIMEOUT", "10s", "EPOLICY_BACKEND_TIMEOUT='10s': a number is expected"),
        ("EPOLICY_METRICS_ENABLED", "maybe", "EPOLICY_METRICS_ENABLED='maybe': write true or false"),
        ("EPOLICY_INSURER_URLS", "77001=http://x", "EPOLICY_INSURER_URLS='77001=http://x': a JSON object of texts"),
        ("EPOLICY_INSURER_URLS", '{"77001": 5}', "a JSON object of texts is expected"),
    ],
)
def test_a_value_not_of_its_type_stops_the_start_naming_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("?", r"\?")):
        Settings.from_env("EPOLICY", {variable: value})


def test_overrides_by_name_in_capitals_or_by_field_and_an_unknown_name_is_refused() -> None:
    settings = Settings.from_env("EPOLICY", {"EPOLICY_WORKER_BATCH": "3"}, worker_threads=0)
    assert (settings.worker_threads, settings.worker_batch) == (0, 3)
    assert settings.with_values({"WORKER_BATCH": "5", "page_size_max": 10}).worker_batch == 5
    with pytest.raises(SettingsError, match="WORKER_THRADS is no setting of the gateway"):
        settings.with_values({"WORKER_THRADS": 0})


def test_the_app_and_the_commands_use_one_embedded_database(tmp_path: object) -> None:
    settings = Settings.from_env(instance_path=str(tmp_path))  # the session's signing keys (tests/conftest.py)
    app = create_app({"WORKER_THREADS": 0}, settings=settings)
    services = app.extensions["epolicy"]
    assert app.instance_path == str(tmp_path)
    assert settings.database == f"sqlite:///{tmp_path}/epolicy.sqlite3"
    assert services.engine is not None and str(services.engine.url) == settings.database
    services.engine.dispose()
    # Without an instance path the app takes Flask's own choice, and the settings name the same folder.
    default = create_app({"WORKER_THREADS": 0, "DATABASE_URL": "sqlite://"})
    assert default.instance_path == Settings().instance_folder


def test_build_services_builds_the_key_cache_and_the_rate_limits_from_the_settings() -> None:
    settings = Settings.from_env(
        database_url="sqlite://",
        oauth_issuer="https://idp.example/oauth/",
        ratelimit_per_subject="5/minute",
        ratelimit_per_portal=None,
        ratelimit_per_client=None,
        ratelimit_per_address="1/second",
    )
    services = build_services(settings)
    assert services.engine is not None
    services.engine.dispose()
    assert services.settings is settings
    assert services.jwks is not None and services.jwks.url == "https://idp.example/oauth/jwks"
    assert services.rate_limits is not None
    # Only the limits that are set apply: a citizen's and an address's, not a portal's nor a client's.
    assert [str(limit.limit_value) for limit in services.rate_limits.shared] == ["5/minute", "1/second"]


def test_the_commands_build_services_without_a_flask_app(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from gateway import app as app_module
    from gateway.cli import main

    def no_app(*args: object, **kwargs: object) -> None:
        raise AssertionError("a command that serves no HTTP built a Flask app")

    monkeypatch.setattr(app_module, "create_app", no_app)
    monkeypatch.setenv("EPOLICY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    listed = runner.invoke(main, ["stalled"])
    assert listed.exit_code == 0, listed.output
    assert "0 stalled" in listed.output


def test_the_readme_names_every_setting() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = " ".join(line for line in section.splitlines() if line.startswith("| `"))
    missing = [
        name
        for name in sorted(Settings.names())
        if f"`{name}`" not in table and f"_{name.split('_', 1)[1]}`" not in table
    ]
    assert missing == []


def test_a_relative_instance_path_is_one_folder_for_the_app_and_the_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    settings = Settings(instance_path="data")
    assert settings.instance_folder == f"{tmp_path}/data"
    assert settings.database == f"sqlite:///{tmp_path}/data/epolicy.sqlite3"


def test_every_bad_value_is_named_at_once_not_the_first_alone() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(
            "EPOLICY",
            {
                "EPOLICY_WORKER_THREADS": "two",
                "EPOLICY_BACKEND_TIMEOUT": "10s",
                "EPOLICY_RATELIMIT_PER_SUBJECT": "lots",
                "EPOLICY_DATABASE_URL": "epolicy.sqlite3",
                "EPOLICY_INSURERS_FILE": "/no/such/insurers.yaml",
                "EPOLICY_PAGE_SIZE_MAX": "50",  # a good one among them
            },
        )
    problems = raised.value.problems
    named = sorted(problem.split("=", 1)[0] for problem in problems)
    assert named == [
        "EPOLICY_BACKEND_TIMEOUT",
        "EPOLICY_DATABASE_URL",
        "EPOLICY_INSURERS_FILE",
        "EPOLICY_RATELIMIT_PER_SUBJECT",
        "EPOLICY_WORKER_THREADS",
    ]
    assert str(raised.value).splitlines() == list(problems)
    assert "EPOLICY_RATELIMIT_PER_SUBJECT='lots' is no rate limit: write it as '60/minute'" in str(raised.value)
    assert "EPOLICY_DATABASE_URL='epolicy.sqlite3' is no database URL" in str(raised.value)


def test_a_limit_the_limiter_cannot_read_is_named_as_the_operator_sets_it() -> None:
    from gateway.ratelimit import build_limiter

    # Settings made in code (not read from the environment) reach the limiter unchecked: it names the variable too.
    with pytest.raises(ValueError, match=r"^EPOLICY_RATELIMIT_PER_SUBJECT='lots' is no rate limit"):
        build_limiter(Settings(ratelimit_per_subject="lots"))


def test_a_variable_that_is_no_setting_is_warned_about_with_the_setting_likeliest_meant() -> None:
    from gateway.config import unknown_variables

    environ = {
        "EPOLICY_WORKER_THRADS": "4",
        "EPOLICY_RATELIMIT_PER_SUBJET": "5/minute",
        "EPOLICY_ZZZ": "1",
        # Settings, and variables read elsewhere: no warning.
        "EPOLICY_WORKER_THREADS": "4",
        "EPOLICY_PORT": "8081",
        "EPOLICY_MOCKS_PORT": "8091",
        "EPOLICY_LOG_LEVEL": "DEBUG",
        "EPOLICY_WEB_WORKERS": "4",
        "EPOLICY_TEST_POSTGRESQL_URL": "postgresql://x",
        "EPOLICY_SOAK_CLIENTS": "8",
        "EPOLICY_MOCKS_SEED": "seed.yaml",
        "EPOLICY_INSTALL_CHROMIUM": "no",
        "OTHER_WORKER_THRADS": "4",
    }
    assert unknown_variables(environ) == [
        "EPOLICY_RATELIMIT_PER_SUBJET is no setting of the gateway and is ignored: "
        "did you mean EPOLICY_RATELIMIT_PER_SUBJECT?",
        "EPOLICY_WORKER_THRADS is no setting of the gateway and is ignored: did you mean EPOLICY_WORKER_THREADS?",
        "EPOLICY_ZZZ is no setting of the gateway and is ignored: README.md, Configuration, lists the settings",
    ]


def test_every_epolicy_variable_the_repository_reads_is_known_so_none_is_warned_about() -> None:
    import re
    from pathlib import Path

    from gateway.config import unknown_variables

    root = Path(__file__).resolve().parents[2]
    sources = [root / "Makefile", root / "README.md"]
    for folder in ("gateway", "adapters", "mocks", "deploy", "bench", "tests"):
        sources += [path for path in (root / folder).rglob("*") if path.suffix in (".py", ".sh", ".md", ".yaml")]
    names = {
        name
        for path in sources
        for name in re.findall(r"\bEPOLICY_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8", errors="replace"))
    }
    names -= {"EPOLICY_WORKER_THRADS", "EPOLICY_RATELIMIT_PER_SUBJET", "EPOLICY_ZZZ"}  # this file's own misspellings
    assert len(names) > 40  # the scan found the settings
    assert unknown_variables(dict.fromkeys(names, "")) == []
