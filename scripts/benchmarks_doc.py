"""Write docs/benchmarks.md from the benchmark reports under output/bench/.

    python scripts/benchmarks_doc.py [--bench output/bench] [--out docs/benchmarks.md]

Every ``*.json`` that a ``make bench-*`` target wrote (``harness.write_json``) becomes one
section: what the benchmark measures and the command that reruns it (``BENCHMARKS``), where
the figures come from (commit, CPU, date: the report's ``provenance``), and its figures as
tables. A report of records (a mapping whose values are mappings) is a table with a row per
record and a column per figure; nested parts get their own headings. Reports without a
provenance (written before the harness) say so. Rerunning a benchmark and then this script
updates the page; nothing in it is typed by hand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness import BENCH, ROOT

# Report name (its file's stem, up to the first "-") -> (title, command, what it measures).
BENCHMARKS = {
    "align": (
        "Sentence alignment",
        "make bench-align",
        "strict and lax P/R/F1 on Text+Berg and Bible chapters, calibration of scores, "
        "cost per sentence",
    ),
    "build": (
        "Whole builds on the Bible",
        "make bench CHAPTERS=N",
        "grouping and pair accuracy of unlabelled Bible chapters in five languages, "
        "time and memory per stage",
    ),
    "candidates": (
        "Candidate search",
        "make bench-candidates",
        "FAISS nearest-neighbour search over 10k to 1M document vectors",
    ),
    "contamination": (
        "Test-set contamination",
        "make bench-contamination",
        "recall of a test set's sentences copied or changed by one word, false matches per "
        "10,000 rows",
    ),
    "crawl": (
        "Real news crawls",
        "make bench-crawl",
        "document alignment on the EmbDA crawls (Army, Hiru, ITN) against BiMax",
    ),
    "encoder": (
        "Encoder",
        "make bench-encoder",
        "speed per core, agreement with float32 and F1 of each precision",
    ),
    "faults": (
        "Damaged input on clean text",
        "make bench-faults",
        "documents repaired, flagged mixed, cut, or judged damaged copies on clean text",
    ),
    "grouping": (
        "Grouping",
        "make bench-grouping",
        "the pair decision on held-out pairs; articles found in NTREX and the Bible",
    ),
    "inputs": (
        "HTML inputs",
        "make bench-inputs",
        "extraction fidelity and cost inside a build of NTREX news pages",
    ),
    "langid": (
        "Language identification",
        "make bench-langid",
        "labels per language with and without heliport's check",
    ),
    "langs": (
        "Every language of ntrex-world",
        "make bench-langs",
        "segmentation, identification, grouping and pairs per language",
    ),
    "overhead": (
        "Fixed costs",
        "make bench-overhead",
        "wall time and peak RSS of small commands and of the sample",
    ),
    "scale": (
        "Scale",
        "make bench-scale",
        "both engines on the same input; memory as the Bible grows",
    ),
    "store": (
        "Embedding store",
        "make bench-store",
        "anti-join, lookup and compaction against up to 1M stored keys",
    ),
}
MAX_ROWS = 40  # rows per table; a longer list of records is cut with a note
MAX_DEPTH = 3  # headings below a report's own


def _scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        if all(_scalar(v) for v in value) and len(value) <= 8:
            return ", ".join(_cell(v) for v in value)
        return f"({len(value)} items)"
    if isinstance(value, dict):
        return f"({len(value)} entries)"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(records: dict[str, dict]) -> list[str]:
    """A row per record, a column per scalar figure any record has."""
    columns: list[str] = []
    for record in records.values():
        columns += [k for k, v in record.items() if _scalar(v) and k not in columns]
    if not columns:
        return []
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for n, (name, record) in enumerate(records.items()):
        if n == MAX_ROWS:
            lines.append(f"| ... {len(records) - MAX_ROWS} more rows | " + " | " * len(columns))
            break
        lines.append(f"| {name} | " + " | ".join(_cell(record.get(c, "")) for c in columns) + " |")
    return lines


def _section(data: object, level: int) -> list[str]:
    """Markdown for one part of a report: its figures, then its nested parts."""
    if not isinstance(data, dict):
        return [_cell(data), ""]
    lines: list[str] = []
    figures = {k: v for k, v in data.items() if not isinstance(v, dict)}
    parts = {k: v for k, v in data.items() if isinstance(v, dict)}
    if figures:
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {k} | {_cell(v)} |" for k, v in figures.items()]
        lines.append("")
    records = {k: v for k, v in parts.items() if any(_scalar(x) for x in v.values())}
    if len(records) > 1:
        lines += [*_table(records), ""]
    if level - 3 >= MAX_DEPTH:
        deeper = [k for k, v in parts.items() if any(isinstance(x, dict) for x in v.values())]
        if deeper:
            lines += [f"Deeper parts, in the JSON only: {', '.join(deeper)}.", ""]
        return lines
    for name, part in parts.items():
        nested = {k: v for k, v in part.items() if isinstance(v, dict)}
        if name in records and len(records) > 1 and not nested:
            continue
        body = _section(nested if name in records and len(records) > 1 else part, level + 1)
        if body:
            lines += [f"{'#' * level} {name}", "", *body]
    return lines


def render(bench: Path) -> str:
    """docs/benchmarks.md for the reports under ``bench``."""
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python scripts/benchmarks_doc.py` from the reports under "
        "`output/bench/` (each written by the command named in its section); rerun a "
        "benchmark, then this script, to update a section. Reports pinned to earlier commits "
        "and the discussion of the figures are in [measurements.md](measurements.md).",
        "",
    ]
    reports = sorted(bench.glob("*.json"))
    missing = [k for k in BENCHMARKS if not any(p.stem.split("-")[0] == k for p in reports)]
    for path in reports:
        title, command, what = BENCHMARKS.get(path.stem.split("-")[0], (path.stem, "(unknown)", ""))
        data = json.loads(path.read_text(encoding="utf-8"))
        origin = data.pop("provenance", None) if isinstance(data, dict) else None
        lines += [f"## {title} (`{path.name}`)", "", f"{what}. Rerun: `{command}`.", ""]
        if origin:
            dirty = " with uncommitted changes" if origin["changed_files"] else ""
            lines += [
                f"Commit {origin['commit']}{dirty}, `{origin['command']}`, {origin['cpu']} "
                f"({', '.join(origin['vector_units']) or 'no AVX2'}), {origin['cores']} cores, "
                f"{origin['date']} UTC.",
                "",
            ]
        else:
            lines += ["Written before reports carried their provenance (commit, CPU).", ""]
        lines += _section(data, 3)
    if missing:
        lines += ["## Not run here", ""]
        lines += [f"- {BENCHMARKS[k][0]}: `{BENCHMARKS[k][1]}`" for k in missing]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=BENCH)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    args.out.write_text(render(args.bench), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
