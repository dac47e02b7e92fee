"""A full end-to-end run with DEBUG logging (the SOAP message log included) leaves no personal data in the log.

The stack runs as `make run` runs it (`epolicy stack`), its whole output captured to a file; a citizen applies,
replaces their policy, reads its status, prints it, sees their family, and a clinic checks the coverage. Then the
log is searched for every piece of the test people's personal data, in every format it could be written in.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from stdnum.ru import inn as inn_number

from tests.support.people import new_snils
from tests.support.stack import Api, Stack, application, running_stack

# The tests talk to the whole stack in a subprocess.
pytestmark = pytest.mark.network

BIRTH = date(1987, 3, 14)
LAST_NAME, NEW_LAST_NAME = "Прохоренкова", "Веденеева"


@pytest.fixture(scope="module")
def debug_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`epolicy stack --log-level DEBUG` with its stdout and stderr in one file."""
    with running_stack(tmp_path_factory.mktemp("pd-stack"), "--log-level", "DEBUG") as stack:
        yield stack


def new_inn() -> str:
    base = "77" + f"{random.randint(0, 99_999_999):08d}"
    return base + inn_number.calc_personal_check_digits(base)


def formats_of(snils: str, inn: str, series: str, number: str) -> dict[str, str]:
    """Every way the test person's data could be written: a regex for each, digits not glued to other digits."""
    dashed = f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
    digits = {
        "СНИЛС": snils,
        "СНИЛС with dashes": re.escape(dashed),
        "СНИЛС with dashes only": re.escape(dashed.replace(" ", "-")),
        "ИНН": inn,
        "passport series and number": f"{series}\\s?{number}",
        "passport number": number,
        "birth date (ISO)": BIRTH.isoformat(),
        "birth date (Russian)": re.escape(BIRTH.strftime("%d.%m.%Y")),
    }
    found = {label: f"(?<![0-9a-fA-F]){pattern}(?![0-9a-fA-F])" for label, pattern in digits.items()}
    found |= {"last name": LAST_NAME, "new last name": NEW_LAST_NAME}
    return found


def test_a_full_run_logs_no_personal_data_in_clear(debug_stack: Stack) -> None:
    snils, inn = new_snils(), new_inn()
    series, number = f"{random.randint(1000, 9999)}", f"{random.randint(100_000, 999_999)}"
    person = {
        "last_name": LAST_NAME,
        "first_name": "Ангелина",
        "middle_name": "Всеволодовна",
        "birth_date": BIRTH.isoformat(),
        "sex": "female",
        "birth_place": "г. Москва",
        "citizenship": "RUS",
        "snils": snils,
        "inn": inn,
        "identity_document": {
            "type": "passport_rf",
            "series": series,
            "number": number,
            "issue_date": "2010-06-01",
            "issuer": "ГУ МВД России по г. Москве",
        },
    }
    api = Api(debug_stack, debug_stack.token(f"pd-{uuid.uuid4().hex[:8]}", snils))
    answer = api.post("/api/v1/applications", application(person))
    assert answer.status_code == 202, answer.text
    done = api.until_final(answer.headers["Location"])
    assert done["status"] == "issued", done
    enp = done["policy"]["enp"]
    replaced = api.post(
        f"/api/v1/policies/{enp}/replacements",
        {"reason": "personal_data_change", "person": {"last_name": NEW_LAST_NAME}, "policy_form": "electronic"},
    )
    assert replaced.status_code == 202, replaced.text
    assert api.until_final(replaced.headers["Location"])["status"] == "issued"
    assert api.get(f"/api/v1/policies/{enp}").status_code == 200
    assert api.get(f"/api/v1/policies/{enp}/document").headers["Content-Type"] == "application/pdf"
    assert api.get("/api/v1/me/family").status_code == 200
    assert api.get("/api/v1/applications").status_code == 200
    clinic = Api(debug_stack, debug_stack.clinic_token())
    assert clinic.get("/api/v1/coverage", params={"enp": enp, "region_code": "77"}).status_code == 200
    assert clinic.get("/api/v1/coverage", params={"snils": snils, "region_code": "77"}).status_code == 200

    log = wait_for_soap_log(debug_stack.log)
    leaks = {
        label: pattern for label, pattern in formats_of(snils, inn, series, number).items() if re.search(pattern, log)
    }
    assert leaks == {}, "personal data in the log: " + ", ".join(
        f"{label} in «{context(log, pattern)}»" for label, pattern in leaks.items()
    )


def wait_for_soap_log(path: Path) -> str:
    """The log once the SOAP message log is in it: the test must really read DEBUG messages."""
    deadline = time.monotonic() + 5
    text = path.read_text(errors="replace")
    while "SOAP" not in text and time.monotonic() < deadline:
        time.sleep(0.1)
        text = path.read_text(errors="replace")
    assert "DEBUG epolicy.soap" in text, "the run must log the (masked) SOAP messages at DEBUG"
    return text


def context(log: str, pattern: str) -> str:
    found = re.search(pattern, log)
    assert found is not None
    line_start = log.rfind("\n", 0, found.start()) + 1
    return log[line_start : line_start + 200]
