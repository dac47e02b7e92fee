"""Benchmark 5: resident memory of a gateway worker process over many requests of every kind.

The gateway runs under gunicorn in a subprocess with one gthread worker (8 threads), the mocks under gunicorn
beside it (see bench/_common.py); the worker's resident size is read from /proc/<pid>/status (VmRSS) of that
worker process, not of the master. Four keep-alive clients send a fixed mix, in turn:

- status checks of the ЕНП the mock fund knows, with a clinic's token (200), an unknown ЕНП with a valid check
  digit (404 after asking the fund) and one with a wrong check digit (422);
- a citizen's own list, GET /api/v1/applications, and one of their applications by id (200); an unknown id (404);
- POST /api/v1/applications/validate with a valid draft (200) and with a bad СНИЛС (422);
- applications, POST /api/v1/applications with a fresh Idempotency-Key (202; nothing carries them on, since the
  WSGI app starts no outbox workers, so they stay accepted).

Citizens are a small fixed set, each with their own token and СНИЛС. After a warm-up the size is sampled at every
tenth of the run, while no request is in flight. Noise: the larger of 2 MiB and 2 % of the size after warm-up; the
target is no growth beyond it from after warm-up to the end.

Run: `.venv/bin/python -m bench.memory [--quick]`.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stdnum import luhn

from bench._common import KeepAlive, Stack
from gateway.api.docs import APPLICATION_EXAMPLES
from tests.support.people import new_snils

KNOWN_ENPS = ("7748410819000012", "7752020876000012", "7757110838000013", "7796789779000018", "7770150846000012")
CLIENTS = 4
GATEWAY_THREADS = 8
CITIZENS = 8
CHECKPOINTS = 10
NOISE_MIB = 2.0
NOISE_SHARE = 0.02
MIB = 1024 * 1024


@dataclass(frozen=True)
class Call:
    """One request of the mix and the answer it must get."""

    kind: str
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    expected: int


@dataclass
class Citizen:
    token: str
    snils: str
    application_ids: list[str]


def draft(snils: str, *, valid: bool = True) -> dict[str, Any]:
    """The documented application for oneself (the /docs example) with this СНИЛС; a wrong check number if not valid."""
    body: dict[str, Any] = copy.deepcopy(APPLICATION_EXAMPLES["self"]["value"])
    body["person"]["snils"] = snils if valid else snils[:9] + f"{(int(snils[9:]) + 1) % 100:02d}"
    return body


def unknown_enp() -> str:
    """An ЕНП with a valid check digit that the mock fund does not know (a new one every time)."""
    body = "99" + "".join(random.choice("0123456789") for _ in range(13))
    return body + luhn.calc_check_digit(body)


class Mix:
    """The n-th request of the run, the same mix in every tenth of it."""

    def __init__(self, clinic_token: str, citizens: list[Citizen]):
        self.clinic = {"Authorization": f"Bearer {clinic_token}"}
        self.citizens = citizens
        self.kinds: list[Callable[[int], Call]] = [
            self.status_known,
            self.own_list,
            self.validate_valid,
            self.status_unknown,
            self.own_application,
            self.validate_invalid,
            self.status_bad_check_digit,
            self.apply,
            self.status_known,
            self.unknown_application,
        ]

    def call(self, number: int) -> Call:
        return self.kinds[number % len(self.kinds)](number)

    def _citizen(self, number: int) -> tuple[Citizen, dict[str, str]]:
        citizen = self.citizens[(number // len(self.kinds)) % len(self.citizens)]
        return citizen, {"Authorization": f"Bearer {citizen.token}", "Content-Type": "application/json"}

    def status_known(self, number: int) -> Call:
        enp = KNOWN_ENPS[number % len(KNOWN_ENPS)]
        return Call("status 200", "GET", f"/api/v1/policies/{enp}", None, self.clinic, 200)

    def status_unknown(self, number: int) -> Call:
        return Call("status 404", "GET", f"/api/v1/policies/{unknown_enp()}", None, self.clinic, 404)

    def status_bad_check_digit(self, number: int) -> Call:
        enp = unknown_enp()
        wrong = enp[:-1] + str((int(enp[-1]) + 1) % 10)
        return Call("status 422", "GET", f"/api/v1/policies/{wrong}", None, self.clinic, 422)

    def own_list(self, number: int) -> Call:
        _, headers = self._citizen(number)
        return Call("own list 200", "GET", "/api/v1/applications", None, headers, 200)

    def own_application(self, number: int) -> Call:
        citizen, headers = self._citizen(number)
        application_id = citizen.application_ids[number % len(citizen.application_ids)]
        return Call("own application 200", "GET", f"/api/v1/applications/{application_id}", None, headers, 200)

    def unknown_application(self, number: int) -> Call:
        _, headers = self._citizen(number)
        path = "/api/v1/applications/app_01JZZZZZZZZZZZZZZZZZZZZZZZ"
        return Call("unknown application 404", "GET", path, None, headers, 404)

    def validate_valid(self, number: int) -> Call:
        citizen, headers = self._citizen(number)
        body = json.dumps(draft(citizen.snils)).encode()
        return Call("validate 200", "POST", "/api/v1/applications/validate", body, headers, 200)

    def validate_invalid(self, number: int) -> Call:
        citizen, headers = self._citizen(number)
        body = json.dumps(draft(citizen.snils, valid=False)).encode()
        return Call("validate 422", "POST", "/api/v1/applications/validate", body, headers, 422)

    def apply(self, number: int) -> Call:
        citizen, headers = self._citizen(number)
        body = json.dumps(draft(citizen.snils)).encode()
        headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
        return Call("apply 202", "POST", "/api/v1/applications", body, headers, 202)


def drive(port: int, mix: Mix, start: int, count: int, tally: Counter[str]) -> None:
    """Requests number `start` to `start + count - 1` of the mix, from CLIENTS keep-alive clients at once."""
    numbers = iter(range(start, start + count))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def client() -> None:
        connection = KeepAlive(port)
        try:
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                call = mix.call(number)
                status, _ = connection.request(call.method, call.path, call.body, call.headers)
                with lock:
                    tally[call.kind if status == call.expected else f"{call.kind}: got {status}"] += 1
        except BaseException as error:  # reported by the caller
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def worker_pid(master: int) -> int:
    """The one gunicorn worker of `master`."""
    children = [
        int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit() and _parent(entry) == master
    ]
    if len(children) != 1:
        raise RuntimeError(f"expected one gunicorn worker under {master}, found {children}")
    return children[0]


def _parent(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[1])


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    """A size in KiB from /proc/<pid>/status (VmRSS: resident now, VmHWM: the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def slope_per_thousand(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of (requests, MiB), in MiB per 1000 requests."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread * 1000 if spread else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 000 requests instead of 10 000")
    args = parser.parse_args(argv)
    total, warmup = (2_000, 1_500) if args.quick else (10_000, 2_000)

    tally: Counter[str] = Counter()
    with Stack(gateway_workers=1, gateway_threads=GATEWAY_THREADS) as stack:
        clinic = stack.token("bench-memory-clinic", "epolicy.eligibility")
        citizens = []
        for index in range(CITIZENS):
            snils = new_snils()
            token = stack.token(f"bench-memory-{index}", "epolicy.apply epolicy.read", snils=snils)
            citizens.append(Citizen(token, snils, []))
        for citizen in citizens:  # one application each, so that reading one's own application has one to read
            connection = KeepAlive(stack.gateway.port)
            headers = {"Authorization": f"Bearer {citizen.token}", "Content-Type": "application/json"}
            status, body = connection.request(
                "POST", "/api/v1/applications", json.dumps(draft(citizen.snils)).encode(), headers
            )
            connection.close()
            if status != 202:
                raise RuntimeError(f"applying answered {status}: {body[:300]!r}")
            citizen.application_ids.append(json.loads(body)["id"])
        mix = Mix(clinic, citizens)
        worker = worker_pid(stack.gateway.pid)

        drive(stack.gateway.port, mix, 0, warmup, Counter())
        rows: list[tuple[str, int, float]] = [("after warm-up", 0, memory_kib(worker) / 1024)]
        step = total // CHECKPOINTS
        for index in range(CHECKPOINTS):
            drive(stack.gateway.port, mix, warmup + index * step, step, tally)
            done = (index + 1) * step
            rows.append((f"{(index + 1) * 100 // CHECKPOINTS}%", done, memory_kib(worker) / 1024))
        peak = memory_kib(worker, "VmHWM") / 1024
        if worker_pid(stack.gateway.pid) != worker:
            raise RuntimeError("the gunicorn worker was replaced during the run: its figures mean nothing")

    start = rows[0][2]
    print(
        f"\nResident size (VmRSS) of the gateway's gunicorn worker (gthread, 1 worker × {GATEWAY_THREADS} threads), "
        f"{CLIENTS} keep-alive clients; {total} requests after {warmup} of warm-up\n"
    )
    print(f"  {'checkpoint':<14} {'requests':>9} {'RSS MiB':>9} {'Δ MiB':>8}")
    for name, done, size in rows:
        print(f"  {name:<14} {done:>9} {size:>9.1f} {size - start:>+8.1f}")
    end = rows[-1][2]
    growth = end - start
    middle = rows[len(rows) // 2][2]
    noise = max(NOISE_MIB, NOISE_SHARE * start)
    slope = slope_per_thousand([(done, size) for _, done, size in rows])
    print(f"\n  peak (VmHWM): {peak:.1f} MiB")
    print(
        f"  growth after warm-up → end: {growth:+.2f} MiB ({growth / start:+.1%}); second half: {end - middle:+.2f} MiB"
    )
    print(f"  trend over the checkpoints: {slope:+.3f} MiB per 1000 requests")
    verdict = "no growth beyond noise" if growth <= noise else "GROWS beyond noise"
    print(
        f"  noise: max({NOISE_MIB:g} MiB, {NOISE_SHARE:.0%} of the size after warm-up) = {noise:.2f} MiB → {verdict} "
        f"(target: no growth beyond noise)"
    )
    print("\n  answers: " + ", ".join(f"{kind} ×{count}" for kind, count in sorted(tally.items())))
    unexpected = sum(count for kind, count in tally.items() if ": got " in kind)
    if unexpected:
        print(f"  {unexpected} answers were not the expected ones: the mix did not run as intended")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
