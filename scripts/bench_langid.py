"""Language labels per file, per language: ntrex-world's 52 languages and, optionally,
MasakhaNEWS (African news; languages that fastText and lingua have no model of).

    python scripts/bench_langid.py BENCHMARKS [--masakhane DIR] [--crawl DIR] [--docs N]
        [--no-check] [--json output/bench/langid.json]

Each document (an ntrex-world article, lines as paragraphs; a MasakhaNEWS article, headline
and text as two paragraphs: the first ``--docs`` with text of each language's ``dev.tsv``) is
labelled by ``corpus.text.langid.identify``, as the identify stage does. Per language: the labels
given, and how many are right (the language's own code), close (a neighbour CLDR calls close:
Bosnian/Croatian/Serbian in Latin letters, Bokmål/Nynorsk, Dari/Persian), ``und`` (no language
named) or wrong (an unrelated language's code). A language none of the identifiers has a model
of (fastText lid.176, lingua, heliport) is right only as ``und``. ``--no-check`` labels without
heliport's check (``langid._checked``), as before it existed.

``--crawl`` is the ``fernando_data`` folder of the public repository EternalEdenn/EmbDA:
the labels of its Army, Hiru and ITN pages per language folder (read from that path, never
copied). ``--masakhane`` is the ``data`` folder of the public repository masakhane-io/masakhane-news
(read from that path, never copied). Results are merged into the JSON under the name of the
run (``check`` or ``no-check``).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import langcodes
from harness import write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]
from bench_faults import ntrex_documents  # noqa: E402

from corpus.text import langid, language_tags  # noqa: E402

# NTREX and MasakhaNEWS codes whose language code is not their ISO 639-3 code as CLDR
# standardises it (script and region subtags, macrolanguages).
CODES = {"zho-CN": "zh_Hans", "zho-TW": "zh_Hant", "srp-Latn": "sr_Latn", "msa": "ms"}


def expected(code: str) -> str:
    """The label this package gives a text of the NTREX/MasakhaNEWS language ``code``."""
    if code in CODES:
        return CODES[code]
    tag = langcodes.standardize_tag(code.split("-")[0], macro=True)
    return language_tags.base_language(tag)


def known(lang: str) -> bool:
    """Whether any identifier here has a model of ``lang``."""
    return (
        lang.split("_")[0] in langid.fasttext_languages()
        or langid._lingua_language(lang.split("_")[0]) is not None
        or langid._heliport_knows(lang.split("_")[0])
    )


def verdict(label: str, want: str, is_known: bool) -> str:
    if label.startswith("und"):
        return "right" if not is_known else "und"
    if not is_known:
        return "wrong"
    if label == want:
        return "right"
    base, want_base = language_tags.base_language(label), language_tags.base_language(want)
    if base == want_base or language_tags.close_languages(label, want):
        return "close"
    return "wrong"


def masakhane_documents(folder: Path, n_docs: int) -> dict[str, list[list[str]]]:
    """{language code: [[headline, text], ...]}, the first ``n_docs`` with text of each
    ``dev.tsv``."""
    csv.field_size_limit(1 << 30)
    docs = {}
    for path in sorted(folder.glob("*/dev.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            docs[path.parent.name] = [
                [r["headline"] or "", r["text"]] for r in rows if r.get("text")
            ][:n_docs]
    return docs


def label(paragraphs: list[str]) -> str:
    text = "\n".join(paragraphs)
    spans, pos = [], 0
    for paragraph in paragraphs:
        spans.append((pos, pos + len(paragraph)))
        pos += len(paragraph) + 1
    return langid.identify(text, spans).lang


def score(docs: dict[str, list[list[str]]]) -> dict[str, dict]:
    out = {}
    for code, texts in sorted(docs.items()):
        want = expected(code)
        is_known = known(want)
        labels = Counter(label(t) for t in texts)
        verdicts = Counter()
        for lab, n in labels.items():
            verdicts[verdict(lab, want, is_known)] += n
        out[code] = {
            "expected": want if is_known else "und",
            "files": sum(labels.values()),
            "labels": dict(labels.most_common()),
            **{v: verdicts[v] for v in ("right", "close", "und", "wrong")},
        }
    return out


def ntrex_by_language(benchmarks: Path) -> dict[str, list[list[str]]]:
    """{NTREX code: [an article's lines, ...]}."""
    by_language: dict[str, list[list[str]]] = {}
    for article in ntrex_documents(benchmarks).values():
        for code, lines in article.items():
            by_language.setdefault(code, []).append(lines)
    return by_language


def crawl_labels(folder: Path) -> dict[str, dict[str, int]]:
    """Per site of an EmbDA crawl folder (``fernando_data``: Army, Hiru, ITN; the fourth
    site is our acceptance check and never read), how many pages of each language folder got
    each label: {"Army": {"en->en": 2081, "en->tl": 0, ...}}."""
    from bench_crawl import read_site

    out = {}
    for site in ("Army", "Hiru", "ITN"):
        texts, _ = read_site(folder / site)
        labels = Counter()
        for (lang, _), text in texts.items():
            labels[f"{lang}->{label([x for x in text.splitlines() if x.strip()])}"] += 1
        out[site] = dict(sorted(labels.items()))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("benchmarks", type=Path)
    parser.add_argument("--masakhane", type=Path, help="masakhane-news's data folder")
    parser.add_argument("--crawl", type=Path, help="EmbDA's fernando_data folder")
    parser.add_argument("--docs", type=int, default=60, help="MasakhaNEWS articles per language")
    parser.add_argument("--no-check", action="store_true", help="without heliport's check")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "langid.json")
    args = parser.parse_args()
    if args.no_check:
        langid._checked = lambda lang, text: lang
    consulted = Counter()
    doubtful = langid._doubtful

    def counted(lang: str, text: str) -> bool:
        consulted[answer := doubtful(lang, text)] += 1
        return answer

    langid._doubtful = counted
    start = time.perf_counter()
    sets = {"ntrex-world": score(ntrex_by_language(args.benchmarks))}
    if args.masakhane:
        sets["masakhanews"] = score(masakhane_documents(args.masakhane, args.docs))
    if args.crawl:
        sets["embda-crawl"] = crawl_labels(args.crawl)
    run = {
        "sets": sets,
        "seconds": round(time.perf_counter() - start, 1),
        "heliport_consulted": consulted[True],
        "files_checked_for_doubt": sum(consulted.values()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    name = "no-check" if args.no_check else "check"
    results = json.loads(args.json.read_text()) if args.json.exists() else {}
    results[name] = run
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, results)
    for set_name, langs in sets.items():
        print(f"\n{set_name} ({name})\n")
        if set_name == "embda-crawl":
            for site, labels in langs.items():
                print(f"{site}: {', '.join(f'{k} {v}' for k, v in labels.items())}")
            continue
        print("| language | expected | files | right | close | und | wrong | labels |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for code, r in langs.items():
            labels = ", ".join(f"{k} {v}" for k, v in r["labels"].items())
            print(
                f"| {code} | {r['expected']} | {r['files']} | {r['right']} | {r['close']} "
                f"| {r['und']} | {r['wrong']} | {labels} |"
            )
    print(
        f"\n{run['seconds']} s, heliport consulted for {run['heliport_consulted']} files, "
        f"peak RSS {run['peak_rss_mb']} MB -> {args.json}"
    )


if __name__ == "__main__":
    main()
