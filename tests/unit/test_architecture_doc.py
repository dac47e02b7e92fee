"""ARCHITECTURE.md names files that exist, and follows a request naming each of them once."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
# A file or folder named from the top ("gateway/storage/store.py", "gateway/domain/"), or a file after one
# ("tables.py", "auth/jwks.py"), on its line or the lines that go on from it.
FULL = re.compile(r"\b((?:gateway|adapters|mocks|contracts)/(?:\w+/)*)(\w+\.(?:py|toml))?")
SHORT = re.compile(r"(?<![\w/.])([\w/]+\.py)\b")


def named(section: str) -> list[str]:
    """Every file a section names, as a path from the top: a short name is taken beside the last full one."""
    found: list[str] = []
    folder = None
    for line in section.splitlines():
        for match in re.finditer(rf"{FULL.pattern}|{SHORT.pattern}", line):
            if match.group(1) is not None:
                folder = match.group(1)
                if match.group(2) is not None:
                    found.append(folder + match.group(2))
            elif folder is not None:
                found.append(_beside(folder, match.group(3)))
    return found


def _beside(folder: str, name: str) -> str:
    # "validator.py" after "gateway/auth/protector.py" is gateway/auth/; "auth/jwks.py" walks up to gateway/.
    path = Path(folder)
    while path != Path(".") and not (ROOT / path / name).exists():
        path = path.parent
    return str(path / name)


def test_every_file_the_architecture_names_exists() -> None:
    missing = [path for path in named(TEXT) if not (ROOT / path).exists()]
    assert missing == []


def _section(title: str) -> str:
    return TEXT.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_the_request_path_names_each_file_once_and_fewer_than_it_took() -> None:
    files = named(_section("A request"))
    assert "gateway/storage/store.py" in files and "gateway/api/operation.py" in files
    assert len(files) == len(set(files)), sorted(path for path in files if files.count(path) > 1)
    assert len(files) < 22  # before the operations were declared once, the POST path named 22 files


def test_the_read_path_names_the_fund_adapter_and_the_fast_paths() -> None:
    files = named(_section("A read"))
    assert {"adapters/fund.py", "adapters/codec.py", "gateway/storage/reads.py"} <= set(files)
