"""Two distributions: the gateway's wheel ships the product alone; the mocks, the stack and the demo are another.

The mock OAuth server mints tokens for any test user; a production install of the gateway must not carry it.
Both wheels are built from a copy of the sources, as pip builds them, and their files and entry points read.
"""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# pip builds each wheel in a subprocess, fetching setuptools from the package index for its build environment.
pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "instance", ".*_cache", "tests", "bench"
)


def build_wheel(project: Path, into: Path) -> zipfile.ZipFile:
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(into), str(project)]
    subprocess.run(command, check=True, capture_output=True)
    [wheel] = into.glob("*.whl")
    return zipfile.ZipFile(wheel)


def entry_points(wheel: zipfile.ZipFile) -> configparser.ConfigParser:
    [name] = [item for item in wheel.namelist() if item.endswith(".dist-info/entry_points.txt")]
    parser = configparser.ConfigParser()
    parser.read_string(wheel.read(name).decode())
    return parser


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[zipfile.ZipFile, zipfile.ZipFile]]:
    """The gateway's wheel and the mocks' wheel, built from a copy of the sources."""
    folder = tmp_path_factory.mktemp("dist")
    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=SKIPPED)
    gateway = build_wheel(source, folder / "gateway")
    mocks = build_wheel(source / "mocks", folder / "mocks")
    yield gateway, mocks
    gateway.close()
    mocks.close()


def top_folders(wheel: zipfile.ZipFile) -> set[str]:
    return {name.split("/", 1)[0] for name in wheel.namelist() if not name.split("/", 1)[0].endswith(".dist-info")}


def test_the_gateways_wheel_ships_the_product_and_no_mock(wheels: tuple[zipfile.ZipFile, zipfile.ZipFile]) -> None:
    gateway, _ = wheels
    assert top_folders(gateway) == {"gateway", "adapters", "contracts"}
    names = gateway.namelist()
    # What the product reads at run time: its migrations, the contracts, its reference data.
    for needed in (
        "gateway/storage/migrations/versions/0005_applications_stalled.py",
        "contracts/fund/fund-v2.xsd",
        "contracts/rejections.yaml",
        "gateway/data/regions.yaml",
    ):
        assert needed in names
    assert not [name for name in names if "demo" in name.rsplit("/", 1)[-1]]
    points = entry_points(gateway)
    assert dict(points["console_scripts"]) == {"epolicy": "gateway.cli:main"}
    assert not points.has_section("epolicy.commands")


def test_the_mocks_wheel_carries_the_mocks_and_adds_the_developers_commands(
    wheels: tuple[zipfile.ZipFile, zipfile.ZipFile],
) -> None:
    _, mocks = wheels
    assert top_folders(mocks) == {"mocks"}
    names = set(mocks.namelist())
    for needed in ("mocks/app.py", "mocks/commands.py", "mocks/demo.py", "mocks/oauth/__init__.py"):
        assert needed in names
    assert any(name.startswith("mocks/data/") and name.endswith(".yaml") for name in names)
    assert any(name.startswith("mocks/templates/") and name.endswith(".html") for name in names)
    assert not [name for name in names if name.endswith("pyproject.toml")]
    points = entry_points(mocks)
    assert dict(points["epolicy.commands"]) == {
        "stack": "mocks.commands:stack",
        "mocks": "mocks.commands:mocks",
        "demo": "mocks.commands:demo",
    }
    assert dict(points["console_scripts"]) == {"epolicy-mocks": "mocks.__main__:main"}


def test_the_mocks_distribution_lists_every_package_of_the_folder() -> None:
    declared = tomllib.loads((ROOT / "mocks" / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {
        ".".join(("mocks", *init.parent.relative_to(ROOT / "mocks").parts))
        for init in (ROOT / "mocks").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert set(declared["packages"]) == found


def imported(folder: Path) -> Iterator[tuple[Path, str]]:
    """(module file, top-level package) for every import in the Python files under `folder`."""
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                yield from ((path, alias.name.split(".")[0]) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module.split(".")[0]


def test_the_product_imports_no_mock_and_the_mocks_import_nothing_of_the_product() -> None:
    product = [
        f"{path.relative_to(ROOT)}"
        for folder in ("gateway", "adapters", "contracts")
        for path, name in imported(ROOT / folder)
        if name == "mocks"
    ]
    assert product == []
    mocks = [
        f"{path.relative_to(ROOT)}: {name}"
        for path, name in imported(ROOT / "mocks")
        if name in ("gateway", "adapters")
    ]
    assert mocks == []
