"""`make test` installs Debian's chromium for the browser tests when it may: tests/browser/install-chromium.sh.

The script runs with a PATH of fakes only (`id`, `apt-get`, `sudo`), which write down how they were called: no test
here calls the real apt-get, and a chromium installed on this machine stays out of sight.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "browser" / "install-chromium.sh"
BASH = shutil.which("bash") or "/bin/bash"
INSTALL = "apt-get install -y -q chromium"


@dataclass
class FakeSystem:
    """A folder of fake commands that is the script's whole PATH, and the log they keep."""

    bin: Path
    log: Path

    def command(self, name: str, body: str) -> None:
        """A fake `name` running the shell `body`; every call is written down first."""
        path = self.bin / name
        path.write_text(f'#!/bin/sh\necho "{name} $*" >> "$FAKE_LOG"\n{body}\n', encoding="utf-8")
        path.chmod(0o755)

    def user(self, uid: int) -> None:
        self.command("id", f"echo {uid}")

    def apt_get(self, *, works: bool = True) -> None:
        """A fake apt-get whose install puts a chromium on PATH, as Debian's package puts /usr/bin/chromium."""
        chromium = self.bin / "chromium"
        install = f'printf "#!/bin/sh\\n" > "{chromium}"; /bin/chmod 755 "{chromium}"'
        self.command("apt-get", f'case "$*" in *install*) {install};; esac' if works else "exit 100")

    def calls(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {"PATH": str(self.bin), "FAKE_LOG": str(self.log), **env}
        return subprocess.run([BASH, str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=30)


@pytest.fixture
def system(tmp_path: Path) -> FakeSystem:
    fakes = tmp_path / "bin"
    fakes.mkdir()
    for tool in ("env", "true"):  # what `sudo -n env ... apt-get` and `sudo -n true` run after the fake sudo
        real = shutil.which(tool)
        assert real is not None, tool
        os.symlink(real, fakes / tool)
    return FakeSystem(fakes, tmp_path / "calls.log")


def test_as_root_it_updates_the_package_lists_and_installs_chromium(system: FakeSystem) -> None:
    system.user(0)
    system.apt_get()

    run = system.run()

    assert run.returncode == 0, run.stderr
    assert [call for call in system.calls() if call.startswith("apt-get")] == ["apt-get update -q", f"{INSTALL}"]
    assert "installing Debian's package" in run.stderr
    assert "not on PATH" not in run.stderr, "the fake package put chromium where the script looks"


def test_the_install_is_noninteractive(system: FakeSystem) -> None:
    system.user(0)
    system.command("apt-get", 'echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> "$FAKE_LOG"')

    system.run()

    assert "DEBIAN_FRONTEND=noninteractive" in system.calls()


def test_it_does_nothing_when_chromium_is_there(system: FakeSystem) -> None:
    system.user(0)
    system.apt_get()
    system.command("chromium", "exit 0")

    run = system.run()

    assert (run.returncode, run.stderr) == (0, "")
    assert not [call for call in system.calls() if call.startswith(("apt-get", "sudo"))]


def test_a_user_with_sudo_without_a_password_installs_through_sudo(system: FakeSystem) -> None:
    system.user(1000)
    system.apt_get()
    system.command("sudo", '[ "$1" = -n ] && shift; exec "$@"')

    run = system.run()

    assert run.returncode == 0, run.stderr
    assert f"sudo -n env DEBIAN_FRONTEND=noninteractive {INSTALL}" in system.calls()
    assert INSTALL in system.calls()


def test_a_user_whose_sudo_asks_for_a_password_is_told_why_and_make_goes_on(system: FakeSystem) -> None:
    system.user(1000)
    system.apt_get()
    system.command("sudo", "exit 1")  # `sudo -n` fails rather than ask

    run = system.run()

    assert run.returncode == 0
    assert "needs root or sudo without a password" in run.stderr
    assert not [call for call in system.calls() if call.startswith("apt-get")]


def test_a_user_without_sudo_is_told_why_and_make_goes_on(system: FakeSystem) -> None:
    system.user(1000)
    system.apt_get()

    run = system.run()

    assert run.returncode == 0
    assert "needs root or sudo without a password" in run.stderr
    assert system.calls() == ["id -u"]


def test_a_machine_without_apt_get_is_told_to_install_chromium_by_hand(system: FakeSystem) -> None:
    system.user(0)

    run = system.run()

    assert run.returncode == 0
    assert "no apt-get" in run.stderr


def test_a_failed_install_is_reported_and_does_not_stop_make(system: FakeSystem) -> None:
    system.user(0)
    system.apt_get(works=False)

    run = system.run()

    assert run.returncode == 0
    assert "apt-get could not install chromium" in run.stderr


def test_epolicy_install_chromium_no_leaves_the_system_alone(system: FakeSystem) -> None:
    system.user(0)
    system.apt_get()

    run = system.run(EPOLICY_INSTALL_CHROMIUM="no")

    assert run.returncode == 0
    assert "EPOLICY_INSTALL_CHROMIUM=no" in run.stderr
    assert system.calls() == []


def test_make_test_runs_the_script_before_the_tests() -> None:
    make = shutil.which("make")
    assert make is not None, "make is what runs the suite"
    # -n: print the commands without running any of them (no venv, no apt-get, no pytest).
    plan = subprocess.run([make, "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    lines = plan.stdout.splitlines()
    script = lines.index("tests/browser/install-chromium.sh")
    tests = next(number for number, line in enumerate(lines) if line.endswith("-m pytest"))
    assert script < tests
