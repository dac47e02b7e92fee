"""`epolicy demo`: one citizen's journey through a running stack's REST API, printed as a readable transcript.

A made-up person with valid random identifiers gets a token from the mock OAuth server's QA endpoint, applies for
a policy, follows the application until the policy is issued, reads the policy's status, changes their surname
(a replacement) and is then refused a second policy with the same insurer, with the reason and what to do about it.
The СНИЛС and the passport number are shown masked, as every screen and log of the project shows them.
"""

from __future__ import annotations

import os
import random
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import requests

from mocks.snils import check_number

DEFAULT_GATEWAY = "http://127.0.0.1:8080"
DEFAULT_MOCKS = "http://127.0.0.1:8090"
SCOPE = "epolicy.apply epolicy.read epolicy.replace"
FINAL = frozenset({"issued", "rejected", "cancelled"})
REQUEST_TIMEOUT = 10
LABEL_WIDTH = 16
LINE_WIDTH = 110

STATUSES = {
    "accepted": "принято",
    "verifying": "проверка в фонде",
    "issuing": "оформление в СМО",
    "issued": "полис выдан",
    "rejected": "отказ",
    "cancelled": "отозвано",
}
POLICY_STATUSES = {
    "active": "действует",
    "expired": "срок истёк",
    "suspended": "приостановлен",
    "annulled": "аннулирован",
    "pending": "оформляется",
}
POLICY_FORMS = {"electronic": "электронный", "paper": "бумажный", "plastic": "пластиковая карта"}
SOURCES = {"gateway": "шлюз", "fund": "фонд (ТФОМС)", "insurer": "страховая организация"}
SURNAMES = {
    "female": ["Смирнова", "Кузнецова", "Попова", "Васильева", "Соколова", "Морозова", "Новикова", "Фёдорова"],
    "male": ["Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Морозов", "Новиков", "Фёдоров"],
}
FIRST_NAMES = {"female": ["Анна", "Мария", "Елена", "Ольга", "Дарья"], "male": ["Иван", "Пётр", "Сергей", "Алексей"]}
MIDDLE_NAMES = {"female": ["Ивановна", "Петровна", "Сергеевна"], "male": ["Иванович", "Петрович", "Сергеевич"]}

Echo = Callable[[str], None]


class DemoError(Exception):
    """The walk-through cannot go on; the message says why, for the person at the terminal."""


class StackNotRunning(DemoError):
    """The gateway or the mocks do not answer at the given address."""


@dataclass(frozen=True)
class Outcome:
    """What the walk-through did: the policy, its applications and the refusal it showed."""

    enp: str
    application_id: str
    replacement_id: str
    refused_id: str
    refusal_code: str


def default_urls() -> tuple[str, str]:
    """The gateway's and the mocks' addresses on this machine, with the ports `make run` uses."""
    gateway = os.environ.get("EPOLICY_PORT", "8080")
    mocks = os.environ.get("EPOLICY_MOCKS_PORT", "8090")
    return f"http://127.0.0.1:{gateway}", f"http://127.0.0.1:{mocks}"


def new_person(rng: random.Random, today: date) -> dict[str, Any]:
    """A made-up adult citizen of the RF with a valid random СНИЛС and a passport in force."""
    sex = rng.choice(["female", "male"])
    age = rng.randint(25, 44)  # the passport issued after the 20th birthday stays valid until the 45th
    born = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
    issued = min(born.replace(year=born.year + 20) + timedelta(days=rng.randint(30, 900)), today - timedelta(days=30))
    first_nine = str(rng.randint(2_000_000, 999_999_999)).zfill(9)
    return {
        "last_name": rng.choice(SURNAMES[sex]),
        "first_name": rng.choice(FIRST_NAMES[sex]),
        "middle_name": rng.choice(MIDDLE_NAMES[sex]),
        "birth_date": born.isoformat(),
        "sex": sex,
        "birth_place": "г. Москва",
        "citizenship": "RUS",
        "snils": first_nine + check_number(first_nine),
        "identity_document": {
            "type": "passport_rf",
            "series": f"45{rng.randint(0, 99):02d}",
            "number": f"{rng.randint(1, 999_999):06d}",
            "issue_date": issued.isoformat(),
            "issuer": "ГУ МВД России по г. Москве",
        },
    }


def masked_snils(digits: str) -> str:
    """A СНИЛС as printed, every digit but the check number hidden: ***-***-*** 95."""
    return f"***-***-*** {digits[-2:]}"


def masked_number(value: str) -> str:
    """Every character but the last two hidden."""
    return "*" * (len(value) - 2) + value[-2:]


class Walkthrough:
    """The journey, step by step, on one requests session."""

    def __init__(self, gateway: str, mocks: str, echo: Echo, timeout: float, poll: float) -> None:
        self.gateway = gateway.rstrip("/")
        self.mocks = mocks.rstrip("/")
        self.echo = echo
        self.timeout = timeout
        self.poll = poll
        self.session = requests.Session()
        self.step = 0

    def heading(self, title: str, call: str) -> None:
        self.step += 1
        self.echo("")
        self.echo(f"[{self.step}] {title} — {call}")

    def line(self, label: str, text: str) -> None:
        indent = " " * (4 + LABEL_WIDTH)
        wrapped = textwrap.fill(text, width=LINE_WIDTH, initial_indent=indent, subsequent_indent=indent)
        self.echo(f"    {label + ':':<{LABEL_WIDTH}}{wrapped[len(indent) :]}")

    def call(self, method: str, url: str, expected: int, **kwargs: Any) -> requests.Response:
        """One HTTP call; an answer other than `expected` ends the walk-through with what the server said."""
        try:
            answer = self.session.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            raise DemoError(f"{method} {url} не удался: {type(error).__name__}") from None
        if answer.status_code != expected:
            detail = _problem_text(answer)
            raise DemoError(f"{method} {url} ответил {answer.status_code} вместо {expected}: {detail}")
        return answer

    def check_stack(self) -> None:
        for name, url, hint in (
            ("Шлюз", f"{self.gateway}/healthz", "--gateway-url"),
            ("Моки и сервер OAuth", f"{self.mocks}/oauth/.well-known/openid-configuration", "--mocks-url"),
        ):
            try:
                ok = self.session.get(url, timeout=REQUEST_TIMEOUT).status_code == 200
            except requests.RequestException:
                ok = False
            if not ok:
                raise StackNotRunning(
                    f"{name} не отвечает ({url}). Запустите стенд командой `make run` (или `epolicy stack`) "
                    f"или укажите адрес параметром {hint}."
                )

    def token(self, person: dict[str, Any]) -> None:
        self.heading("Токен гражданина", "POST /oauth/test/token (тестовый сервер OAuth)")
        sub = f"demo-{uuid.uuid4().hex[:8]}"
        body = {"sub": sub, "snils": person["snils"], "scope": SCOPE, "expires_in": 600}
        answer = self.call("POST", f"{self.mocks}/oauth/test/token", 200, json=body)
        token = answer.json()["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.line("Пользователь", f"{sub}, СНИЛС {masked_snils(person['snils'])}")
        self.line("Токен", f"Bearer, {answer.json().get('expires_in', 600)} с, области {SCOPE}")

    def apply(self, body: dict[str, Any], expected: int = 202) -> dict[str, Any]:
        answer = self.call(
            "POST", f"{self.gateway}/api/v1/applications", expected, json=body, headers=_idempotency_key()
        )
        created: dict[str, Any] = answer.json()
        self.line("Ответ", f"{answer.status_code} Accepted, заявление {created['id']}")
        return created

    def follow(self, application: dict[str, Any]) -> dict[str, Any]:
        """Poll an application until it is final, printing each new step of its history."""
        url = f"{self.gateway}/api/v1/applications/{application['id']}"
        started = time.monotonic()
        while True:
            body: dict[str, Any] = self.call("GET", url, 200).json()
            # Each answer has the whole history: read it afresh, or a second poll would repeat the first steps.
            seen: list[str] = []
            for entry in body["history"]:
                if "note" not in entry and (not seen or seen[-1] != entry["status"]):
                    seen.append(entry["status"])
            if body["status"] in FINAL:
                break
            if time.monotonic() - started > self.timeout:
                raise DemoError(
                    f"заявление {body['id']} не завершилось за {self.timeout:.0f} с, последний статус {body['status']}"
                )
            time.sleep(self.poll)
        path = " → ".join(STATUSES.get(status, status) for status in seen)
        self.line("Ход", f"{path} ({time.monotonic() - started:.1f} с)")
        return body

    def policy(self, enp: str) -> dict[str, Any]:
        policy: dict[str, Any] = self.call("GET", f"{self.gateway}/api/v1/policies/{enp}", 200).json()
        insurer = policy["insurer"]
        self.line("Статус", f"{POLICY_STATUSES.get(policy['status'], policy['status'])} с {policy['valid_from']}")
        self.line("СМО", f"{insurer['code']} {insurer.get('name') or ''}".rstrip())
        form = POLICY_FORMS.get(policy["policy_form"], policy["policy_form"])
        self.line("Регион, форма", f"{policy['region_code']}, {form}")
        holder = policy["holder"]
        self.line("Держатель", f"{holder['last_name']} {holder['first_name']}, {holder['birth_date']}")
        return policy


def run_demo(
    gateway: str = DEFAULT_GATEWAY,
    mocks: str = DEFAULT_MOCKS,
    echo: Echo = print,
    timeout: float = 60.0,
    poll: float = 0.3,
    rng: random.Random | None = None,
) -> Outcome:
    """Walk through apply → status → replace → a refusal on the stack at `gateway` and `mocks`; print as it goes."""
    rng = rng or random.Random()
    walk = Walkthrough(gateway, mocks, echo, timeout, poll)
    echo("Шлюз электронных полисов ОМС: демонстрация")
    echo(f"Шлюз {walk.gateway}, моки и OAuth {walk.mocks}")
    walk.check_stack()
    person = new_person(rng, date.today())
    walk.token(person)

    walk.heading("Заявление на полис", "POST /api/v1/applications")
    document = person["identity_document"]
    sex = "жен." if person["sex"] == "female" else "муж."
    name = f"{person['last_name']} {person['first_name']} {person['middle_name']}"
    walk.line("Заявитель", f"{name}, {sex}, {person['birth_date']}, {person['birth_place']}")
    walk.line("СНИЛС", masked_snils(person["snils"]))
    walk.line("Паспорт РФ", f"{document['series']} {masked_number(document['number'])}, выдан {document['issue_date']}")
    walk.line("Выбор", "регион 77, СМО 77001, электронный полис")
    body = {
        "relation": "self",
        "person": person,
        "region_code": "77",
        "insurer_code": "77001",
        "policy_form": "electronic",
    }
    issued = walk.follow(walk.apply(body))
    if issued["status"] != "issued":
        raise DemoError(f"заявление {issued['id']} завершилось статусом {issued['status']}: {_reasons(issued)}")
    enp = issued["policy"]["enp"]
    walk.line("ЕНП", enp)

    walk.heading("Статус полиса", f"GET /api/v1/policies/{enp}")
    walk.policy(enp)

    new_surname = rng.choice([other for other in SURNAMES[person["sex"]] if other != person["last_name"]])
    walk.heading(f"Замена полиса: смена фамилии {person['last_name']} → {new_surname}", f"POST …/{enp}/replacements")
    change = {"reason": "personal_data_change", "person": {"last_name": new_surname}, "policy_form": "electronic"}
    answer = walk.call("POST", f"{walk.gateway}/api/v1/policies/{enp}/replacements", 202, json=change)
    replacement: dict[str, Any] = answer.json()
    walk.line("Ответ", f"202 Accepted, заявление {replacement['id']} (замена)")
    replaced = walk.follow(replacement)
    if replaced["status"] != "issued":
        raise DemoError(f"замена {replaced['id']} завершилась статусом {replaced['status']}: {_reasons(replaced)}")
    same = replaced["policy"]["enp"] == enp
    walk.line("ЕНП", f"{replaced['policy']['enp']} ({'тот же' if same else 'новый'})")
    walk.policy(enp)

    walk.heading("Отказ: второе заявление в ту же СМО", "POST /api/v1/applications")
    person["last_name"] = new_surname
    refused = walk.follow(walk.apply(body))
    if refused["status"] != "rejected":
        raise DemoError(f"ожидался отказ, а заявление {refused['id']} в статусе {refused['status']}")
    reason = refused["rejection"]["reasons"][0]
    walk.line("Причина", f"{reason['code']} — сообщает {SOURCES.get(reason['source'], reason['source'])}")
    walk.line("Поле", reason["field"] or "—")
    walk.line("Сообщение", reason["message"])
    walk.line("Рекомендация", reason["recommendation"])

    echo("")
    echo("Готово: полис выдан, заменён, отказ пришёл с причиной и рекомендацией.")
    return Outcome(enp, issued["id"], replaced["id"], refused["id"], reason["code"])


def _idempotency_key() -> dict[str, str]:
    # A retry of the demo's own POST after a lost answer would then return the same application.
    return {"Idempotency-Key": f"demo-{uuid.uuid4()}"}


def _reasons(application: dict[str, Any]) -> str:
    reasons = (application.get("rejection") or {}).get("reasons") or []
    return "; ".join(f"{reason['code']}: {reason['message']}" for reason in reasons) or "без причины"


def _problem_text(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.text[:200]
    if isinstance(body, dict):
        errors = body.get("errors") or []
        codes = ", ".join(str(error.get("code")) for error in errors if isinstance(error, dict))
        return f"{body.get('detail') or body.get('title') or body}" + (f" ({codes})" if codes else "")
    return str(body)[:200]
