"""The group stage: which files are renderings of the same article (``group_articles``).

1. Candidates (``candidates``): each file's document vector (mean of its sentence
   embeddings, centred per language) is compared with the files of every other language,
   in row blocks, and the nearest are kept (``vector_candidates``); beside them, the files
   its sentences vote for (``sentence_candidates``: each sentence's nearest sentences of
   the other language). No work is quadratic in the number of files.
2. Decision: ``evidence.pair_probability`` turns what two files share
   (an ordered chain of mutual best sentence matches, that chain against the same
   two files with one side shuffled, how far the matched sentences stand above a
   null distribution of unrelated sentence pairs of the same two languages, length
   consistency, shared numbers and URLs) into a calibrated probability that they
   translate each other. A pair of at least 0.5 that is each file's most probable is
   linked. Below 0.5 (a model weak in the language), a pair is linked only when it wins a
   competition its numbers confirm (``evidence.competition``): each file's clear best by
   BiMax and agreement of numbers, with more than half its numbers shared. Two unrelated
   files of one genre, or two stories of one event with other figures, stay apart.
3. Assembly: accepted pairs that are each other's best in the respective
   language are joined greedily, most probable first, never putting two files of
   one language into one article; the other candidates only decide among these.
   Two groups that share a language merge only when the links between them outnumber
   the files pushed out (``_assemble``), so one document with two files of one code
   stays whole; a file pushed out that translates the article is reported as its
   variant (``find_variants``), not as a file without translation.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from threadpoolctl import threadpool_limits

from corpus.alignment.candidates import (
    document_vectors,
    files_by_lang,
    sentence_candidates,
    vector_candidates,
)
from corpus.alignment.evidence import (
    DECISION,
    MIN_NULL_CELLS,
    DecisionWeights,
    SentenceNull,
    competition,
    language_nulls,
    pair_probability,
)
from corpus.alignment.variants import find_variants
from corpus.records import ArticleFile, Grouping, Link

# A pair is linked when its calibrated probability of being a translation reaches this.
MIN_PAIR_PROBABILITY = 0.5
# The probability given to a pair linked by competition: the precision of those links alone
# on Army (1,126 of 1,139 judged links right, 0.989), rounded down. Bead scores fold it in.
COMPETITION_PROBABILITY = 0.98
# Two groups that hold files of the same languages merge when at least this share of the
# pairs between them are translations (``_assemble``): one document split by shared codes.
WHOLE_SHARE = 0.8


def group_articles(
    files: Sequence[ArticleFile],
    *,
    candidates: int = 10,
    min_probability: float = MIN_PAIR_PROBABILITY,
    metadata_pairs: Collection[tuple[int, int]] = (),
    weights: DecisionWeights = DECISION,
) -> Grouping:
    """Assign an article id to every file that has a convincing translation.

    Every candidate pair is judged on its own (``pair_probability``); pairs that reach
    ``min_probability`` and are each other's most probable in that language are joined,
    most probable first. ``metadata_pairs`` (index pairs, e.g. from ``url_matching``) are
    judged beside the ``candidates`` nearest neighbours and the sentence-voted candidates
    (``sentence_candidates``; ``candidates=0`` turns both searches off). Returns, per
    file, its article id and the probability of the best link that holds it there, or
    (alone) the reason, naming its best candidate.
    """
    # Tens of thousands of small (sentences x sentences) products: BLAS threads cost more
    # to wake than they save, and with another busy process they made grouping 20x slower.
    with threadpool_limits(1, user_api="blas"):
        return _group_articles(files, candidates, min_probability, metadata_pairs, weights)


@dataclass
class _Judged:
    """Every candidate pair judged, and the links accepted among them."""

    links: list[Link] = field(default_factory=list)  # accepted: each file's best
    all: list[Link] = field(default_factory=list)  # every judged pair
    partners: dict[int, list[tuple[float, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # per file: (probability, other file) of every judged pair
    competition: set[tuple[int, int]] = field(default_factory=set)  # linked by competition
    # Competition key of every judged pair, from each end: keys[i][j].
    keys: dict[int, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))


def _group_articles(
    files: Sequence[ArticleFile],
    candidates: int,
    min_probability: float,
    metadata_pairs: Collection[tuple[int, int]],
    weights: DecisionWeights,
) -> Grouping:
    if not files:
        return Grouping([], [], [], [], {}, {})
    nulls = language_nulls(files)
    judged = _judge(files, candidates, min_probability, metadata_pairs, weights, nulls)
    # A pair linked by competition is as likely right as such links were measured to be.
    judged_pairs = {(min(x.a, x.b), max(x.a, x.b)): x.score for x in judged.all} | dict.fromkeys(
        judged.competition, COMPETITION_PROBABILITY
    )

    def probability(i: int, j: int) -> float:
        key = (min(i, j), max(i, j))
        if key not in judged_pairs:
            pair = tuple(sorted((files[i].lang, files[j].lang)))
            judged_pairs[key] = pair_probability(files[i], files[j], nulls[pair], weights)
        return judged_pairs[key]

    partners = judged.partners
    # Each file's most probable candidate (the first of equals), named when it stays alone.
    best_seen = {end: max(found, key=lambda x: x[0]) for end, found in partners.items()}
    groups = _assemble(files, judged.links, probability, min_probability)
    groups = _release_second_renderings(files, groups, probability, min_probability, partners)
    article_ids = _article_ids(files, groups)
    used = [
        x
        for x in judged.links
        if article_ids[x.a] is not None and article_ids[x.a] == article_ids[x.b]
    ]
    scores: list[float | None] = [None] * len(files)
    for link in used:
        for end in (link.a, link.b):
            scores[end] = max(scores[end] or 0.0, link.score)
    # Every two files of an article, linked directly or not: bead scores fold it in.
    pair_probabilities = {
        (i, j): probability(i, j) for group in groups for i, j in combinations(sorted(group), 2)
    }
    group_of = {article_ids[min(g)]: g for g in groups}
    variants, reasons = find_variants(
        files, article_ids, group_of, partners, probability, min_probability, judged.keys
    )
    for v, article in variants.items():
        for m in group_of[article]:
            if files[m].lang != files[v].lang:
                pair_probabilities[(min(v, m), max(v, m))] = probability(v, m)
    reasons = [
        None
        if article_ids[i] is not None
        else reasons.get(i) or _alone_reason(files, i, best_seen.get(i), nulls)
        for i in range(len(files))
    ]
    return Grouping(article_ids, used, scores, reasons, pair_probabilities, variants)


def _article_ids(files: Sequence[ArticleFile], groups: list[set[int]]) -> list[str | None]:
    """Per file, the id of its article (None: alone): 16 hex digits of the sha256 of its
    files' keys, so that an article keeps its id when unrelated files change."""
    article_ids: list[str | None] = [None] * len(files)
    for group in groups:
        digest = hashlib.sha256("\n".join(sorted(files[i].key for i in group)).encode())
        for i in group:
            article_ids[i] = digest.hexdigest()[:16]
    return article_ids


def _judge(
    files: Sequence[ArticleFile],
    candidates: int,
    min_probability: float,
    metadata_pairs: Collection[tuple[int, int]],
    weights: DecisionWeights,
    nulls: dict[tuple[str, str], SentenceNull | None],
) -> _Judged:
    """Judge every candidate pair of every language pair (``pair_probability``) and accept
    the links: probable on their own or won by competition, each file's best."""
    doc = document_vectors(files)
    by_lang = files_by_lang(files)
    # Candidates from URLs and hreflang links (``url_matching``) join the nearest
    # neighbours; they are judged like any other pair, so metadata never links texts alone.
    from_metadata: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
    for i, j in metadata_pairs:
        (la, i), (lb, j) = sorted([(files[i].lang, i), (files[j].lang, j)])
        if la != lb:
            from_metadata[(la, lb)].add((i, j))
    out = _Judged()
    for la, lb in combinations(sorted(by_lang), 2):
        left, right = np.array(by_lang[la]), np.array(by_lang[lb])
        pairs = (
            vector_candidates(doc, left, right, candidates)
            | (sentence_candidates(files, left, right) if candidates else set())
            | from_metadata[(la, lb)]
        )
        judged = [
            Link(i, j, pair_probability(files[i], files[j], nulls[(la, lb)], weights))
            for i, j in sorted(pairs)
        ]
        out.all += judged
        for link in judged:
            for end, other in ((link.a, link.b), (link.b, link.a)):
                out.partners[end].append((link.score, other))
        _accept(files, judged, min_probability, out)
    return out


def _accept(
    files: Sequence[ArticleFile], judged: list[Link], min_probability: float, out: _Judged
) -> None:
    """The links of one language pair's judged pairs, into ``out``."""
    key, won = competition(files, judged)
    for k, x in enumerate(judged):
        out.keys[x.a][x.b] = out.keys[x.b][x.a] = float(key[k])
    # Accepted: probable on its own, or won by competition with agreeing numbers.
    accepted = [k for k, x in enumerate(judged) if x.score >= min_probability or won[k]]
    # Keep a link only when each file is the other's best in that language, by the
    # competition key: probabilities saturate near 1, and on a crawl a story of the same
    # kind often scores as high as the translation (Hiru: pair precision 0.70-0.89 when
    # ranked by probability, 0.94-0.98 by the key).
    best: dict[int, int] = {}
    for k in accepted:
        for end in (judged[k].a, judged[k].b):
            if end not in best or key[k] > key[best[end]]:
                best[end] = k
    for k in accepted:
        x = judged[k]
        if best[x.a] == k and best[x.b] == k:
            out.links.append(x)
            if x.score < min_probability:
                out.competition.add((min(x.a, x.b), max(x.a, x.b)))


def _assemble(
    files: Sequence[ArticleFile],
    links: list[Link],
    probability: Callable[[int, int], float],
    min_probability: float,
) -> list[set[int]]:
    """Articles (sets of two or more file indices, one file per language) from accepted links.

    Greedy, best links first. Two groups merge only when each adds a language the other
    lacks (two groups of the same languages are two articles, even when they translate each
    other: parallel passages). A link between two groups that both hold a file of some
    language merges them only when neither end of the link is pushed out (per shared
    language the file with fewer links into the merged article, then the lower sum of
    their probabilities) and either the links between the groups outnumber the files
    pushed out, or at least ``WHOLE_SHARE`` of the pairs between what stays of the two
    groups reach ``min_probability`` (``probability``): one document whose files share
    language codes (Croatian and Bosnian both identified as hr, Nynorsk as nb) stays
    whole, while two articles joined by one wrong link stay apart. A pushed-out file
    starts again alone. Passes repeat until nothing changes (a link refused early may hold
    later).
    """
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    for x in links:
        neighbours[x.a][x.b] = neighbours[x.b][x.a] = x.score
    group = list(range(len(files)))  # file -> group id
    members: dict[int, set[int]] = {i: {i} for i in range(len(files))}
    fresh = len(files)
    order = sorted(links, key=lambda x: (-x.score, x.a, x.b))
    for _ in range(4):
        changed = False
        for link in order:
            ga, gb = group[link.a], group[link.b]
            if ga == gb:
                continue
            out = _merge_leaves_out(
                files, link, members[ga], members[gb], neighbours, probability, min_probability
            )
            if out is None:
                continue
            merged = members.pop(ga) | members.pop(gb)
            members[fresh] = merged - out
            for i in members[fresh]:
                group[i] = fresh
            fresh += 1
            for i in out:
                group[i] = fresh
                members[fresh] = {i}
                fresh += 1
            changed = True
        if not changed:
            break
    return [g for g in members.values() if len(g) > 1]


def _merge_leaves_out(
    files: Sequence[ArticleFile],
    link: Link,
    a: set[int],
    b: set[int],
    neighbours: dict[int, dict[int, float]],
    probability: Callable[[int, int], float],
    min_probability: float,
) -> set[int] | None:
    """Whether ``link`` merges groups ``a`` and ``b`` (``_assemble``): None when not, else
    the files the merge pushes out (``_pushed_out``; empty when no language is shared)."""
    langs_a, langs_b = {files[i].lang for i in a}, {files[i].lang for i in b}
    # A merge that adds no language only swaps files: two groups of the same
    # languages are two articles (parallel passages), never one document.
    if langs_a <= langs_b or langs_b <= langs_a:
        return None
    out = _pushed_out(files, a, b, a | b, neighbours)
    if link.a in out or link.b in out:
        return None
    cross = sum(1 for i in a for j in neighbours[i] if j in b)
    if cross <= len(out):
        pairs = [probability(i, j) >= min_probability for i in a - out for j in b - out]
        if np.mean(pairs) < WHOLE_SHARE:
            return None
    return out


def _release_second_renderings(
    files: Sequence[ArticleFile],
    groups: list[set[int]],
    probability: Callable[[int, int], float],
    min_probability: float,
    partners: dict[int, list[tuple[float, int]]],
) -> list[set[int]]:
    """Dissolve a group that is a second rendering of a bigger one: the bigger group holds
    every language it holds and more, and at least ``WHOLE_SHARE`` of its pairs with the bigger
    group's files in other languages reach ``min_probability``. Both renderings of a
    document whose files share codes (two files identified ``hr``, two ``zh_Hant``) can
    each find their best links inside their own clique, so that no link joins the two and
    ``_assemble`` never weighs a merge. The released files gain the bigger group's files
    as judged partners (``partners``, updated), so that ``find_variants`` judges them there.
    Only bigger groups holding a judged partner of one of its files are weighed: on a crawl
    of thousands of articles, weighing every bigger group was quadratic. Returns the groups
    that stay, biggest first."""
    kept: list[set[int]] = []
    kept_of: dict[int, int] = {}  # file -> index into kept
    for group in sorted(groups, key=lambda g: (-len(g), min(g))):
        langs = {files[i].lang for i in group}
        near = {kept_of[o] for v in group for _, o in partners.get(v, ()) if o in kept_of}
        for bigger in (kept[k] for k in sorted(near)):
            # Holding every language of the bigger group, it is an article of its own
            # (parallel passages: 1 Kings 22 and 2 Chronicles 18, each translated).
            if not langs < {files[i].lang for i in bigger}:
                continue
            pairs = [(v, m) for v in group for m in bigger if files[m].lang != files[v].lang]
            if np.mean([probability(v, m) >= min_probability for v, m in pairs]) >= WHOLE_SHARE:
                for v, m in pairs:
                    partners[v].append((probability(v, m), m))
                break
        else:
            kept_of.update((i, len(kept)) for i in group)
            kept.append(group)
    return kept


def _pushed_out(
    files: Sequence[ArticleFile],
    a: set[int],
    b: set[int],
    merged: set[int],
    neighbours: dict[int, dict[int, float]],
) -> set[int]:
    """Per language held by both groups, the file with less support in the merged article
    (fewer links into it, then a lower sum of their probabilities, then the later index)."""
    lang_a = {files[i].lang: i for i in a}
    out = set()
    for j in b:
        i = lang_a.get(files[j].lang)
        if i is None:
            continue
        support = {
            k: (
                sum(1 for n in neighbours[k] if n in merged),
                sum(p for n, p in neighbours[k].items() if n in merged),
                -k,
            )
            for k in (i, j)
        }
        out.add(min(support, key=support.__getitem__))
    return out


def _alone_reason(
    files: Sequence[ArticleFile],
    i: int,
    best: tuple[float, int] | None,
    nulls: dict[tuple[str, str], SentenceNull | None],
) -> str:
    """Why file ``i`` has no article: its best candidate and that pair's probability."""
    f = files[i]
    if not any(g.lang != f.lang for g in files):
        return f"no file in another language than {f.lang}"
    if len(f.embeddings) == 0:
        return "no sentences"
    if best is None:
        return "no candidate"
    p, other = best
    name = files[other].name or files[other].key[:12]
    pair = tuple(sorted((f.lang, files[other].lang)))
    if nulls.get(pair) is None:
        return f"too little text to judge: under {MIN_NULL_CELLS} sentence pairs to compare with"
    if p >= MIN_PAIR_PROBABILITY:
        return f"best candidate {name} scored {p:.2f} but is better matched in {f.lang}"
    return f"best candidate {name} scored {p:.2f}"
