"""The README run as a person runs it, on a fresh copy: `make run`, then `make run-pg`, each walked through.

Each test copies the tracked files (`git ls-files`, as they are in the working tree: a file not yet added to git is
not in the copy, as it would not be in a clone) into an empty folder, with no `instance/` and no `__pycache__`, runs
`make run` (or `make run-pg`) there with the ports moved by `EPOLICY_PORT` and `EPOLICY_MOCKS_PORT`, waits for
`/readyz`, pastes the walk-through's commands read out of README.md (ports substituted) into bash one by one and
checks each answer against its `# →` line (tests/support/readme.py says which facts are read), runs
`.venv/bin/epolicy demo`, and stops the stack with Ctrl-C: SIGINT to make's process group, as a terminal sends it
to its foreground job. On `make run` the sections that go on from the walk-through's token and policy are pasted
too; the mock OAuth user `ivanova` then applies as the portal would (and must not be taken for the walk-through's
person); and the walk-through is pasted again after `POST /mock/reset` with another `"sub"`, as the README says to
start over.

The copy's `.venv` borrows the checkout's installed packages, so that the test needs no network and no minute of
pip, while the code that runs is the copy's: it is a new virtual environment of the same interpreter (`venv
--without-pip`) whose one `.pth` file puts the copy's root first on `sys.path` (its gateway, adapters, contracts
and mocks, as an editable install of the copy would) and the checkout's site-packages after it, for the
third-party packages and the distributions' metadata (the `epolicy.commands` entry points name modules, which
resolve in the copy). The checkout's own editable hooks are `.pth` files of a directory Python does not process
here, so nothing points back at the checkout's sources. The console scripts (`epolicy`, `gunicorn`, ...) are the
checkout's with the copy's interpreter in their first line, and a fresh `.venv/.installed` stamp keeps make from
installing anything (`make -q` checks it). Proof that the copy ran: its `instance/epolicy.sqlite3` appears (the
gateway puts it beside its own package), bytecode of its modules appears in its `__pycache__` folders, and every
Python process of the stack runs the copy's interpreter.

Stopped with Ctrl-C, the recipe's process exits 0 and make, which got the SIGINT too, then dies of it: its exit
status is -SIGINT (130 in a shell) and it prints no `make: *** [...] Error` or `Interrupt` line, which it would for a
recipe that failed or died of the signal. Nothing of the stack may be left running, nothing may still listen.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.support.databases import fresh_schema
from tests.support.readme import Block, Command, assigned_names, readme_text, shell_blocks, stated, unmet
from tests.support.services import missing_service
from tests.support.stack import Api, Stack, adult, application, apply_and_wait, free_port

# The tests run the whole stack in subprocesses and talk to it, and to PostgreSQL.
pytestmark = pytest.mark.network

ROOT = Path(__file__).parents[2]
CHECKOUT_BIN = Path(sys.executable).parent
WALK_THROUGH = "Walk-through"
# The sections whose commands go on from the walk-through's token and policy, run after it on `make run`.
FOLLOWING = (
    "A family's policies",
    "History, visits and the clinic",
    "Coverage for clinics",
    "Kazakhstan profile (ОСМС)",
)
READY_SECONDS = 90  # bounds, not expectations: a start on a busy machine, then a stop, then one pasted command
STOP_SECONDS = {"run": 15, "run-pg": 45}  # run-pg's gunicorn may take its graceful timeout (deploy/gunicorn.conf.py)
COMMAND_SECONDS = 60
# What a person's terminal has no reason to hold: the test run's own make, virtualenv, Python and gateway settings.
LEAKS = ("EPOLICY_", "MAKE", "PYTEST_", "PYTHON")
LEAKED = frozenset({"MFLAGS", "GNUMAKEFLAGS", "VIRTUAL_ENV", "PROMETHEUS_MULTIPROC_DIR"})
# The portal's placeholders for the passport (gateway/static/portal/index.html): what a newcomer may well type.
PORTAL_PASSPORT = {"type": "passport_rf", "series": "4510", "number": "123456", "issue_date": "2010-06-01"}


def test_make_run_on_a_fresh_copy_does_the_walk_through_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    tools()
    copy = fresh_copy(tmp_path / "copy")
    ports = {"EPOLICY_PORT": free_port(), "EPOLICY_MOCKS_PORT": free_port()}
    env = as_a_person(**{name: str(port) for name, port in ports.items()})
    gateway, mocks = (f"http://127.0.0.1:{port}" for port in ports.values())
    shell = Shell(copy, env, ports["EPOLICY_PORT"], ports["EPOLICY_MOCKS_PORT"], tmp_path / "shell")
    with make(copy, "run", env, tmp_path / "make.log") as stack:
        wait_until_ready(gateway, stack)
        assert (copy / "instance" / "epolicy.sqlite3").is_file(), "the copy's gateway made its own database"
        walk_through(shell)
        for section in FOLLOWING:
            blocks = shell_blocks(readme_text(), section)
            assert blocks, f"README.md has no shell blocks under '## {section}'"
            shell.run_all(blocks, strict=False)

        # A newcomer who then logs in to the portal as `ivanova` is not taken for the walk-through's person.
        issued = as_the_portal_user(copy, Stack(gateway, mocks, stack.log))
        assert issued["status"] == "issued", issued

        # Starting over as the README says: the mocks back to their seed, a token with another "sub".
        assert requests.post(f"{mocks}/mock/reset", timeout=10).status_code == 204
        again = Shell(copy, env, ports["EPOLICY_PORT"], ports["EPOLICY_MOCKS_PORT"], tmp_path / "again")
        again.run_all(shell_blocks(readme_text(), WALK_THROUGH)[:1], {'"sub": "walkthrough"': '"sub": "again"'})

        demo(copy, env)
        stack.snapshot()
    stack.assert_stopped_cleanly(ports.values())
    stack.assert_ran_the_copy(copy, "gateway/storage/database.py", "gateway/app.py", "mocks/commands.py")


def test_make_run_pg_on_a_fresh_copy_does_the_walk_through_and_stops_on_ctrl_c(
    postgresql_server: str, tmp_path: Path
) -> None:
    tools()
    copy = fresh_copy(tmp_path / "copy")
    ports = {name: free_port() for name in ("EPOLICY_PORT", "EPOLICY_MOCKS_PORT", "EPOLICY_WORKER_METRICS_PORT")}
    gateway = f"http://127.0.0.1:{ports['EPOLICY_PORT']}"
    with fresh_schema(postgresql_server) as database:
        env = as_a_person(EPOLICY_DATABASE_URL=database, **{name: str(port) for name, port in ports.items()})
        shell = Shell(copy, env, ports["EPOLICY_PORT"], ports["EPOLICY_MOCKS_PORT"], tmp_path / "shell")
        with make(copy, "run-pg", env, tmp_path / "make.log") as stack:
            wait_until_ready(gateway, stack)
            walk_through(shell)
            demo(copy, env)
            stack.snapshot()
        stack.assert_stopped_cleanly(ports.values())
    kept = sorted(path.name for path in (copy / "instance").iterdir())
    assert kept == ["keys"], "run-pg keeps nothing in the instance folder but its development keys"
    stack.assert_ran_the_copy(copy, "gateway/wsgi.py", "gateway/worker.py", "mocks/app.py")


# --- the copy ------------------------------------------------------------------------------------------------


def tools() -> None:
    """What the README's commands need on the machine: make, git, bash, curl, python3."""
    for tool in ("make", "git", "bash", "curl", "python3"):
        if shutil.which(tool) is None:
            missing_service(f"`{tool}` is not installed: the README's commands need it")


def fresh_copy(folder: Path) -> Path:
    """The tracked files, as they are in the working tree, in `folder`, with a `.venv` borrowing the checkout's."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        missing_service(f"{ROOT} is no git checkout to copy: {listed.stderr.decode(errors='replace').strip()}")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.exists() or source.is_symlink():  # a file deleted in the working tree is not copied
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name, follow_symlinks=False)
    assert not list(folder.rglob("__pycache__")) and not (folder / "instance").exists()
    borrow_packages(folder / ".venv", folder)
    return folder


def borrow_packages(venv: Path, copy: Path) -> None:
    """A virtual environment of the copy's own that imports the copy's code and the checkout's third-party packages."""
    assert sys.prefix != sys.base_prefix, "the tests run in the project's virtual environment (.venv, as make test)"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    checkout_site = Path(sysconfig.get_path("purelib"))
    site = venv / checkout_site.relative_to(sys.prefix)
    (site / "epolicy_copy.pth").write_text(f"{copy}\n{checkout_site}\n", encoding="utf-8")
    python, own_python = str(CHECKOUT_BIN / "python").encode(), str(venv / "bin" / "python").encode()
    for script in sorted(CHECKOUT_BIN.iterdir()):
        target = venv / "bin" / script.name
        if script.is_symlink() or not script.is_file() or target.exists():
            continue
        text = script.read_bytes()
        head, _, rest = text.partition(b"\n")
        if head.startswith(b"#!" + python):  # a console script of a distribution installed in the checkout
            target.write_bytes(head.replace(python, own_python, 1) + b"\n" + rest)
            target.chmod(0o755)
    (venv / ".installed").touch()  # newer than the copied pyproject files: make installs nothing
    asked = subprocess.run(["make", "-q", ".venv/.installed"], cwd=copy, capture_output=True, check=False)
    assert asked.returncode == 0, "make would install into the borrowed packages"
    packages = ("adapters", "contracts", "gateway", "mocks")
    probe = f"import importlib; print(*(importlib.import_module(name).__file__ for name in {packages!r}))"
    # From a folder with no packages in it: `python -c` puts its working directory first on sys.path.
    imported = subprocess.run(
        [venv / "bin" / "python", "-B", "-c", probe], cwd=venv, env=as_a_person(), capture_output=True, text=True
    )
    paths = imported.stdout.split()
    assert imported.returncode == 0 and len(paths) == len(packages), imported.stderr
    assert all(Path(path).is_relative_to(copy) for path in paths), paths


def as_a_person(**settings: str) -> dict[str, str]:
    """The environment of a person's terminal: this one's, without the test run's make, Python and settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(LEAKS) and name not in LEAKED}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if Path(part) != CHECKOUT_BIN)
    return env | settings


# --- the stack -----------------------------------------------------------------------------------------------


@dataclass
class Running:
    """`make <target>` running in a session of its own, as a terminal's foreground job."""

    process: subprocess.Popen[bytes]
    log: Path
    stop_seconds: float
    seen: dict[int, list[str]] = field(default_factory=dict)

    def snapshot(self) -> None:
        """Note the stack's processes (make's descendants), to check later what runs them and that they end."""
        self.seen = descendants(self.process.pid)

    def ctrl_c(self) -> None:
        """SIGINT to make's process group; KILL to it, and to what it left, if it is not gone in time."""
        started = {**self.seen, **descendants(self.process.pid)}
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(self.stop_seconds)
        except subprocess.TimeoutExpired:
            self.kill(started)
            raise AssertionError(f"make did not stop on Ctrl-C:\n{self.text()[-4000:]}") from None

    def end(self) -> None:
        """After a failure: Ctrl-C all the same, so that run-pg stops the processes of their own sessions; then KILL."""
        started = {**self.seen, **descendants(self.process.pid)}
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(self.stop_seconds)
        self.kill(started)

    def kill(self, started: dict[int, list[str]]) -> None:
        """KILL make's process group, and each process noted in `started` that is still the same process."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for pid, argv in started.items():
            with contextlib.suppress(OSError):  # it ended meanwhile
                if command_line(pid) == argv:
                    os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def text(self) -> str:
        """What make and the stack printed."""
        return self.log.read_text(errors="replace")

    def assert_stopped_cleanly(self, ports: Iterable[int]) -> None:
        """make died of the SIGINT after its recipe exited 0; nothing of the stack runs or listens any more."""
        printed = self.text()
        assert self.process.returncode == -signal.SIGINT, (self.process.returncode, printed[-4000:])
        assert "make: ***" not in printed, printed[-4000:]
        assert "Traceback" not in printed, printed[-4000:]
        left = [argv for pid, argv in self.seen.items() if is_alive(pid)]
        assert not left, f"still running after Ctrl-C: {left}"
        listening = [port for port in ports if is_open(port)]
        assert not listening, f"something still listens on {listening} after Ctrl-C"

    def assert_ran_the_copy(self, copy: Path, *modules: str) -> None:
        """The copy's modules were imported (their bytecode is in its __pycache__) by the copy's interpreter."""
        for module in modules:
            source = copy / module
            compiled = list((source.parent / "__pycache__").glob(f"{source.stem}.*.pyc"))
            assert compiled, f"nothing imported {source}"
        pythons = [argv for argv in self.seen.values() if argv and Path(argv[0]).name.startswith("python")]
        if Path("/proc/self/stat").exists():
            assert len(pythons) >= 2, self.seen
        assert all(Path(argv[0]).parent == copy / ".venv" / "bin" for argv in pythons), pythons


@contextlib.contextmanager
def make(copy: Path, target: str, env: dict[str, str], log: Path) -> Iterator[Running]:
    """`make <target>` in the copy, in a session of its own; stopped with Ctrl-C when the block ends."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", target], cwd=copy, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    running = Running(process, log, STOP_SECONDS[target])
    try:
        yield running
    except BaseException:
        running.end()
        raise
    running.ctrl_c()


def wait_until_ready(base: str, stack: Running) -> None:
    """Wait for `base`/readyz to answer 200 (every back-end reachable, the database migrated)."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            # The port may be open before gunicorn's processes have booted: a long read timeout waits for them.
            if requests.get(f"{base}/readyz", timeout=30).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if stack.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"`make` gave no ready stack at {base}:\n{stack.text()[-5000:]}")
        time.sleep(0.2)


def descendants(pid: int) -> dict[int, list[str]]:
    """The processes under `pid`, with their command lines (Linux's /proc; none elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found: dict[int, list[str]] = {}
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            with contextlib.suppress(OSError):
                found[child] = command_line(child)
                pending.append(child)
    return found


def command_line(pid: int) -> list[str]:
    """A process's command line, its program as an absolute path (make runs `.venv/bin/python` from the copy)."""
    process = Path("/proc") / str(pid)
    argv = [part.decode(errors="replace") for part in (process / "cmdline").read_bytes().split(b"\0") if part]
    if argv and "/" in argv[0]:
        argv[0] = str(Path(os.readlink(process / "cwd")) / argv[0])
    return argv


def is_alive(pid: int) -> bool:
    """Whether a process still runs (a zombie waiting for its parent does not)."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def is_open(port: int) -> bool:
    """Whether something listens on a loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


# --- the terminal ----------------------------------------------------------------------------------------------


@dataclass
class Shell:
    """A terminal in the copy into which the README's commands are pasted one by one.

    Each command runs in bash with the variables the earlier ones set (`TOKEN`, `APP`, ...). `curl` on its PATH is
    a wrapper that keeps each answer's headers and body, so that a command's `# →` line is checked against the
    HTTP answer itself, whatever the command prints of it.
    """

    cwd: Path
    env: dict[str, str]
    port: int
    mocks_port: int
    folder: Path
    names: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        (self.folder / "answers").mkdir(parents=True)
        (self.folder / "bin").mkdir()
        (self.folder / "state.sh").touch()
        wrapper = self.folder / "bin" / "curl"
        wrapper.write_text(
            "#!/bin/bash\n"
            "# curl as the README calls it; each answer's headers and body are kept for the test to read.\n"
            "set -o pipefail\n"
            f'answer="{self.folder}/answers/$(date +%s%N)-$$"\n'
            f'{shutil.which("curl")} --dump-header "$answer.headers" "$@" | tee "$answer.body"\n'
        )
        wrapper.chmod(0o755)

    def run_all(self, blocks: list[Block], changes: dict[str, str] | None = None, *, strict: bool = True) -> None:
        """Every command of these blocks, in order, each checked against its answer (see `run`)."""
        for block in blocks:
            for command in block.commands():
                self.run(command, changes or {}, strict=strict)

    def run(self, command: Command, changes: dict[str, str], *, strict: bool = True) -> None:
        """Paste one command (ports moved, `changes` made to its text) and check what it answered.

        `strict`: every `# →` line must state something the test can check (the walk-through's do).
        """
        text = command.text.replace("127.0.0.1:8080", f"127.0.0.1:{self.port}")
        text = text.replace("127.0.0.1:8090", f"127.0.0.1:{self.mocks_port}")
        for old, new in changes.items():
            text = text.replace(old, new)
        self.names |= assigned_names(text)
        state = self.folder / "state.sh"
        keep = f'declare -p {" ".join(sorted(self.names))} > "{state}" 2>/dev/null\n' if self.names else ""
        script = f'source "{state}"\n{text}\nstatus=$?\n{keep}exit $status\n'
        env = self.env | {"PATH": f"{self.folder / 'bin'}{os.pathsep}{self.env.get('PATH', '')}"}
        answers = self.folder / "answers"
        before = set(answers.iterdir())
        where = f"README.md line {command.line}:\n{command.text}\n"
        try:
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-c", script],
                cwd=self.cwd,
                env=env,
                capture_output=True,
                timeout=COMMAND_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{where}did not finish") from None
        printed = (done.stdout + done.stderr).decode(errors="replace")[-3000:]
        assert done.returncode == 0, f"{where}exited with {done.returncode}:\n{printed}"
        calls = [http_answer(path) for path in sorted(set(answers.iterdir()) - before) if path.suffix == ".headers"]
        assert calls, f"{where}made no HTTP call:\n{printed}"
        if not command.answer:
            failed = [status for status, _, _ in calls if status >= 400]
            assert not failed, f"{where}was answered {failed}:\n{printed}"
            return
        facts = stated(command.answer)
        assert not (strict and facts.is_empty), f"{where}its answer states nothing to check: {command.answer}"
        problems = unmet(facts, *calls[-1])
        assert not problems, f"{where}# → {command.answer}\nbut: {'; '.join(problems)}\n{printed}"


def http_answer(headers: Path) -> tuple[int, dict[str, str], bytes]:
    """The status, headers (lower-case names) and body of one answer the curl wrapper kept."""
    blocks = [block for block in headers.read_text(errors="replace").replace("\r", "").split("\n\n") if block]
    status_line, *lines = blocks[-1].splitlines() if blocks else ["HTTP/1.1 000"]
    fields = dict(line.split(": ", 1) for line in lines if ": " in line)
    body = headers.with_suffix(".body")
    return int(status_line.split()[1]), {name.lower(): value for name, value in fields.items()}, body.read_bytes()


def walk_through(shell: Shell) -> None:
    """Every command of the README's walk-through, as it is written there today."""
    blocks = shell_blocks(readme_text(), WALK_THROUGH)
    assert blocks, f"README.md has no shell blocks under '## {WALK_THROUGH}'"
    shell.run_all(blocks)


def demo(copy: Path, env: dict[str, str]) -> None:
    """`.venv/bin/epolicy demo` against the stack (found through EPOLICY_PORT / EPOLICY_MOCKS_PORT): exit 0."""
    done = subprocess.run(
        [copy / ".venv" / "bin" / "epolicy", "demo"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def as_the_portal_user(copy: Path, stack: Stack) -> dict[str, Any]:
    """An application of the mock OAuth server's `ivanova` for herself, as the portal sends it, followed to its end."""
    users = yaml.safe_load((copy / "mocks" / "data" / "oauth.yaml").read_text(encoding="utf-8"))["users"]
    user = next(user for user in users if user["login"] == "ivanova")
    snils = "".join(filter(str.isdigit, user["snils"]))
    names = {key: user[key] for key in ("last_name", "first_name", "middle_name", "birth_date")}
    api = Api(stack, stack.token(user["sub"], snils))
    return apply_and_wait(api, application(adult(user["snils"], **names, identity_document=PORTAL_PASSPORT)))
