"""Grouping benchmark: is "these two files translate each other" decided right?

    python scripts/bench_grouping.py --benchmarks ../shared/benchmarks [--fit]

1. Labelled file pairs, each half by article (fit: even-numbered articles/chapters and
   odd-numbered comparable stories; held out: the rest):
   - positives: NTREX-world articles in two languages (12 random language pairs per
     article), Bible chapters (4 language pairs per chapter), Text+Berg de-fr documents,
     and one- to three-sentence pieces of NTREX articles with their translations;
   - negatives: each positive's file against the 3 nearest other files of the other
     language by centred document vector (the candidates grouping would judge: other
     NTREX articles of the same outlets and genre, other Bible chapters, the
     neighbouring chapter), Text+Berg documents against each other, short pieces
     against the neighbouring piece of the same article and against another article,
     and our comparable stories (tests/data/comparable: one event reported
     independently in two languages).
   ``--fit`` fits ``grouping.DECISION_WEIGHTS`` and ``SHORT_DECISION_WEIGHTS`` (logistic
   regressions, numpy IRLS; a pair with a file of at most ``SHORT_SENTENCES`` sentences is
   short) on the fit half and prints them; always: precision and recall of the decision (probability
   >= 0.5) on the held-out half, per source.
2. Grouping end to end (``near_duplicates`` and ``group_articles`` as ``corpus build``
   calls them, on the builder's own language identification and sentences):
   NTREX-world in batches of 8 languages, ``--bible-chapters`` Bible chapters in five
   languages, the negative set (every comparable story against every story of another
   language, all in one folder: no article may form) and the one-sentence translations of
   tests/data/one-sentence.

Embeddings come from persistent caches (``--ntrex-cache``, ``--bible-cache``; a rerun embeds
nothing new), so the benchmark resumes where an interrupted run stopped. Prints the
figures and writes them as JSON to ``--json`` (default output/bench/grouping.json).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
from harness import write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
from make_bible_input import make_input  # noqa: E402

from corpus.alignment.candidates import document_vectors  # noqa: E402
from corpus.alignment.evidence import (  # noqa: E402
    DECISION,
    DecisionWeights,
    decision_probability,
    is_short,
    language_nulls,
    pair_features,
)
from corpus.alignment.grouping import MIN_PAIR_PROBABILITY, group_articles  # noqa: E402
from corpus.alignment.near_duplicates import near_duplicates  # noqa: E402
from corpus.embedding.encoder import Encoder, load_encoder  # noqa: E402
from corpus.embedding.store import EmbeddingStore, encode_cached, model_id  # noqa: E402
from corpus.inputs.reading import read_inputs  # noqa: E402
from corpus.records import ArticleFile  # noqa: E402
from corpus.text.langid import identify  # noqa: E402
from corpus.text.segmentation import segment  # noqa: E402

# NTREX languages outside XLM-RoBERTa's 100 pretraining languages (Conneau et al. 2020,
# table 6), on which multilingual-e5 is built: Tibetan, Sorani (Arabic script; XLM-R's
# Kurdish is Kurmanji), Dhivehi, Tigrinya, Yoruba, Zulu. They are built with the others and
# reported apart; the grouping share counts the languages the model covers.
NOT_COVERED = ("bod", "ckb-Arab", "div", "tir", "yor", "zul")


@dataclass
class Loaded:
    """One input file as the builder sees it before grouping."""

    path: str
    lang: str
    mixed: bool
    text: str
    sentences: list[str]
    embeddings: np.ndarray


def read_tsv(path: Path) -> dict[str, list[tuple[str, str]]]:
    """doc_id -> [(unit_id, text)] in file order, empty rows dropped."""
    docs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["text"].strip():
                docs[row["doc_id"]].append((row["unit_id"], row["text"].strip()))
    return docs


def ntrex_half(doc_id: str, order: list[str]) -> str:
    """ "fit" for even-numbered articles of the sorted English doc ids, else "held-out"."""
    return "fit" if order.index(doc_id) % 2 == 0 else "held-out"


def make_ntrex_input(
    benchmarks: Path, out: Path, langs: Sequence[str] = (), half: str | None = None
) -> dict:
    """One file per NTREX article and language (a line per source line), names hashed.

    ``langs`` (NTREX codes) and ``half`` ("fit": even-numbered articles in sorted order,
    "held-out": odd) restrict it; by default every article in every language.
    """
    ntrex = benchmarks / "ntrex-world"
    (out / "input").mkdir(parents=True, exist_ok=True)
    files = {}
    order = sorted(read_tsv(ntrex / "eng.tsv"))
    for tsv in sorted(ntrex.glob("*.tsv")):
        code = tsv.stem
        if langs and code not in langs:
            continue
        for doc_id, units in read_tsv(tsv).items():
            if half is not None and half != ntrex_half(doc_id, order):
                continue
            name = hashlib.sha256(f"{doc_id}\0{code}".encode()).hexdigest()[:16] + ".txt"
            path = out / "input" / name
            text = "\n".join(t for _, t in units) + "\n"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
            files[name] = {"lang": code, "article": doc_id}
    meta = {"files": files}
    (out / "mapping.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def load_folder(folder: Path, cache_dir: Path, encoder: Encoder) -> list[Loaded]:
    """Read, identify, segment and embed every file like ``corpus build`` (cached)."""
    read = read_inputs(folder)
    docs, sents = [], []
    for doc in read.documents:
        guess = identify(doc.text, doc.paragraphs)
        sentences = [s.text for s in segment(doc.text, guess.lang, doc.paragraphs)]
        docs.append((doc, guess))
        sents.append(sentences)
    store = EmbeddingStore(cache_dir, model_id(encoder), encoder.dim)
    flat = [s for group in sents for s in group]
    emb, _ = encode_cached(encoder, flat, store, show_progress_bar=True)
    for warning in store.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    loaded, start = [], 0
    for (doc, guess), sentences in zip(docs, sents, strict=True):
        loaded.append(
            Loaded(
                doc.path,
                guess.lang,
                guess.mixed,
                doc.text,
                sentences,
                emb[start : start + len(sentences)],
            )
        )
        start += len(sentences)
    return loaded


def load_textberg(benchmarks: Path, work: Path, cache_dir: Path, encoder: Encoder) -> list:
    """The Text+Berg de-fr documents (dev, test0..6) as files, one line per paragraph."""
    folder = work / "textberg" / "input"
    folder.mkdir(parents=True, exist_ok=True)
    for src in sorted((benchmarks / "textberg").glob("*.de")) + sorted(
        (benchmarks / "textberg").glob("*.fr")
    ):
        (folder / f"{src.stem}-{src.suffix[1:]}.txt").write_text(
            src.read_text(encoding="utf-8"), encoding="utf-8"
        )
    return load_folder(folder, cache_dir, encoder)


def view(f: Loaded, lang: str | None = None) -> ArticleFile:
    """What grouping sees of a loaded file (``lang`` overrides the identified language)."""
    return ArticleFile(
        hashlib.sha256(f.text.encode()).hexdigest(),
        lang or f.lang,
        f.embeddings,
        f.text,
        np.array([len(s) for s in f.sentences]),
        f.path,
        f.mixed,
        tuple(f.sentences),
    )


def piece(f: ArticleFile, start: int, size: int) -> ArticleFile:
    """Sentences [start, start + size) of a file as a file of their own."""
    sents = f.sentences[start : start + size]
    return ArticleFile(
        f"{f.key}:{start}:{size}",
        f.lang,
        f.embeddings[start : start + size],
        " ".join(sents),
        f.lengths[start : start + size],
        f.name,
        f.mixed,
        sents,
    )


@dataclass
class Example:
    source: str
    half: str  # "fit" or "held-out"
    label: int
    features: np.ndarray
    detail: str = ""  # which files: article and languages


def _nulls(files: list[ArticleFile]) -> dict:
    return language_nulls(files)


def _halves(
    docs: dict[str, dict[str, ArticleFile]], half_of: dict[str, str]
) -> Iterator[tuple[str, list[str], list[ArticleFile], dict]]:
    """Per half ("fit", "held-out") with articles: its name, its article ids (sorted), their
    files (article by article, languages sorted) and the files' language nulls."""
    for half in ("fit", "held-out"):
        ids = sorted(a for a in docs if half_of[a] == half)
        if ids:
            files = [docs[a][lang] for a in ids for lang in sorted(docs[a])]
            yield half, ids, files, _nulls(files)


def labelled_pairs(
    source: str,
    docs: dict[str, dict[str, ArticleFile]],
    half_of: dict[str, str],
    lang_pairs_per_doc: int,
    rng: np.random.Generator,
    neighbours: dict[str, list[str]] | None = None,
) -> list[Example]:
    """Positives and candidate-search negatives of one multilingual benchmark.

    ``docs``: article -> language -> file. For each article, ``lang_pairs_per_doc``
    random language pairs give a positive and, for each side, its 3 nearest files of the
    other language (centred document vectors) that are not its translation; with
    ``neighbours`` also the neighbouring articles.
    """
    out: list[Example] = []
    for half, ids, files, nulls in _halves(docs, half_of):
        owner = [a for a in ids for _ in sorted(docs[a])]
        doc = document_vectors(files)
        by_lang: dict[str, list[int]] = defaultdict(list)
        for k, f in enumerate(files):
            by_lang[f.lang].append(k)
        where = {(owner[k], f.lang): k for k, f in enumerate(files)}
        for a in ids:
            langs = sorted(docs[a])
            pairs = [(x, y) for i, x in enumerate(langs) for y in langs[i + 1 :]]
            picked = rng.choice(len(pairs), min(lang_pairs_per_doc, len(pairs)), replace=False)
            for p in picked:
                la, lb = pairs[p]
                null = nulls[(la, lb)]
                i, j = where[(a, la)], where[(a, lb)]
                out.append(
                    Example(
                        source, half, 1, pair_features(files[i], files[j], null), f"{a} {la}-{lb}"
                    )
                )
                for me, other_lang in ((i, lb), (j, la)):
                    cols = np.array(by_lang[other_lang])
                    sims = doc[cols] @ doc[me]
                    near = [c for c in cols[np.argsort(-sims)] if owner[c] != a][:3]
                    if neighbours:
                        near += [
                            where[(n, other_lang)]
                            for n in neighbours.get(a, [])
                            if (n, other_lang) in where and where[(n, other_lang)] not in near
                        ]
                    for c in near:
                        x, y = (
                            (files[me], files[c]) if files[me].lang == la else (files[c], files[me])
                        )
                        out.append(
                            Example(
                                source,
                                half,
                                0,
                                pair_features(x, y, null),
                                f"{owner[me]}/{owner[c]} {la}-{lb}",
                            )
                        )
    return out


def _lines(f: ArticleFile) -> int:
    return sum(1 for line in f.text.split("\n") if line.strip())


def short_pairs(
    docs: dict[str, dict[str, ArticleFile]], half_of: dict[str, str], rng: np.random.Generator
) -> list[Example]:
    """One- to three-sentence pieces of NTREX articles: with their translation (same
    sentences, where both files have as many sentences), with the next piece of the same
    article, and with the same piece of another article."""
    out: list[Example] = []
    for half, ids, _, nulls in _halves(docs, half_of):
        for a in ids:
            langs = sorted(docs[a])
            for _ in range(6):
                la, lb = sorted(rng.choice(langs, 2, replace=False))
                fa, fb = docs[a][la], docs[a][lb]
                other = docs[ids[(ids.index(a) + 1 + int(rng.integers(len(ids) - 1))) % len(ids)]]
                n = len(fa.sentences)
                # Only where every sentence is one line of the source in both files, so
                # that sentence k of one is the translation of sentence k of the other.
                if {n, len(fb.sentences)} != {_lines(fa), _lines(fb)} or lb not in other:
                    continue
                size = int(rng.integers(1, 4))
                if n < 2 * size + 1:
                    continue
                start = int(rng.integers(0, n - 2 * size + 1))
                null = nulls[(la, lb)]
                x = piece(fa, start, size)
                out.append(
                    Example("short", half, 1, pair_features(x, piece(fb, start, size), null))
                )
                nxt = piece(fb, start + size, size)
                out.append(Example("short", half, 0, pair_features(x, nxt, null)))
                ob = other[lb]
                if len(ob.sentences) >= start + size:
                    y = piece(ob, start, size)
                    out.append(Example("short", half, 0, pair_features(x, y, null)))
    return out


def comparable_pairs(loaded: list[Loaded]) -> list[Example]:
    """Each comparable story against its counterpart (the hard negative) and against every
    story of another language (unrelated); odd-numbered pairs fit, even ones held out."""
    files = {Path(f.path).stem: view(f, Path(f.path).stem.split("-")[1]) for f in loaded}
    nulls = _nulls(list(files.values()))
    out: list[Example] = []
    for x, y in combinations(sorted(files), 2):
        fx, fy = files[x], files[y]
        if fx.lang == fy.lang:
            continue
        if fx.lang > fy.lang:
            fx, fy = fy, fx
        same = x.split("-")[0] == y.split("-")[0]
        half = "fit" if int(x.split("-")[0]) % 2 and int(y.split("-")[0]) % 2 else "held-out"
        source = "comparable" if same else "comparable-unrelated"
        out.append(Example(source, half, 0, pair_features(fx, fy, nulls[(fx.lang, fy.lang)])))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Weighted logistic regression by iteratively reweighted least squares (Newton).

    Returns (bias, weights...); ``l2`` penalises the weights, not the bias.
    """
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    penalty = l2 * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(design @ beta)))
        grad = design.T @ (w * (p - y)) + penalty @ beta
        hess = design.T @ (design * (w * p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def precision_recall(examples: list[Example], weights: DecisionWeights = DECISION) -> dict:
    """Decision (probability >= 0.5, by ``weights``) against the labels, overall and per
    source."""

    def pr(items: list[Example]) -> dict:
        if not items:
            return {}
        p = decision_probability(np.stack([e.features for e in items]), weights)
        y = np.array([e.label for e in items])
        yes = p >= MIN_PAIR_PROBABILITY
        tp, fp, fn = (
            int((yes & (y == 1)).sum()),
            int((yes & (y == 0)).sum()),
            int((~yes & (y == 1)).sum()),
        )
        return {
            "positives": int(y.sum()),
            "negatives": int((y == 0).sum()),
            "true_pos": tp,
            "false_pos": fp,
            "false_neg": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }

    sources = sorted({e.source for e in examples})
    return {"all": pr(examples)} | {s: pr([e for e in examples if e.source == s]) for s in sources}


def group_folder(
    files: list[Loaded], weights: DecisionWeights = DECISION
) -> tuple[list[str | None], list[str | None], set[int], object]:
    """Near duplicates, then articles, as ``corpus build`` runs them. Returns the article
    id per file (None: alone or dropped as a copy), the same with each variant (a second
    file of a language code its article holds, ``Grouping.variants``) given its article's
    id, the dropped copies and the grouping."""
    views = [view(f) for f in files]
    copies = {c.a for c in near_duplicates(views)}
    kept = [k for k in range(len(files)) if k not in copies]
    grouping = group_articles([views[k] for k in kept], weights=weights)
    ids: list[str | None] = [None] * len(files)
    for k, article in zip(kept, grouping.article_ids, strict=True):
        ids[k] = article
    with_variants = list(ids)
    for v, article in grouping.variants.items():
        with_variants[kept[v]] = article
    return ids, with_variants, copies, grouping


def _right(ids: list[str | None], truth: list[str]) -> list[bool]:
    """Per file: its article holds exactly the files of its true article (alone when it is
    the only file of its article present)."""
    members: dict[str, set[int]] = defaultdict(set)
    for k, a in enumerate(ids):
        if a is not None:
            members[a].add(k)
    by_truth: dict[str, set[int]] = defaultdict(set)
    for k, t in enumerate(truth):
        by_truth[t].add(k)
    return [
        (members[ids[k]] if ids[k] is not None else set())
        == (by_truth[t] if len(by_truth[t]) > 1 else set())
        for k, t in enumerate(truth)
    ]


def score_grouping(
    files: list[Loaded], truth: list[str], weights: DecisionWeights = DECISION
) -> dict:
    """A file is right when its article holds exactly the files of its true article (and
    it is alone when no other file of its article is present); an article is mixed when
    it holds files of two true articles. ``right_with_variants`` counts each variant as a
    member of the article it is a variant of."""
    ids, with_variants, copies, grouping = group_folder(files, weights)
    members: dict[str, set[int]] = defaultdict(set)
    for k, a in enumerate(with_variants):
        if a is not None:
            members[a].add(k)
    is_right = _right(ids, truth)
    right_with_variants = _right(with_variants, truth)
    by_truth = Counter(truth)
    wrong = []
    for k, t in enumerate(truth):
        if right_with_variants[k]:
            continue
        got = len(members[with_variants[k]]) if with_variants[k] is not None else 0
        how = " as a variant" if ids[k] is None and with_variants[k] is not None else ""
        how += " (dropped as a near duplicate)" if k in copies else ""
        wrong.append(
            f"{files[k].path} ({t}, {files[k].lang}): {got} files{how}, want {by_truth[t]}"
        )
    mixed = sum(1 for m in members.values() if len({truth[k] for k in m}) > 1)
    scores = [s for s in grouping.article_scores if s is not None]
    return {
        "files": len(files),
        "right": sum(is_right),
        "share_right": sum(is_right) / len(files),
        "right_with_variants": sum(right_with_variants),
        "variants": len(grouping.variants),
        "articles": len({a for a in ids if a is not None}),
        "mixed_articles": mixed,
        "near_duplicates": len(copies),
        "article_score_p10": float(np.quantile(scores, 0.1)) if scores else None,
        "wrong": wrong[:30],
        "is_right": is_right,
        "is_right_with_variants": right_with_variants,
    }


def ntrex_batches(langs: list[str], size: int = 8) -> list[list[str]]:
    """Languages dealt round-robin into batches of at most ``size`` (sorted codes, so close
    languages with neighbouring codes, e.g. nno/nob, land in different batches)."""
    n = -(-len(langs) // size)
    return [sorted(langs[k::n]) for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench"))
    parser.add_argument("--ntrex-cache", type=Path, default=Path("/work/cache/ntrex"))
    parser.add_argument("--bible-cache", type=Path, default=Path("/work/cache/bible"))
    parser.add_argument("--bible-chapters", type=int, default=300, help="0: no Bible")
    parser.add_argument("--decision-only", action="store_true", help="skip the grouping runs")
    parser.add_argument("--fit", action="store_true", help="fit and print DECISION_WEIGHTS")
    parser.add_argument("--embed-only", action="store_true", help="only fill the caches")
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "grouping.json")
    args = parser.parse_args()
    encoder = load_encoder()
    ntrex_meta = make_ntrex_input(args.benchmarks, args.work / "ntrex")
    ntrex = load_folder(args.work / "ntrex" / "input", args.ntrex_cache, encoder)
    textberg = load_textberg(args.benchmarks, args.work, args.bible_cache, encoder)
    comparable = load_folder(ROOT / "tests" / "data" / "comparable", args.bible_cache, encoder)
    one = load_folder(ROOT / "tests" / "data" / "one-sentence", args.bible_cache, encoder)
    bible, bible_meta = [], {"chapters": [], "files": {}}
    if args.bible_chapters:
        bible_dir = args.work / f"bible-{args.bible_chapters}"
        if not (bible_dir / "mapping.json").exists():
            make_input(args.benchmarks, bible_dir, args.bible_chapters)
        bible_meta = json.loads((bible_dir / "mapping.json").read_text(encoding="utf-8"))
        bible = load_folder(bible_dir / "input", args.bible_cache, encoder)
    if args.embed_only:
        return
    rng = np.random.default_rng(0)

    # 1. The decision on labelled pairs.
    ntrex_docs: dict[str, dict[str, ArticleFile]] = defaultdict(dict)
    for f in ntrex:
        info = ntrex_meta["files"][Path(f.path).name]
        if info["lang"] not in NOT_COVERED:  # the model cannot see these translations
            ntrex_docs[info["article"]][info["lang"]] = view(f, info["lang"])
    order = sorted(read_tsv(args.benchmarks / "ntrex-world" / "eng.tsv"))
    ntrex_halves = {a: ntrex_half(a, order) for a in ntrex_docs}
    bible_docs: dict[str, dict[str, ArticleFile]] = defaultdict(dict)
    for f in bible:
        info = bible_meta["files"][Path(f.path).name]
        bible_docs[info["chapter"]][info["lang"]] = view(f, info["lang"])
    chapters = bible_meta["chapters"]
    bible_half = {c: ("fit" if k % 2 == 0 else "held-out") for k, c in enumerate(chapters)}
    # Neighbouring chapters of the sample (same book or the next) in each half.
    neighbours = {
        c: chapters[max(k - 2, 0) : k] + chapters[k + 1 : k + 3] for k, c in enumerate(chapters)
    }
    examples = labelled_pairs("ntrex", ntrex_docs, ntrex_halves, 12, rng)
    examples += labelled_pairs("bible", bible_docs, bible_half, 4, rng, neighbours)
    tb_docs: dict[str, dict[str, ArticleFile]] = defaultdict(dict)
    for f in textberg:
        stem, lang = Path(f.path).stem.rsplit("-", 1)
        tb_docs[stem][lang] = view(f, lang)
    tb_half = {
        d: ("fit" if d in ("dev", "test0", "test2", "test4") else "held-out") for d in tb_docs
    }
    examples += labelled_pairs("textberg", tb_docs, tb_half, 1, rng)
    examples += short_pairs(ntrex_docs, ntrex_halves, rng)
    examples += comparable_pairs(comparable)
    result: dict = {}
    weights = DECISION  # the module's, or those fitted now (--fit)
    if args.fit:
        fit = [e for e in examples if e.half == "fit"]
        short = is_short(np.stack([e.features for e in fit]))
        # One model per regime (``grouping.SHORT_SENTENCES``), each on its own examples.
        for name, regime in (("DECISION_WEIGHTS", ~short), ("SHORT_DECISION_WEIGHTS", short)):
            part = [e for e, keep in zip(fit, regime, strict=True) if keep]
            x = np.stack([e.features for e in part])
            y = np.array([e.label for e in part], dtype=float)
            # Each source and label weighs as much as the largest positive source of the
            # regime, so the few comparable stories and Text+Berg documents count.
            counts = Counter((e.source, e.label) for e in part)
            base = max(n for (_, label), n in counts.items() if label == 1)
            w = np.array([base / counts[(e.source, e.label)] for e in part])
            beta = fit_logistic(x, y, w)
            print(f"{name} = (" + ", ".join(f"{b:.4g}" for b in beta) + ")")
            result.setdefault("fitted_weights", {})[name] = [float(b) for b in beta]
        fitted = result["fitted_weights"]
        weights = DecisionWeights(
            tuple(fitted["DECISION_WEIGHTS"]), tuple(fitted["SHORT_DECISION_WEIGHTS"])
        )
        result["fit_half"] = precision_recall(fit, weights)
    held = [e for e in examples if e.half == "held-out"]
    result["held_out"] = precision_recall(held, weights)
    print("decision on the held-out half (probability >= 0.5):")
    for source, r in result["held_out"].items():
        print(
            f"  {source:22s} {r['positives']:5d} pos {r['negatives']:5d} neg  "
            f"precision {r['precision']:.4f}  recall {r['recall']:.4f}"
        )

    if args.decision_only:
        return
    # 2. Grouping end to end.
    ntrex_langs = sorted({info["lang"] for info in ntrex_meta["files"].values()})
    batches = []
    per_lang: dict[str, list[bool]] = defaultdict(list)
    covered = [lang for lang in ntrex_langs if lang not in NOT_COVERED]
    # The covered languages in batches of 8; the six the model does not cover on their own.
    for langs in [*ntrex_batches(covered), list(NOT_COVERED)]:
        chosen = [f for f in ntrex if ntrex_meta["files"][Path(f.path).name]["lang"] in langs]
        truth = [ntrex_meta["files"][Path(f.path).name]["article"] for f in chosen]
        r = score_grouping(chosen, truth, weights)
        r.pop("is_right_with_variants")
        for f, ok in zip(chosen, r.pop("is_right"), strict=True):
            per_lang[ntrex_meta["files"][Path(f.path).name]["lang"]].append(ok)
        r["langs"] = langs
        batches.append(r)
        print(
            f"  ntrex {','.join(langs)}: {r['right']}/{r['files']} right, "
            f"{r['mixed_articles']} mixed"
        )
    total = sum(len(per_lang[lang]) for lang in covered)
    right = sum(sum(per_lang[lang]) for lang in covered)
    result["ntrex"] = {
        "files": total,
        "right": right,
        "share_right": right / total,
        "not_covered": {
            lang: f"{sum(per_lang[lang])}/{len(per_lang[lang])}" for lang in NOT_COVERED
        },
        "per_lang_wrong": {
            lang: len(v) - sum(v) for lang, v in sorted(per_lang.items()) if len(v) > sum(v)
        },
        "mixed_articles": sum(b["mixed_articles"] for b in batches[:-1]),
        "batches": batches,
    }
    # Covered languages whose files the identifier gives a code that files of another
    # covered language get too (Croatian, Bosnian and Serbian in Latin script share hr and
    # bs), built together with English: documents with two files of one code. Right
    # strictly (one file per code: the second can only be a variant) and with variants.
    lang_of = {f.path: ntrex_meta["files"][Path(f.path).name]["lang"] for f in ntrex}
    codes: dict[str, set[str]] = defaultdict(set)
    for f in ntrex:
        codes[lang_of[f.path]].add(f.lang)
    sharing = sorted(
        {a for a in covered for b in covered if a != b and codes[a] & codes[b]} - {"eng"}
    )
    if sharing:
        langs = ["eng", *sharing]
        chosen = [f for f in ntrex if lang_of[f.path] in langs]
        r = score_grouping(
            chosen, [ntrex_meta["files"][Path(f.path).name]["article"] for f in chosen], weights
        )
        r.pop("is_right"), r.pop("is_right_with_variants")
        r["langs"] = langs
        r["codes"] = {lang: sorted(codes[lang]) for lang in langs}
        result["ntrex_shared_codes"] = r
    truth = [bible_meta["files"][Path(f.path).name]["chapter"] for f in bible]
    result["bible"] = score_grouping(bible, truth, weights) if bible else {}
    if bible:
        result["bible"].pop("is_right"), result["bible"].pop("is_right_with_variants")
    ids, _, _, grouping = group_folder(comparable, weights)
    langs = [Path(f.path).stem.split("-")[1] for f in comparable]
    n_pairs = sum(1 for a, b in combinations(langs, 2) if a != b)
    result["negatives"] = {
        "files": len(comparable),
        "non_translation_pairs": n_pairs,
        "articles": len({a for a in ids if a is not None}),
        "best_probability": max(
            float(r.split("scored ")[1].split()[0])
            for r in grouping.alone_reasons
            if r and "scored" in r
        ),
    }
    truth = [Path(f.path).stem.split("-")[0] for f in one]
    result["one_sentence"] = score_grouping(one, truth, weights)
    result["one_sentence"].pop("is_right"), result["one_sentence"].pop("is_right_with_variants")
    r = result
    lines = [
        f"ntrex-world, batches of 8 languages: {r['ntrex']['right']}/{r['ntrex']['files']} "
        f"files of the {len(covered)} covered languages right ({r['ntrex']['share_right']:.2%}), "
        f"{r['ntrex']['mixed_articles']} mixed articles; not covered (right/files): "
        + ", ".join(f"{k} {v}" for k, v in r["ntrex"]["not_covered"].items())
    ]
    if sharing:
        r2 = r["ntrex_shared_codes"]
        identified = ", ".join(f"{k} {'/'.join(v)}" for k, v in r2["codes"].items())
        lines.append(
            "ntrex-world, languages sharing an identified code with another "
            f"({identified}) built together: "
            f"{r2['right']}/{r2['files']} files right with one file per code, "
            f"{r2['right_with_variants']}/{r2['files']} counting the {r2['variants']} variants, "
            f"{r2['mixed_articles']} mixed articles"
        )
    if bible:
        lines.append(
            f"bible, {len(chapters)} chapters: {r['bible']['right']}/{r['bible']['files']} "
            f"right ({r['bible']['share_right']:.2%}), {r['bible']['mixed_articles']} mixed "
            f"articles, {r['bible']['near_duplicates']} dropped as near duplicates"
        )
    lines += [
        f"negatives: {r['negatives']['files']} files, {r['negatives']['non_translation_pairs']} "
        f"non-translation pairs, {r['negatives']['articles']} articles "
        f"(best pair probability {r['negatives']['best_probability']:.2f})",
        f"one-sentence translations: {r['one_sentence']['right']}/{r['one_sentence']['files']} "
        "files right",
    ]
    print("\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.json, result)


if __name__ == "__main__":
    main()
