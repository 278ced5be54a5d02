"""How far one site's predicted document pairs move when heliport's check of language
labels is switched off (issue 22: three ITN pages labelled Tagalog by their paragraphs).

    python scripts/crawl_label_diff.py EMBDA/fernando_data/ITN [--work /tmp/corpus-bench-crawl]

The site is read, loaded and grouped as ``scripts/bench_crawl.py`` does (same input folder
and embedding store under ``--work``), once with the check and once without; prints, per
language pair with English, the pairs added and gone with the check, each marked ``gold``,
``WRONG`` (a side has gold partners, not this one) or ``unscored``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
import bench_crawl  # noqa: E402

from corpus.embedding.encoder import load_encoder  # noqa: E402
from corpus.text import langid  # noqa: E402


def predicted(site: Path, work: Path, encoder) -> tuple[dict[str, set], dict[str, set]]:
    """Predicted pairs per language pair, and the gold pairs."""
    texts, gold = bench_crawl.read_site(site)
    folder = work / site.name / "input"
    by_name = bench_crawl.make_site_input(texts, folder)
    loaded = bench_crawl.load_folder(folder, work / "cache", encoder)
    files = [by_name[Path(f.path).name] for f in loaded]
    article_ids, variants, _ = bench_crawl.our_grouping(loaded)
    pairs = bench_crawl.index_pairs(article_ids, variants)
    return bench_crawl.by_language_pair(files, pairs), gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench-crawl"))
    args = parser.parse_args()
    encoder = load_encoder()
    checked, gold = predicted(args.site, args.work, encoder)
    langid._checked = lambda lang, text: lang
    langid.detect_text.cache_clear()
    unchecked, _ = predicted(args.site, args.work, encoder)
    for pair in ("en-si", "en-ta"):
        with_gold = {a for a, _ in gold[pair]} | {b for _, b in gold[pair]}

        def mark(a: str, b: str, pair: str = pair, with_gold: set = with_gold) -> str:
            if (a, b) in gold[pair]:
                return "gold"
            return "WRONG" if a in with_gold or b in with_gold else "unscored"

        added, gone = checked[pair] - unchecked[pair], unchecked[pair] - checked[pair]
        print(f"{pair}: {len(added)} added, {len(gone)} gone with the check")
        for sign, pairs in (("+", added), ("-", gone)):
            for a, b in sorted(pairs):
                print(f"  {sign} {a} {b} {mark(a, b)}")


if __name__ == "__main__":
    main()
