"""`make bench`: run every benchmark, each in its own process, and write docs/benchmarks.md.

    python -m bench [--only store,sync] [--out docs/benchmarks.md] [--quick]

Each benchmark prints a Markdown section with its figures beside their limits; this collects
them under the machine description. Benchmarks measure; nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import subprocess
import sys
from pathlib import Path

from bench.common import machine

BENCHES = {
    "store": ("bench.bench_store", []),
    "ui": ("bench.bench_ui", []),
    "server": ("bench.bench_server", []),
    "sync": ("bench.bench_sync", []),
    "slots": ("bench.bench_slots", []),
    "zreport": ("bench.bench_zreport", []),
    "reports": ("bench.bench_reports", []),
    "phone": ("bench.bench_phone", []),
}
QUICK = {
    "store": ["--preload", "5000", "--commits", "1000", "--products", "20000", "--queries", "200"],
    "sync": ["--sales", "1000"],
    "slots": ["--clients", "10", "--attempts", "500", "--places", "100", "--no-durable"],
    "zreport": ["--sales", "200", "--runs", "5"],
    "reports": ["--orders", "2000", "--runs", "5"],
    "phone": ["--products", "2000", "--customers", "5000", "--opens", "5", "--lookups", "100"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHES))
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    chosen = [name for name in BENCHES if not args.only or name in args.only.split(",")]
    sections = []
    failed = []
    for name in chosen:
        module, extra = BENCHES[name]
        if importlib.util.find_spec(module) is None:
            continue
        if args.quick:
            extra = QUICK.get(name, [])
        print(f"[bench] {name} …", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, "-m", module, *extra], capture_output=True, text=True
        )
        if done.returncode != 0:
            failed.append(name)
            sections.append(
                f"## {name}\n\nThe benchmark failed:\n\n```\n{done.stderr[-3000:]}\n```\n"
            )
        else:
            sections.append(done.stdout.strip() + "\n")
        print(done.stdout, flush=True)
    if args.quick:
        print("[bench] quick run: docs not written", file=sys.stderr)
        return 1 if failed else 0
    today = datetime.date.today().isoformat()
    text = (
        "# Benchmarks\n\n"
        f"Measured by `make bench` on {today}. Machine: {machine()}.\n"
        "Each figure stands beside its limit, measured in the same run. These are "
        "measurements, not tests: CI never fails on a timing. PostgreSQL is the throw-away "
        "cluster of `scripts/with_postgres.py` on the same machine (fsync off, as in tests).\n\n"
        + "\n".join(sections)
    )
    args.out.write_text(text, encoding="utf-8")
    print(f"[bench] wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
