"""Reference data: regions, insurers and their admission; the reason codes the rules use."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

import contracts
from gateway.domain import documents, eligibility, identifiers
from gateway.domain.model import Insurer
from gateway.domain.reference import DEFAULT_INSURERS, DEFAULT_REGIONS, InsurerInfo, load_reference

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = load_reference()


def test_loads_the_reference_shipped_with_the_gateway_by_default() -> None:
    assert load_reference(DEFAULT_INSURERS, DEFAULT_REGIONS) == REFERENCE


def test_lists_the_89_subjects_of_the_russian_federation() -> None:
    assert len(REFERENCE.regions) == 89
    assert all(re.fullmatch(r"[0-9]{2}", code) for code in REFERENCE.regions)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("01", "Республика Адыгея (Адыгея)"),
        ("50", "Московская область"),
        ("77", "Москва"),
        ("78", "Санкт-Петербург"),
        ("83", "Ненецкий автономный округ"),
        ("89", "Ямало-Ненецкий автономный округ"),
        ("90", "Запорожская область"),
        ("91", "Республика Крым"),
        ("92", "Севастополь"),
        ("93", "Донецкая Народная Республика"),
        ("94", "Луганская Народная Республика"),
        ("95", "Херсонская область"),
    ],
)
def test_names_a_region_by_its_code(code: str, name: str) -> None:
    assert REFERENCE.regions[code] == name


@pytest.mark.parametrize("code", ["00", "80", "81", "82", "84", "85", "88", "96", "99"])
def test_knows_no_region_merged_away_or_never_a_subject(code: str) -> None:
    assert code not in REFERENCE.regions


def test_knows_the_same_insurers_as_the_mock_registry() -> None:
    seed = yaml.safe_load((ROOT / "mocks" / "data" / "registry.yaml").read_text(encoding="utf-8"))
    mock = {raw["code"]: raw for raw in seed["insurers"]}
    assert set(REFERENCE.insurers) == set(mock)
    for code, insurer in REFERENCE.insurers.items():
        raw = mock[code]
        assert (insurer.name, insurer.region_code, insurer.policy_forms) == (
            raw["name"],
            raw["region_code"],
            tuple(raw["policy_forms"]),
        )
        assert insurer.admitted_from == date.fromisoformat(raw["admitted_from"])
        assert insurer.admitted_to == (date.fromisoformat(raw["admitted_to"]) if "admitted_to" in raw else None)
        assert (insurer.phone, insurer.website) == (raw.get("phone"), raw.get("website"))


ENDED = InsurerInfo("77003", "СМО", "77", date(2012, 1, 1), date(2024, 12, 31), ("paper",))


@pytest.mark.parametrize(
    ("day", "region", "admitted"),
    [
        (date(2011, 12, 31), "77", False),
        (date(2012, 1, 1), "77", True),
        (date(2024, 12, 31), "77", True),
        (date(2025, 1, 1), "77", False),
        (date(2020, 1, 1), "50", False),
    ],
)
def test_admits_an_insurer_in_its_region_from_its_first_to_its_last_day(day: date, region: str, admitted: bool) -> None:
    assert ENDED.admitted_on(day, region) is admitted


def test_lists_the_insurers_admitted_in_a_region_on_a_day() -> None:
    assert [insurer.code for insurer in REFERENCE.insurers_in("77", date(2026, 6, 15))] == ["77001", "77002"]
    assert [insurer.code for insurer in REFERENCE.insurers_in("77", date(2014, 6, 15))] == ["77001", "77003"]
    assert [insurer.code for insurer in REFERENCE.insurers_in("50", date(2026, 6, 15))] == ["50001"]


def test_gives_the_insurer_as_the_api_lists_it() -> None:
    assert REFERENCE.insurers["50001"].as_insurer() == Insurer(
        code="50001",
        name="АО «Подмосковная страховая медицинская компания»",
        region_code="50",
        policy_forms=("electronic", "paper"),
        phone="+7 498 000-00-01",
        website="https://smo-50001.example",
    )


def test_cannot_be_changed_once_loaded() -> None:
    with pytest.raises(TypeError):
        REFERENCE.regions["00"] = "Нигде"  # type: ignore[index]


def write(tmp_path: Path, insurers: str) -> Path:
    path = tmp_path / "insurers.yaml"
    path.write_text(insurers, encoding="utf-8")
    return path


def test_refuses_an_insurer_in_an_unknown_region(tmp_path: Path) -> None:
    path = write(tmp_path, 'insurers:\n  - {code: "00001", name: "X", region_code: "00", admitted_from: 2020-01-01}\n')
    with pytest.raises(ValueError, match="unknown region 00"):
        load_reference(path)


def test_refuses_an_insurer_listed_twice(tmp_path: Path) -> None:
    entry = '  - {code: "77001", name: "X", region_code: "77", admitted_from: "2020-01-01"}\n'
    with pytest.raises(ValueError, match="listed twice"):
        load_reference(write(tmp_path, "insurers:\n" + entry + entry))


def test_refuses_an_insurer_without_its_admission_date(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="77001"):
        load_reference(write(tmp_path, 'insurers:\n  - {code: "77001", name: "X", region_code: "77"}\n'))


# --- the codes the rules use ---------------------------------------------------------------------------------


def violation_codes(module: object) -> set[str]:
    """Every code a module passes to Violation(...) as a literal."""
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Violation"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def test_every_code_the_rules_use_is_in_the_catalogue() -> None:
    catalogue = yaml.safe_load(contracts.path("rejections.yaml").read_text(encoding="utf-8"))
    known = {reason["code"] for reason in catalogue["reasons"]}
    used = set().union(*(violation_codes(module) for module in (identifiers, documents, eligibility)))
    assert len(used) > 25
    assert sorted(used - known) == []
