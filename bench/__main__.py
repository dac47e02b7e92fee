"""Run the benchmarks one after another: `python -m bench [--quick] [name ...]` (what `make bench` runs).

Each prints its own table and its ratios against the targets; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import importlib
import time

BENCHMARKS = {
    "cpu": ("bench.cpu_per_request", "1. CPU cost per request, in process"),
    "loopback": ("bench.loopback", "2. Over loopback: gunicorn gateway next to the mock fund called directly"),
    "pipeline": ("bench.pipeline", "3. Application pipeline: accepted → issued per second"),
    "growth": ("bench.growth", "4. Growth: 10 000 and 1 000 000 stored applications (PostgreSQL)"),
    "memory": ("bench.memory", "5. Memory of a gateway worker process over many requests"),
    "served": ("bench.served", "6. Served as `make run` serves it: a status read next to a bare Flask endpoint"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs: all six in under two minutes")
    choices = ", ".join(BENCHMARKS)
    parser.add_argument("names", nargs="*", metavar="name", help=f"which to run: {choices} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    started = time.monotonic()
    failed = []
    for name in args.names or list(BENCHMARKS):
        module, title = BENCHMARKS[name]
        print(f"\n{'=' * 100}\n{title}\n{'=' * 100}", flush=True)
        status = importlib.import_module(module).main(["--quick"] if args.quick else [])
        if status:
            failed.append(name)
    print(f"\nall benchmarks ran in {time.monotonic() - started:.0f} s" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
