"""What every benchmark script shares: worker processes, timing, and the JSON it writes.

- ``run_worker(script, args)``: the script's ``--worker ARGS`` mode in a fresh process, so
  that each measurement has its own peak RSS and thread state; its last JSON line back.
- ``timed(command)``: wall seconds and peak RSS of one command (GNU time).
- ``write_json(path, data)``: the report, with ``provenance`` (commit, CPU, date) added,
  written whole or not at all under ``output/bench/``; ``scripts/benchmarks_doc.py`` turns
  every such file into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "output" / "bench"
sys.path[:0] = [str(ROOT)]  # this checkout's corpus package, whatever is installed

from corpus.atomic import atomic_file  # noqa: E402


def run_worker(script: str, args: list[str], env: dict | None = None) -> dict:
    """Run ``script --worker ARGS`` in a fresh Python process (cwd: the project root);
    returns its last stdout line parsed as JSON. Exits with the worker's stderr tail when
    it fails."""
    done = subprocess.run(
        [sys.executable, script, "--worker", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
    )
    if done.returncode != 0:
        sys.exit(f"worker {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed(command: list[str]) -> dict:
    """Wall seconds and peak RSS (MB) of one command, from GNU time (``/usr/bin/time``).
    Exits with its stderr tail when it fails."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%e %M", *command],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        _, rss_kb = report.read().split()[-2:]
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(int(rss_kb) / 1024)}


def provenance() -> dict:
    """Where a report comes from: the commit (and whether the tree had changes), the
    command, the CPU model and its vector units, the core count and the date (UTC)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    flags: set[str] = set()
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    units = [u for u in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "avx_vnni") if u in flags]
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "changed_files": bool(git("status", "--porcelain", "--untracked-files=no")),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "cpu": model,
        "vector_units": units,
        "cores": len(os.sched_getaffinity(0)),
        "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
    }


def write_json(path: Path, data: object) -> Path:
    """Write ``data`` (a dict gains a ``provenance`` entry) as indented JSON to ``path``
    through a temporary file renamed into place; returns ``path``."""
    if isinstance(data, dict):
        data = {**data, "provenance": provenance()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as temporary:
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        temporary.write_text(text, encoding="utf-8")
    return path
