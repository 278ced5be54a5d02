"""SHA-256 of every Parquet file a build writes: the proof that a refactoring changed no output.

    python scripts/output_hashes.py [BENCHMARKS] [--cases DIR] [--bible-chapters 100]
        [--work DIR] [--json output/bench/hashes.json]

Builds, each into ``WORK/<name>/out`` with one embedding cache for all of them
(``WORK/.cache``): the sample (``samples/news``), every folder of ``--cases``
(``../shared/cases``, its exit status kept: some cases must refuse) and ``--bible-chapters``
chapters of the Bible in five languages as unlabelled files (``make_bible_input.py``).
Writes, per build, the exit status and the hash of each Parquet file by its path inside the
output folder. Two runs of this script on two commits give the same JSON (``cmp``) when
their outputs are byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "scripts")]

from make_bible_input import make_input  # noqa: E402


def build(source: Path, out: Path, cache: Path) -> dict:
    """Run ``corpus build SOURCE --out OUT --force`` from this checkout; its exit status and
    the SHA-256 of each Parquet file it wrote, keyed by path relative to OUT."""
    command = ["build", str(source), "--out", str(out), "--force", "--cache-dir", str(cache)]
    done = subprocess.run(
        [sys.executable, "-m", "corpus", *command, "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    hashes = (
        {
            str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(out.rglob("*.parquet"))
        }
        if out.is_dir()
        else {}
    )
    return {"exit": done.returncode, "parquet": hashes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", type=Path, nargs="?", default=Path("../shared/benchmarks"))
    parser.add_argument("--cases", type=Path, default=Path("../shared/cases"))
    parser.add_argument("--bible-chapters", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-hashes"))
    parser.add_argument("--json", type=Path, default=ROOT / "output/hashes.json")
    args = parser.parse_args()
    sources = {"sample": ROOT / "samples/news"}
    sources |= {f"case/{p.name}": p for p in sorted(args.cases.iterdir()) if p.is_dir()}
    if args.bible_chapters:
        make_input(args.benchmarks, args.work / "bible-input", args.bible_chapters)
        sources[f"bible-{args.bible_chapters}"] = args.work / "bible-input/input"
    results = {}
    for name, source in sources.items():
        out = args.work / name.replace("/", "-") / "out"
        results[name] = build(source.absolute(), out, args.work / ".cache")
        files = len(results[name]["parquet"])
        print(f"{name}: exit {results[name]['exit']}, {files} Parquet files")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
