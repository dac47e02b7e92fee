"""Every command README.md documents exists: `epolicy` commands and their options, make targets, `.venv/bin`
scripts and `python -m` modules, the files the commands name, and each curl URL of the gateway (:8080) and the
mocks (:8090), with its method, in the app's URL map.

The commands are every simple command of every shell block, and those the prose names in code spans
(tests/support/readme.py). Nothing runs: each is looked up where it is defined.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect

from gateway import metrics
from gateway.app import create_app as create_gateway
from gateway.cli import main
from mocks.app import create_app as create_mocks
from tests.support.fakes import FakeFund, FakeInsurers, FakeKzFund, FakeStore
from tests.support.readme import (
    ROOT,
    assigned_names,
    inline_commands,
    readme_text,
    shell_blocks,
    simple_commands,
    split_commands,
    stated,
    unmet,
)

VENV_BIN = Path(sys.executable).parent
URL = re.compile(r"^https?://(?:127\.0\.0\.1|localhost):(8080|8090)(/\S*)?$")
DATA_OPTIONS = ("-d", "-F", "-T", "--form", "--json", "--upload-file")


@dataclass(frozen=True)
class Documented:
    """One simple command of the README: its words, and the line it starts on."""

    line: int
    words: tuple[str, ...]

    @property
    def program(self) -> str:
        """The program it runs, as written (`make`, `.venv/bin/epolicy`, `curl`)."""
        return self.words[0]

    @property
    def arguments(self) -> tuple[str, ...]:
        """Its words after the program."""
        return self.words[1:]


def documented(text: str) -> list[Documented]:
    """The simple commands of every shell block of a README, and those its prose names in code spans."""
    commands = [command for block in shell_blocks(text) for command in block.commands()]
    return [
        Documented(command.line, tuple(words))
        for command in [*commands, *inline_commands(text)]
        for words in simple_commands(command.text)
    ]


# --- the lookups: each says what is wrong with a command, or nothing -----------------------------------------


def epolicy_problem(command: Documented) -> str | None:
    """An `epolicy` subcommand (and sub-subcommand) that does not exist, or an option it does not have."""
    group: click.Command = main
    path = ["epolicy"]
    options: list[str] = []
    for word in command.arguments:
        if word.startswith("-"):
            options.append(word.split("=", 1)[0])
        elif isinstance(group, click.Group):
            with click.Context(group) as context:
                found = group.get_command(context, word)
            if found is None:
                return f"`{' '.join(path)}` has no command {word!r}"
            group, path = found, [*path, word]
        else:
            break  # an argument of the command
    if isinstance(group, click.Group) and len(path) > 1:
        return f"`{' '.join(path)}` needs a command"
    known = {"--help"} | {name for param in group.params for name in (*param.opts, *param.secondary_opts)}
    unknown = [option for option in options if option not in known]
    return f"`{' '.join(path)}` has no option {', '.join(unknown)}" if unknown else None


def make_problem(command: Documented) -> str | None:
    """A make target that the Makefile does not define."""
    targets = [word for word in command.arguments if not word.startswith("-") and "=" not in word]
    unknown = [target for target in targets if target not in makefile_targets()]
    return f"the Makefile has no target {', '.join(unknown)}" if unknown else None


def script_problem(command: Documented) -> str | None:
    """A `.venv/bin/` script the virtual environment does not have, or a `python -m` module it cannot import."""
    name = command.program.removeprefix(".venv/bin/")
    if not (VENV_BIN / name).exists():
        return f"`make` installs no .venv/bin/{name}"
    arguments = list(command.arguments)
    module = arguments[1] if name.startswith("python") and arguments[:1] == ["-m"] and len(arguments) > 1 else None
    if module is not None and importlib.util.find_spec(module) is None:
        return f"there is no module {module} to run with -m"
    return None


def path_problems(command: Documented) -> Iterator[str]:
    """Files and folders of the repository the command names (`deploy/gunicorn.conf.py`, `@contracts/...`)."""
    tracked = {entry.name for entry in ROOT.iterdir()} - {".venv", "node_modules", "instance"}
    for word in command.arguments:
        named = word.removeprefix("@")
        first = named.split("/", 1)[0]
        if "/" in named and first in tracked and not re.search(r"[$*…<>]", named) and not (ROOT / named).exists():
            yield f"there is no {named}"


def url_problem(command: Documented) -> str | None:
    """A URL of the gateway or the mocks that no route of theirs answers with the command's method."""
    arguments = list(command.arguments)
    urls = [word for word in arguments if URL.match(word)]
    if not urls:
        return None
    method = "GET"
    if any(word in ("-I", "--head") or re.fullmatch(r"-[a-zA-Z]*I[a-zA-Z]*", word) for word in arguments):
        method = "HEAD"
    if any(word in DATA_OPTIONS or word.startswith("--data") for word in arguments):
        method = "POST"
    for flag in ("-X", "--request"):
        if flag in arguments[:-1]:
            method = arguments[arguments.index(flag) + 1]
    for url in urls:
        port, path = URL.match(url).groups()  # type: ignore[union-attr]
        path = urlsplit(url).path or "/"
        if port == "8080" and path == metrics.PATH and method in ("GET", "HEAD"):
            continue  # served by the metrics middleware, ahead of the app's URL map
        problem = route_problem(url_maps()[port], path, method)
        if problem:
            return f"{method} {url}: {problem}"
    return None


def route_problem(url_map: Map, path: str, method: str) -> str | None:
    """Why no rule of `url_map` answers `method` on `path`, or None."""
    try:
        url_map.bind("127.0.0.1").match(path, method=method)
    except NotFound:
        return "no route"
    except MethodNotAllowed as refusal:
        return f"the route takes only {', '.join(sorted(refusal.valid_methods or ()))}"
    except RequestRedirect as redirect:
        return f"redirected to {redirect.new_url} (curl -s does not follow)"
    return None


LOOKUPS: dict[str, Callable[[Documented], str | None]] = {
    "epolicy": epolicy_problem,
    "make": make_problem,
    "curl": url_problem,
}


def problems(commands: list[Documented]) -> list[str]:
    """Every problem of every command, each with its README line."""
    found = []
    for command in commands:
        program = command.program
        lookup = LOOKUPS.get(Path(program).name if program.startswith(".venv/bin/") else program)
        said = [lookup(command)] if lookup else []
        if program.startswith(".venv/bin/"):
            said.append(script_problem(command))
        said += list(path_problems(command))
        found += [f"README.md line {command.line}: `{' '.join(command.words)}`: {text}" for text in said if text]
    return found


@cache
def makefile_targets() -> frozenset[str]:
    """The targets of the Makefile, its `$(VARIABLE)`s expanded."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    variables = {}
    for line in lines:
        assignment = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|\?=|=)\s*(.*)$", line)
        if assignment:
            variables[assignment.group(1)] = assignment.group(2).strip()

    def expand(text: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda used: expand(variables.get(used.group(1), "")), text)

    targets: set[str] = set()
    for line in lines:
        rule = re.match(r"^([^\s#.:=][^:=]*?)\s*:(?!=)", line)
        if rule:
            targets |= set(expand(rule.group(1)).split())
    return frozenset(targets)


@cache
def url_maps() -> dict[str, Map]:
    """The URL maps of the gateway (on fakes: nothing is reached) and of the mocks, by their README port."""
    gateway = create_gateway(
        {"TESTING": True, "WORKER_THREADS": 0},
        store=FakeStore(),
        fund=FakeFund(),
        insurers=FakeInsurers({}),
        kz_fund=FakeKzFund(),
    )
    return {"8080": gateway.url_map, "8090": create_mocks({"TESTING": True}).url_map}


# --- the README ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def commands() -> list[Documented]:
    return documented(readme_text())


def test_every_command_the_readme_documents_exists(commands: list[Documented]) -> None:
    found = problems(commands)
    assert not found, "\n".join(found)


def test_the_readme_is_read_for_every_kind_of_command(commands: list[Documented]) -> None:
    # So that the test above cannot pass by finding nothing to look up.
    programs = [command.program for command in commands]
    assert programs.count("curl") >= 30
    assert sum(program.endswith("epolicy") for program in programs) >= 10
    assert programs.count("make") >= 10
    assert any(program.startswith(".venv/bin/") for program in programs)
    urls = [word for command in commands for word in command.words if URL.match(word)]
    assert {URL.match(url).group(1) for url in urls} == {"8080", "8090"}  # type: ignore[union-attr]


# --- the lookups on commands that are wrong --------------------------------------------------------------------

WRONG = """
## Somewhere

```sh
.venv/bin/epolicy stak
.venv/bin/epolicy worker --metric-port 8091
.venv/bin/epolicy db
.venv/bin/epolicy db downgrade
make rn
.venv/bin/epolicy-fake --port 1
.venv/bin/python -m no_such_module
curl -s http://127.0.0.1:8080/api/v1/nothing
curl -s -X DELETE http://127.0.0.1:8080/api/v1/policies/7751210885000019
curl -s -d '{}' http://127.0.0.1:8090/mock/stats
curl -s http://127.0.0.1:8080/portal
.venv/bin/gunicorn -c deploy/no-such.conf.py
```

The prose names `epolicy serve --no-such-flag` and `make soak` and `make nothing-here`.
"""


def test_the_lookups_name_each_wrong_command_with_its_line() -> None:
    found = problems(documented(WRONG))
    expected = [
        (5, "`epolicy` has no command 'stak'"),
        (6, "`epolicy worker` has no option --metric-port"),
        (7, "`epolicy db` needs a command"),
        (8, "`epolicy db` has no command 'downgrade'"),
        (9, "the Makefile has no target rn"),
        (10, "`make` installs no .venv/bin/epolicy-fake"),
        (11, "there is no module no_such_module"),
        (12, "GET http://127.0.0.1:8080/api/v1/nothing: no route"),
        (13, "DELETE http://127.0.0.1:8080/api/v1/policies/7751210885000019: the route takes only GET, HEAD, OPTIONS"),
        (14, "POST http://127.0.0.1:8090/mock/stats: the route takes only GET, HEAD, OPTIONS"),
        (15, "GET http://127.0.0.1:8080/portal: redirected to"),
        (16, "there is no deploy/no-such.conf.py"),
        (19, "`epolicy serve` has no option --no-such-flag"),
        (19, "the Makefile has no target nothing-here"),
    ]
    for line, text in expected:
        assert any(problem.startswith(f"README.md line {line}: ") and text in problem for problem in found), (
            line,
            text,
            found,
        )
    assert len(found) == len(expected), found


def test_the_lookups_accept_what_exists() -> None:
    right = """
```sh
EPOLICY_HOST=0.0.0.0 .venv/bin/gunicorn -c deploy/gunicorn.conf.py
.venv/bin/epolicy worker --threads 4 --log-format json --metrics-port 8091
.venv/bin/epolicy db upgrade
.venv/bin/epolicy retry --all-stalled
make run-pg .venv/.installed
curl -s -X POST http://127.0.0.1:8090/mock/reset
curl -sI http://127.0.0.1:8080/api/v1/kz/packages
curl -s http://127.0.0.1:8080/metrics | grep epolicy_
APP=$(curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/applications/$APP | python3 -c 'x')
```
"""
    assert problems(documented(right)) == []


# --- how the README is read ------------------------------------------------------------------------------------

BLOCK = """TOKEN=$(curl -s -X POST http://127.0.0.1:8090/oauth/test/token \\
  -d '{"sub": "a",
       "snils": "1"}' | python3 -c 'print(1)')
# a note, which no command answers

until curl -s http://127.0.0.1:8080/healthz | grep -q ok
do sleep 1; done
# → "status": "ok"
#   and "checks": {"database": "ok"} (an aside: "status": "bad"); another case: 503 "status": "failing"
curl -s http://127.0.0.1:8080/readyz   # an inline comment with a "quote"
"""


def test_commands_are_whole_shell_commands_each_with_the_answer_after_it() -> None:
    first, second, third = split_commands(BLOCK, first_line=10)
    assert (first.line, first.answer) == (10, "")
    assert first.text.endswith("""python3 -c 'print(1)')""")
    assert assigned_names(first.text) == {"TOKEN"}
    assert (second.line, second.text.splitlines()[-1]) == (15, "do sleep 1; done")
    assert second.answer.startswith('"status": "ok" and "checks"')
    assert (third.line, third.answer) == (19, "")
    assert [words[0] for words in simple_commands(second.text)] == ["curl", "grep", "sleep"]


def test_a_command_that_never_ends_is_an_error_of_the_readme() -> None:
    with pytest.raises(ValueError, match="line 3: the command never ends"):
        split_commands("curl -s \\\n  'http://127.0.0.1:8080/readyz\n", first_line=3)


def test_an_answer_states_status_media_type_headers_fields_reasons_and_history() -> None:
    answer = stated(
        '422 application/problem+json, "Location: /api/v1/applications/app_01…", "errors": [{"code": "CLINIC_FULL",'
        ' "message": "…", "details": {"allowed_from": "<a year later>"}, "covered": false}], CLINIC_FULL and'
        ' EPOLICY_PORT, "history": accepted → verifying → rejected (aside "status": "issued"); 200 "other": 1'
    )
    assert answer.status == 422
    assert answer.media_type == "application/problem+json"
    assert answer.headers == (("Location", "/api/v1/applications/app_01…"),)
    assert answer.fields == (("code", "CLINIC_FULL"), ("covered", False))
    assert answer.codes == ("CLINIC_FULL",), "EPOLICY_PORT is no reason of the catalogue"
    assert answer.history == ("accepted", "verifying", "rejected")


def test_an_answer_is_checked_against_the_http_answer() -> None:
    answer = stated('202, "status": "accepted", "history": accepted → issued, "Location: /api/v1/applications/app_01…"')
    body = b'{"id": "app_01X", "status": "accepted", "history": [{"status": "accepted"}, {"status": "issued"}]}'
    headers = {"location": "/api/v1/applications/app_01X", "content-type": "application/json"}
    assert unmet(answer, 202, headers, body) == []
    wrong = b'{"status": "issued", "history": [{"status": "accepted"}]}'
    assert unmet(answer, 200, {"location": "/elsewhere"}, wrong) == [
        "status 200, not 202",
        "Location: '/elsewhere', not /api/v1/applications/app_01…",
        'no "status": "accepted" in the body',
        "history accepted, not accepted → issued",
    ]
    assert unmet(stated('"covered": false'), 200, {}, b'{"covered": 0}') == ['no "covered": false in the body']
    assert unmet(stated('"status": "active"'), 404, {}, b'{"status": "active"}') == [
        "status 404: an answer that states no status is a success"
    ]
