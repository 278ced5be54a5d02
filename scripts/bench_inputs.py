"""Input-format benchmark: what HTML extraction costs inside a whole build.

    python scripts/bench_inputs.py ../shared/benchmarks [--pages 1000] [--work DIR]

NTREX articles (``ntrex-world``) in 17 languages are written as HTML news pages with the
clutter of real sites (navigation, cookie banner, byline, script, footer, hreflang links),
under hashed file names, and the same texts as plain files. The benchmark then

1. times reading each folder (``read_inputs``: for HTML, trafilatura's extraction);
2. checks extraction fidelity: the share of NTREX lines found intact in the extracted text,
   and that no clutter string survives;
3. builds the HTML folder (a fresh process; the embedding cache in ``--work`` makes a rerun
   resume instead of embedding again) and reports the read stage's share of the build's
   wall time, and how many pages landed in the article of their NTREX document.

Prints a table and writes it as JSON to ``output/bench/inputs.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from html import escape
from pathlib import Path
from unicodedata import normalize

import pyarrow.parquet as pq
from harness import BENCH, write_json

ROOT = Path(__file__).resolve().parents[1]
# This checkout's package, and the page writer the input tests use.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from test_extraction import news_page, ntrex_articles  # noqa: E402

from corpus.inputs.reading import read_inputs  # noqa: E402
from corpus.options import BuildOptions  # noqa: E402
from corpus.pipeline import build  # noqa: E402

# Languages the bundled model covers, written with spaces and final punctuation, and not close
# neighbours of each other (those are issue-13 territory, measured by bench_langs).
LANGS = {
    "en": "eng", "de": "deu", "fr": "fra", "es": "spa", "ru": "rus", "tr": "tur", "hu": "hun",
    "fi": "fin", "vi": "vie", "el": "ell", "he": "heb", "id": "ind", "bn": "ben", "ta": "tam",
    "ka": "kat", "hy": "hye", "uk": "ukr",
}  # fmt: skip
CLUTTER = ("Accept all cookies", "Staff reporter", "All rights reserved", "tracker")


def write_pages(pages: int, work: Path) -> dict[str, str]:
    """HTML pages and plain-text twins; returns {html file name: NTREX doc id}."""
    html_dir, text_dir = work / "html", work / "text"
    html_dir.mkdir(parents=True, exist_ok=True)
    text_dir.mkdir(parents=True, exist_ok=True)
    truth = {}
    rows = ntrex_articles(LANGS, n_docs=61)
    docs = list(dict.fromkeys(row["id"].split("-", 1)[1] for row in rows))
    # Article by article, so that N pages are whole articles (all languages) but the last.
    rows.sort(key=lambda row: docs.index(row["id"].split("-", 1)[1]))
    for row in rows[:pages]:
        lang, doc_id = row["lang"], row["id"].split("-", 1)[1]
        alternates = {code: f"https://news.example/{code}/{doc_id}" for code in LANGS}
        lines = row["text"].split("\n")
        page = news_page(
            lang, escape(lines[0]), [escape(x) for x in lines[1:]], row["url"], alternates
        )
        name = hashlib.sha256(row["id"].encode()).hexdigest()[:16]
        (html_dir / f"{name}.html").write_text(page, encoding="utf-8")
        (text_dir / f"{name}.txt").write_text(row["text"] + "\n", encoding="utf-8")
        truth[f"{name}.html"] = doc_id
    return truth


def fidelity(work: Path) -> dict:
    """Share of source lines found intact in the extracted pages; pages with clutter left."""
    lines = found = cluttered = 0
    extracted = {d.path: d.text for d in read_inputs(work / "html").documents}
    for name, text in extracted.items():
        source = (work / "text" / name.replace(".html", ".txt")).read_text(encoding="utf-8")
        for line in source.split("\n"):
            if line.strip():
                lines += 1
                # Documents are NFC (reading normalises them); NTREX Bengali is not.
                found += " ".join(normalize("NFC", line).split()) in " ".join(text.split())
        cluttered += any(c in text for c in CLUTTER)
    return {"lines": lines, "lines_intact": found, "pages_with_clutter": cluttered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("benchmarks", type=Path)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench-inputs"))
    args = parser.parse_args()
    if not (args.benchmarks / "ntrex-world").exists():
        sys.exit(f"{args.benchmarks / 'ntrex-world'}: not found")
    truth = write_pages(args.pages, args.work)

    read_s = {}
    for kind in ("text", "html"):
        start = time.perf_counter()
        read = read_inputs(args.work / kind)
        read_s[kind] = time.perf_counter() - start
        assert len(read.documents) == len(truth), (kind, len(read.documents), read.skipped)

    out = args.work / "out"
    options = BuildOptions(progress=False, cache_dir=args.work / "cache")
    start = time.perf_counter()
    summary = build(args.work / "html", out, options)
    wall = time.perf_counter() - start

    articles = pq.read_table(out / "articles.parquet").to_pylist()
    by_doc, by_article = defaultdict(set), defaultdict(set)
    for name, doc_id in truth.items():
        by_doc[doc_id].add(name)
    for row in articles:
        if row["article_id"]:
            by_article[row["article_id"]].add(row["path"])
    # A page is right when its article holds exactly the pages of its NTREX document.
    right = sum(
        1 for row in articles if by_article.get(row["article_id"]) == by_doc[truth[row["path"]]]
    )
    mixed = sum(len({truth[p] for p in paths}) > 1 for paths in by_article.values())
    result = {
        "pages": len(truth),
        "languages": len(LANGS),
        "read_text_s": round(read_s["text"], 2),
        "read_html_s": round(read_s["html"], 2),
        "extraction_ms_per_page": round(1000 * (read_s["html"] - read_s["text"]) / len(truth), 2),
        "build_wall_s": round(wall, 1),
        "build_read_stage_s": round(summary.timings["read"], 2),
        "read_share_of_build": round(summary.timings["read"] / wall, 4),
        "sentences": summary.n_sentences,
        "sentences_embedded": summary.n_encoded,
        "pages_in_right_article": right,
        "mixed_articles": mixed,
        **fidelity(args.work),
    }
    for key, value in result.items():
        print(f"{key:28} {value}")
    (ROOT / "output" / "bench").mkdir(parents=True, exist_ok=True)
    write_json(BENCH / "inputs.json", result)


if __name__ == "__main__":
    main()
