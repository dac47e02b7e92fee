"""Every start that cannot go on ends with one line for each reason, naming what to change, and no traceback.

The commands run in this process (click's CliRunner): the same code as `epolicy ...` in a terminal, up to the point
where the start fails. tests/ops/test_first_run.py starts them for real.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from gateway.cli import main
from tests.support.signing import signing_environment
from tests.support.stack import free_port

COMMANDS = {
    "serve": ["serve", "--port", "0"],
    "worker": ["worker"],
    "db upgrade": ["db", "upgrade"],
    "stalled": ["stalled"],
    "retry": ["retry", "--all-stalled"],
}


@pytest.fixture(autouse=True)
def clean_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No `EPOLICY_*` variable of the machine's (but the tests' own); the signal and log handlers the commands
    install are put back after each test."""
    for name in list(os.environ):
        if name.startswith("EPOLICY_") and not name.startswith("EPOLICY_TEST_"):
            monkeypatch.delenv(name)
    for name, value in signing_environment().items():  # the session's keys: a start that can sign
        monkeypatch.setenv(name, value)
    signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    werkzeug = logging.getLogger("werkzeug").level
    yield
    for number, handler in signals.items():
        signal.signal(number, handler)
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(werkzeug)


def invoke(arguments: list[str], **env: str) -> Result:
    return CliRunner().invoke(main, arguments, env=env)


def the_one_line(result: Result, exit_code: int = 1) -> str:
    """The start failed with `exit_code` and said why on one line of stderr, with nothing else, no traceback."""
    # An exception the command let through would be result.exception; a refusal is the SystemExit click makes.
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_bad_setting_is_named_at_once_by_every_command(command: str) -> None:
    result = invoke(
        COMMANDS[command],
        EPOLICY_WORKER_THREADS="two",
        EPOLICY_BACKEND_TIMEOUT="10s",
        EPOLICY_RATELIMIT_PER_SUBJECT="lots",
    )
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()) == [
        "Error: EPOLICY_BACKEND_TIMEOUT='10s': a number is expected",
        "Error: EPOLICY_RATELIMIT_PER_SUBJECT='lots' is no rate limit: write it as '60/minute' or '10/second;600/hour'",
        "Error: EPOLICY_WORKER_THREADS='two': a whole number is expected",
    ]


@pytest.mark.parametrize(
    ("arguments", "env"),
    [
        (["serve", "--log-level", "LOUD"], {}),
        (["serve"], {"EPOLICY_LOG_LEVEL": "loud"}),
        (["worker"], {"EPOLICY_LOG_LEVEL": "loud"}),
        (["stack"], {"EPOLICY_LOG_LEVEL": "loud"}),
    ],
)
def test_a_log_level_that_is_none_is_refused_in_one_line_naming_its_variable(
    arguments: list[str], env: dict[str, str]
) -> None:
    line = the_one_line(invoke(arguments, **env), exit_code=2)
    assert "Invalid value for '--log-level' (env var: 'EPOLICY_LOG_LEVEL')" in line
    assert "'debug', 'info', 'warning', 'error', 'critical'" in line


def test_a_command_without_the_option_refuses_a_bad_log_variable_too() -> None:
    result = invoke(["db", "upgrade"], EPOLICY_LOG_LEVEL="loud", EPOLICY_LOG_FORMAT="xml")
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: EPOLICY_LOG_LEVEL='loud': write one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        "Error: EPOLICY_LOG_FORMAT='xml': write text or json",
    ]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_instance_path_below_a_file_is_one_line_naming_it_and_the_variable(command: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    instance = tmp_path / "notes.txt" / "instance"
    line = the_one_line(invoke(COMMANDS[command], EPOLICY_INSTANCE_PATH=str(instance)))
    assert line == (
        f"Error: cannot make the database's folder {instance} ({tmp_path / 'notes.txt'} is a file, not a folder): "
        "set EPOLICY_INSTANCE_PATH to a folder this user may write"
    )


def test_a_folder_this_user_may_not_make_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, whom no mode bits stop: the system's refusal is played by os.makedirs.
    made = os.makedirs

    def refuse(name: str, *args: object, **kwargs: object) -> None:
        if str(name).startswith(str(tmp_path)):
            raise PermissionError(errno.EACCES, "Permission denied", str(name))
        made(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "makedirs", refuse)
    instance = tmp_path / "instance"
    line = the_one_line(invoke(["db", "upgrade"], EPOLICY_INSTANCE_PATH=str(instance)))
    assert f"cannot make the database's folder {instance} (Permission denied)" in line
    assert "set EPOLICY_INSTANCE_PATH" in line


def test_a_database_file_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "epolicy.sqlite3").mkdir()  # where the file should be
    line = the_one_line(invoke(["stalled"], EPOLICY_INSTANCE_PATH=str(tmp_path)))
    assert line == (
        f"Error: cannot open the database {tmp_path / 'epolicy.sqlite3'} (unable to open database file): "
        "set EPOLICY_INSTANCE_PATH to a folder this user may write"
    )


@pytest.mark.network
@pytest.mark.parametrize("command", COMMANDS)
def test_a_postgresql_that_does_not_answer_is_one_line_naming_its_address(command: str) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/epolicy"
    line = the_one_line(invoke(COMMANDS[command], EPOLICY_DATABASE_URL=url))
    assert line.startswith(f"Error: cannot reach the database postgresql+psycopg://postgres:***@127.0.0.1:{port}/")
    assert "Connection refused" in line
    assert line.endswith("start it, or set EPOLICY_DATABASE_URL to one that answers")
    assert "secret" not in line


@pytest.mark.parametrize("command", ["worker", "stalled", "retry"])
def test_a_configured_database_never_migrated_asks_for_db_upgrade(command: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/configured.sqlite3"
    line = the_one_line(invoke(COMMANDS[command], EPOLICY_DATABASE_URL=url))
    assert line.startswith(f"Error: the database {url} is at revision none (never migrated), this version needs ")
    assert line.endswith("run `epolicy db upgrade` first")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.create_server(("127.0.0.1", 0)) as other:
        yield other.getsockname()[1]


@pytest.mark.parametrize(
    ("arguments", "setting"),
    [
        (["serve", "--port", "{port}"], "EPOLICY_PORT (or --port)"),
        (["worker", "--metrics-port", "{port}"], "EPOLICY_WORKER_METRICS_PORT (or --metrics-port)"),
        (["stack", "--port", "{port}", "--mocks-port", "0"], "EPOLICY_PORT (or --port)"),
        (["stack", "--port", "0", "--mocks-port", "{port}"], "EPOLICY_MOCKS_PORT (or --mocks-port)"),
    ],
)
def test_a_port_in_use_is_one_line_naming_the_setting_to_change(
    arguments: list[str], setting: str, taken_port: int, tmp_path: Path
) -> None:
    filled = [argument.format(port=taken_port) for argument in arguments]
    line = the_one_line(invoke(filled, EPOLICY_INSTANCE_PATH=str(tmp_path), EPOLICY_WORKER_THREADS="0"))
    assert line == f"Error: port {taken_port} on 127.0.0.1 is in use: set {setting} to a free port"


def test_the_mocks_alone_say_their_port_is_in_use_in_one_line(
    taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    from mocks.__main__ import main as mocks_main

    assert mocks_main(["--port", str(taken_port)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"Error: port {taken_port} on 127.0.0.1 is in use: set EPOLICY_MOCKS_PORT (or --port) to a free port"
    ]


def test_a_variable_that_is_no_setting_is_warned_about_on_start(tmp_path: Path) -> None:
    result = invoke(
        ["stalled"],
        EPOLICY_INSTANCE_PATH=str(tmp_path),
        EPOLICY_WORKER_THRADS="4",
        EPOLICY_PORT="8081",  # read by serve and stack, not a setting: no warning
        EPOLICY_MOCKS_SEED="seed.yaml",  # the mocks' own config
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].endswith(
        "EPOLICY_WORKER_THRADS is no setting of the gateway and is ignored: did you mean EPOLICY_WORKER_THREADS?"
    )
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == "0 stalled"


def test_the_version_is_the_installed_distributions() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.output == f"epolicy {version('epolicy-gateway')}\n"


def commands(group: click.Group, context: click.Context, path: str = "") -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from commands(command, context, f"{path}{name} ")
        else:
            yield f"{path}{name}", command


def test_the_help_of_every_command_shows_the_variable_of_each_option() -> None:
    context = click.Context(main)
    shown = 0
    for name, command in commands(main, context):
        help_text = " ".join(invoke([*name.split(), "--help"]).output.split())
        for option in command.params:
            if isinstance(option, click.Option) and option.envvar:
                assert option.show_envvar, f"epolicy {name} {option.opts[0]}"
                assert f"env var: {option.envvar}" in help_text, f"epolicy {name} {option.opts[0]}"
                shown += 1
    assert shown >= 15  # serve, worker, stack, mocks


def test_the_wsgi_entry_point_warns_about_a_variable_that_is_no_setting_too(tmp_path: Path) -> None:
    # gunicorn imports gateway.wsgi: no command of ours runs first, so the module itself must say it.
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("EPOLICY_")}
    environment |= signing_environment() | {
        "EPOLICY_INSTANCE_PATH": str(tmp_path),
        "EPOLICY_DATABASE_URL": f"sqlite:///{tmp_path}/epolicy.sqlite3",
        "EPOLICY_LOG_FORMAT": "text",
        "EPOLICY_WORKER_THRADS": "4",
    }
    started = subprocess.run(
        [sys.executable, "-c", "import gateway.wsgi"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, started.stderr
    warnings = [line for line in started.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, started.stderr
    assert warnings[0].endswith(
        "EPOLICY_WORKER_THRADS is no setting of the gateway and is ignored: did you mean EPOLICY_WORKER_THREADS?"
    )


SIGNING_LINES = [
    "Error: EPOLICY_FUND_TRUSTED_CERTIFICATES is not set: give the fund's certificates, "
    "or EPOLICY_SIGNING_ENABLED=false to send and take messages unsigned",
    "Error: EPOLICY_KZ_FUND_TRUSTED_CERTIFICATES is not set: give the Kazakh fund's certificates, "
    "or EPOLICY_SIGNING_ENABLED=false to send and take messages unsigned",
    "Error: EPOLICY_SIGNING_CERTIFICATE is not set: give the key's certificate (a PEM file), "
    "or EPOLICY_SIGNING_ENABLED=false to send and take messages unsigned",
    "Error: EPOLICY_SIGNING_KEY is not set: give the gateway's signing key (a PEM file), "
    "or EPOLICY_SIGNING_ENABLED=false to send and take messages unsigned",
]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_start_that_could_not_sign_refuses_before_it_opens_anything(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in signing_environment():
        monkeypatch.delenv(name)
    result = invoke(COMMANDS[command], EPOLICY_INSTANCE_PATH=str(tmp_path))

    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()) == SIGNING_LINES
    assert list(tmp_path.iterdir()) == []  # no database made, no port taken


def test_signing_switched_off_explicitly_lets_the_start_go_on(
    taken_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in signing_environment():
        monkeypatch.delenv(name)
    line = the_one_line(
        invoke(
            ["serve", "--port", str(taken_port)],
            EPOLICY_INSTANCE_PATH=str(tmp_path),
            EPOLICY_WORKER_THREADS="0",
            EPOLICY_SIGNING_ENABLED="false",
        )
    )
    assert line == f"Error: port {taken_port} on 127.0.0.1 is in use: set EPOLICY_PORT (or --port) to a free port"


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_signing_key_that_cannot_be_read_is_one_line(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "none.key"
    line = the_one_line(
        invoke(COMMANDS[command], EPOLICY_INSTANCE_PATH=str(tmp_path), EPOLICY_SIGNING_KEY=str(missing))
    )
    assert line == (
        f"Error: EPOLICY_SIGNING_KEY, EPOLICY_SIGNING_CERTIFICATE: the signing key {str(missing)!r} can not be read: "
        "No such file or directory"
    )


def test_a_certificate_not_trusted_for_an_insurer_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EPOLICY_INSURER_TRUSTED_CERTIFICATES_TEMPLATE")
    result = invoke(COMMANDS["worker"], EPOLICY_INSTANCE_PATH=str(tmp_path))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("Error: no certificate is trusted for insurer ") for line in lines)


def test_the_wsgi_entry_point_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("EPOLICY_")}
    environment |= {"EPOLICY_INSTANCE_PATH": str(tmp_path), "EPOLICY_LOG_FORMAT": "text"}
    started = subprocess.run(
        [sys.executable, "-c", "import gateway.wsgi"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 3, started.stderr
    assert "Traceback" not in started.stderr
    assert "EPOLICY_SIGNING_KEY is not set" in started.stderr


def test_the_development_keys_are_made_once_in_the_instance_folder(tmp_path: Path) -> None:
    made = invoke(["development-keys"], EPOLICY_INSTANCE_PATH=str(tmp_path))
    assert made.exit_code == 0, made.output
    folder = Path(made.stdout.strip())
    assert folder == tmp_path / "keys"
    key = (folder / "gateway.key").read_bytes()
    assert (folder / "gateway.key").stat().st_mode & 0o077 == 0  # the key is the user's alone
    again = invoke(["development-keys"], EPOLICY_INSTANCE_PATH=str(tmp_path))
    assert again.stdout == made.stdout and (folder / "gateway.key").read_bytes() == key
