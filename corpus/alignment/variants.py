"""Variants: a file left alone that is a second rendering of an article in a language code
the article already holds (close languages sharing a code, or two translations into one
language), told apart from a story of the same event (``find_variants``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from corpus.alignment.evidence import (
    SCALE_FLOOR,
    translation_score,
)
from corpus.alignment.near_duplicates import is_copy
from corpus.records import ArticleFile
from corpus.robust import robust_scale

# A file left alone is an article's variant only where the article's files rank it as a
# rendering (``_ranked_below``): by competition key, at least this many robust scales above
# their other candidates, and no lower than this share of the way down from the first
# rendering to them. ntrex-world's 113 variants (Bosnian, Croatian and Serbian files of one
# article sharing a code, with the English one) stand 2.3 to 87 scales up and at most 0.59
# of the way down; 192 of Hiru's 238 would-be variants that its gold lists call wrong
# (stories of the same event) fall under one or the other.
VARIANT_STANDOUT = 2.0
VARIANT_SHARE = 2 / 3


def find_variants(
    files: Sequence[ArticleFile],
    article_ids: list[str | None],
    group_of: dict[str, set[int]],
    partners: dict[int, list[tuple[float, int]]],
    probability: Callable[[int, int], float],
    min_probability: float,
    keys: dict[int, dict[int, float]],
) -> tuple[dict[int, str], dict[int, str]]:
    """Files left alone that are a second rendering of an article in a language it holds.

    An article holds one file per language code, but two files of one document can share
    a code: close languages the identifier does not tell apart (Croatian, Bosnian and
    Serbian in Latin script), or two independent translations into one language. A file
    left alone is judged against the article of its most probable judged partner
    (``partners``: every candidate pair, with probability) among those in an article with
    a file of its own language; it is a variant of that article when at least half of the
    article's files in other languages, and their mean, score at least
    ``min_probability`` with it, it is not a copy of that file (``is_copy``), and the
    article's files do not rank it with their other candidates rather than with their own
    rendering (``_ranked_below``: on a crawl, a story of the same event scores as probable
    as a translation). ``keys`` holds the competition key of every judged pair from each
    end. ``group_of`` maps each article id to its files. Returns {file: article id} and
    {file: reason}.
    """
    variants: dict[int, str] = {}
    reasons: dict[int, str] = {}
    for v, f in enumerate(files):
        if article_ids[v] is not None:
            continue
        # Probabilities saturate near 1, so the single best partner may be another file
        # left alone (a second rendering too): every partner's article is considered.
        held = [
            (p, article_ids[o])
            for p, o in partners.get(v, ())
            if p >= min_probability
            and article_ids[o] is not None
            and any(files[i].lang == f.lang for i in group_of[article_ids[o]])
        ]
        if not held:
            continue
        article = max(held)[1]
        members = sorted(group_of[article])
        same = [i for i in members if files[i].lang == f.lang]
        others = [i for i in members if files[i].lang != f.lang]
        if not others:
            continue
        probs = np.array([probability(v, m) for m in others])
        if (
            (probs >= min_probability).mean() >= 0.5
            and probs.mean() >= min_probability
            and not is_copy(
                files[same[0]], f, translation_score(files[same[0]].embeddings, f.embeddings)
            )
            and not _ranked_below(files, keys, v, same[0], others)
        ):
            variants[v] = article
            reasons[v] = _reason(files[same[0]], f.lang, float(probs.mean()), len(others))
    return variants, reasons


def _reason(first: ArticleFile, lang: str, mean: float, n_others: int) -> str:
    """Why a file is a variant of the article whose file of its language is ``first``."""
    name = first.name or first.key[:12]
    return (
        f"a second {lang} rendering of the article of {name}: scored {mean:.2f} on average "
        f"with its {n_others} file{'s' if n_others > 1 else ''} in other languages (an "
        "article holds one file per language)"
    )


def _ranked_below(
    files: Sequence[ArticleFile],
    keys: dict[int, dict[int, float]],
    v: int,
    s: int,
    others: list[int],
) -> bool:
    """Whether more than half of the files ``others`` that were judged against both ``v``
    and ``s`` (two files of one language) rank ``v`` with their other candidates of that
    language rather than with ``s``. By competition key (``competition``), over the median
    of the rest: ``v`` stands under ``VARIANT_STANDOUT`` robust scales of the rest, or lower
    than ``1 - VARIANT_SHARE`` of ``s``'s height. Two renderings of one text both stand far
    above a file's other candidates; a story of the same event, written apart, stands in
    between. False without such files."""
    below = judged = 0
    for m in others:
        judged_by_m = keys.get(m, {})
        kv, ks = judged_by_m.get(v), judged_by_m.get(s)
        rest = [
            k for o, k in judged_by_m.items() if o not in (v, s) and files[o].lang == files[v].lang
        ]
        if kv is None or ks is None or not rest:
            continue
        judged += 1
        centre, scale = float(np.median(rest)), robust_scale(np.array(rest), SCALE_FLOOR)
        below += kv - centre < VARIANT_STANDOUT * scale or ks - kv > VARIANT_SHARE * (ks - centre)
    return judged > 0 and below > judged / 2
