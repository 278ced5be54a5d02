"""Fixed costs: wall time and peak RSS of the commands a researcher runs on small work.

    python scripts/bench_overhead.py BENCHMARKS [--work DIR] [--json output/bench/overhead.json]

One run each, in this order, every command a fresh process (``/usr/bin/time``):

- ``corpus --help`` and ``corpus --version``;
- ``corpus build`` of the sample (``samples/news``) cold (an empty ``--cache-dir``; the
  bundled model already converted), then warm (the same command again: every embedding,
  language and alignment cached);
- ``corpus show`` and ``corpus export`` (TMX) of that build;
- ``corpus align`` of two files of 40 and of 300 Bible verses (English and Swedish, a verse
  per line, segmented as a build does), against the time the embedding of the same
  sentences takes alone in one process (model loaded first, not counted), so that the
  ratio is the command's overhead.

Targets (issue 24): ``--help``/``--version`` at most 0.5 s and 100 MB; ``show``/``export``
at most 1 s; the warm sample at most 3 s and 600 MB, cold at most 8 s; ``align`` of 300
sentences at most 2x its embedding alone. Results in ``--json``.
"""

from __future__ import annotations

import argparse
import csv
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import timed, write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
CORPUS = [sys.executable, "-m", "corpus"]


def bible_files(benchmarks: Path, n: int, work: Path) -> tuple[Path, Path]:
    """The first ``n`` verses in English and Swedish, a verse per line."""
    paths = []
    for lang in ("en", "sv"):
        with (benchmarks / "bible-5lang" / f"{lang}.tsv").open(encoding="utf-8") as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            verses = [row["text"] for _, row in zip(range(n), rows, strict=False)]
        path = work / f"bible-{n}.{lang}.txt"
        path.write_text("\n".join(verses) + "\n", encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def embedding_alone(src: Path, tgt: Path) -> float:
    """Seconds the bundled model takes to embed both files' sentences (model loaded and
    warmed up first), in a fresh process like the command's."""
    code = f"""
import time
from pathlib import Path
from corpus.embedding.encoder import load_encoder
from corpus.alignment.file_alignment import file_sentences
texts = file_sentences(Path({str(src)!r}), False) + file_sentences(Path({str(tgt)!r}), False)
encoder = load_encoder()
encoder.encode(["warm up"])
start = time.perf_counter()
encoder.encode(texts)
print(time.perf_counter() - start, len(texts))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, _ = done.stdout.split()
    return round(float(seconds), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmarks", type=Path)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-overhead")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "overhead.json")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    out, cache = args.work / "sample", args.work / "cache"
    build = [*CORPUS, "build", str(ROOT / "samples" / "news"), "--out", str(out)]
    build += ["--cache-dir", str(cache), "--quiet"]
    results = {
        "--help": timed([*CORPUS, "--help"]),
        "--version": timed([*CORPUS, "--version"]),
        "build sample, cold": timed(build),
        "build sample, warm": timed([*build, "--force"]),
        "show sample": timed([*CORPUS, "show", str(out)]),
    }
    pair = next(p.name for p in sorted((out / "data").iterdir()) if "-" in p.name)
    export = [*CORPUS, "export", str(out), "--pair", pair, "--to", str(args.work / "x.tmx")]
    results["export sample (tmx)"] = timed(export)
    for n in (40, 300):
        src, tgt = bible_files(args.benchmarks, n, args.work)
        entry = timed([*CORPUS, "align", str(src), str(tgt), "-o", str(args.work / "a.txt")])
        entry["embedding_alone_s"] = embedding_alone(src, tgt)
        entry["ratio"] = round(entry["wall_s"] / entry["embedding_alone_s"], 2)
        results[f"align {n} verses"] = entry
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    report = {"commit": commit, "machine": platform.processor() or platform.machine()}
    report["commands"] = results
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, report)
    print("| command | wall s | peak RSS MB | embedding alone s | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(
            f"| {name} | {r['wall_s']} | {r['peak_rss_mb']} | "
            f"{r.get('embedding_alone_s', '')} | {r.get('ratio', '')} |"
        )
    print(f"-> {args.json}")


if __name__ == "__main__":
    main()
