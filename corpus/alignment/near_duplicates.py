"""Near duplicates within one language: copies with small edits, and damaged copies.

Two files of one language whose sentences match in order (``evidence.translation_score``)
and share most of their word trigrams are one text twice; a copy whose words are the
other's but whose word pairs are not (shuffled, letters noised by a machine) is a damaged
copy (``word_overlap``). The build sets both apart before grouping.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import regex
from threadpoolctl import threadpool_limits

from corpus.alignment.candidates import document_vectors, files_by_lang, vector_candidates
from corpus.alignment.evidence import ordered_chain, translation_score
from corpus.alignment.neighbours import nearest
from corpus.records import ArticleFile, Link

# The same chain score within one language: two different articles share few ordered
# matches, a copy with small edits shares nearly all.
NEAR_DUPLICATE_SCORE = 0.9
# Share of the shorter text's word trigrams found in the other text. Short texts of one
# genre (psalms, briefs) match sentence by sentence in meaning without being copies.
NEAR_DUPLICATE_OVERLAP = 0.5
# A damaged copy (words shuffled, letters noised by a machine) holds the other file's words,
# spelling slips of one letter included, but few of its word pairs (``word_overlap``). On
# ntrex-world's close languages (bs/hr/sr-Latn, da/nb/nn, id/ms) a text holding 80% or more
# of its twin's words shares at least 35% of its word pairs (20% from 70%); the shuffled
# copy of the damaged-copies case holds 90% and shares 8%, sentences of a dozen words
# shuffled at random share 10-16% by chance.
DAMAGED_WORD_SHARE = 0.8
DAMAGED_PAIR_SHARE = 0.2


def trigram_overlap(a: str, b: str) -> float:
    """Share of the smaller set of word trigrams of ``a`` and ``b`` that both contain."""
    grams = []
    for text in (a, b):
        words = text.split()
        grams.append({tuple(words[k : k + 3]) for k in range(max(1, len(words) - 2))})
    small = min(len(g) for g in grams)
    return len(grams[0] & grams[1]) / small if small else 0.0


def _normalised(sentence: str) -> str:
    return " ".join(sentence.casefold().split())


def same_body(a: ArticleFile, b: ArticleFile) -> bool:
    """Whether two same-language files agree outside the sentences they share verbatim.

    Shared sentences are boilerplate for this comparison (a company footer, a standard
    disclaimer): two press releases that share a long footer match "in order" on it
    alone. What is left must be one text: nothing on one side (the other only adds or
    cuts sentences), small edits (most word trigrams shared), or the same sentences in
    other words or another language (an ordered chain of matches over at least two
    sentences each: a copy half translated into another language).
    """
    shared = {_normalised(x) for x in a.sentences} & {_normalised(x) for x in b.sentences}
    rest = [[k for k, x in enumerate(f.sentences) if _normalised(x) not in shared] for f in (a, b)]
    if not shared or min(len(r) for r in rest) == 0:
        return True
    texts = [" ".join(f.sentences[k] for k in r) for f, r in zip((a, b), rest, strict=True)]
    if trigram_overlap(*texts) >= NEAR_DUPLICATE_OVERLAP:
        return True
    return (
        min(len(r) for r in rest) >= 2
        and translation_score(a.embeddings[rest[0]], b.embeddings[rest[1]]) >= NEAR_DUPLICATE_SCORE
    )


def near_duplicates(
    files: Sequence[ArticleFile],
    *,
    candidates: int = 5,
    min_score: float = NEAR_DUPLICATE_SCORE,
) -> list[Link]:
    """Same-language files that are copies of another file with small edits.

    Returns links (a: the copy, b: the file that is kept); the same candidate search and
    ``translation_score`` as for translations, applied within each language; most word
    trigrams of the shorter text must recur in the other, and the two must agree outside
    the sentences they share verbatim (``same_body``; when ``sentences`` are given). Two
    files that each have their own translations in the folder (``_own_translations``) are
    not copies, however alike. Of two copies the one whose paragraphs are all in one
    language is kept, else the first.
    """
    with threadpool_limits(1, user_api="blas"):  # small products (``group_articles``)
        return _near_duplicates(files, candidates, min_score)


def _near_duplicates(files: Sequence[ArticleFile], candidates: int, min_score: float) -> list[Link]:
    if not files:
        return []
    doc = document_vectors(files)
    copies: list[Link] = []
    dropped: set[int] = set()
    for members in files_by_lang(files).values():
        if len(members) < 2:
            continue
        idx = np.array(members)
        # Each file is its own nearest neighbour, hence one candidate more.
        near = vector_candidates(doc, idx, idx, candidates + 1)
        pairs = {(min(i, j), max(i, j)) for i, j in near}
        for first, second in sorted(pairs):
            if first == second or first in dropped or second in dropped:
                continue
            kept, copy = (
                (second, first) if files[first].mixed > files[second].mixed else (first, second)
            )
            score = translation_score(files[kept].embeddings, files[copy].embeddings)
            if score < min_score:
                continue
            if is_copy(files[kept], files[copy], score, min_score):
                if not _own_translations(files, doc, kept, copy, candidates):
                    copies.append(Link(copy, kept, score))
                    dropped.add(copy)
                continue
            # Same sentences in order but not the same text: a damaged copy, when one of the
            # two has lost its word order and its translations say which.
            damage = _word_damage(files[first].text, files[second].text)
            if damage is None:
                continue
            better = _better_translated(files, doc, first, second, candidates)
            if better is not None:
                copy = second if better == first else first
                copies.append(Link(copy, better, score, damage))
                dropped.add(copy)
    return copies


_WORD = regex.compile(r"\p{L}[\p{L}\p{M}]*")


def _one_letter_keys(word: str) -> set[str]:
    """The word and each of its one-letter deletions: two words one substitution, insertion
    or deletion apart share a key (the symmetric-delete idea of SymSpell, Garbe 2012)."""
    return {word} | {word[:k] + word[k + 1 :] for k in range(len(word))}


def word_overlap(a: str, b: str) -> tuple[float, float]:
    """(word share, word-pair share) of the text with fewer words in the other: the share of
    its words that are the other's and of its consecutive word pairs that the other has.

    Words are runs of letters and marks, case-folded; a word of three letters or more that
    is one letter away from one of the other's words (a spelling slip, a close language's
    form) stands for that word, in pairs too. Scripts written without spaces make whole
    clauses "words" and share few of them.
    """
    words = [[w.casefold() for w in _WORD.findall(text)] for text in (a, b)]
    x, y = sorted(words, key=len)
    if len(x) < 2:
        return 0.0, 0.0
    vocab = set(y)
    as_word: dict[str, str] = {}
    for w in vocab:
        if len(w) >= 3:
            for key in _one_letter_keys(w):
                as_word.setdefault(key, w)

    def theirs(w: str) -> str | None:
        if w in vocab:
            return w
        if len(w) < 3:
            return None
        return next((as_word[k] for k in _one_letter_keys(w) if k in as_word), None)

    found = {w: theirs(w) for w in set(x)}  # each distinct word looked up once
    mapped = [found[w] for w in x]
    pairs = set(pairwise(y))
    kept_pairs = sum(p in pairs for p in pairwise(mapped))
    return sum(w is not None for w in mapped) / len(x), kept_pairs / (len(x) - 1)


def _word_damage(a: str, b: str) -> str | None:
    """Why one of two same-language texts is the other's words with the word order lost
    (``word_overlap`` against ``DAMAGED_WORD_SHARE`` and ``DAMAGED_PAIR_SHARE``), or None.
    Symmetric: which of the two is damaged is for their translations to say
    (``_better_translated``)."""
    word_share, pair_share = word_overlap(a, b)
    if word_share < DAMAGED_WORD_SHARE or pair_share > DAMAGED_PAIR_SHARE:
        return None
    return (
        f"{word_share:.0%} of its words are the other's, spelling slips of one letter included, "
        f"but only {pair_share:.0%} of its word pairs: the words in another order"
    )


def _best_chains(
    files: Sequence[ArticleFile], doc: np.ndarray, x: int, y: int, candidates: int
) -> list[tuple[list[int], list[tuple[float, float]], list[tuple[float, float]]]]:
    """Per language other than theirs: the ``candidates`` files of that language nearest to
    ``x`` or ``y`` by document vector, and ``ordered_chain`` of ``x`` and of ``y`` with each."""
    found = []
    for lang, members in files_by_lang(files).items():
        if lang == files[x].lang:
            continue
        idx = np.array(members)
        _, top = nearest(doc[idx], doc[[x, y]], candidates)
        near = sorted({int(idx[c]) for c in top.ravel() if c >= 0})
        if near:
            found.append(
                (
                    near,
                    [ordered_chain(files[x].embeddings, files[c].embeddings) for c in near],
                    [ordered_chain(files[y].embeddings, files[c].embeddings) for c in near],
                )
            )
    return found


def _better_translated(
    files: Sequence[ArticleFile], doc: np.ndarray, x: int, y: int, candidates: int
) -> int | None:
    """Of two same-language files, the one whose best translation (``ordered_chain``: chain share,
    then the cosines along it) is better in more of the other languages; None on a tie or
    with no other language. A text with its word order lost embeds farther from every
    rendering of it (the damaged-copies case: 0.73 against 0.90 along the German chain)."""
    votes = 0
    for _, sx, sy in _best_chains(files, doc, x, y, candidates):
        votes += (max(sx) > max(sy)) - (max(sy) > max(sx))
    return x if votes > 0 else y if votes < 0 else None


def _own_translations(
    files: Sequence[ArticleFile], doc: np.ndarray, x: int, y: int, candidates: int
) -> bool:
    """Whether two same-language files each have their own translation in the folder.

    Per other language, the best translation (``ordered_chain``: chain share, then the cosines
    along it) of each among the ``candidates`` nearest files of that language by document
    vector: a copy and its original share it, two texts that merely say nearly the same
    thing (parallel passages: 1 Kings 22 and 2 Chronicles 18) each score higher with their
    own rendering than with the other's. True when more languages say "distinct" than
    "shared": a file with its own distinct translations is never dropped as a copy.
    """
    distinct = shared = 0
    for near, sx, sy in _best_chains(files, doc, x, y, candidates):
        bx, by = (
            max(range(len(near)), key=sx.__getitem__),
            max(range(len(near)), key=sy.__getitem__),
        )
        if bx != by and sx[bx] > sx[by] and sy[by] > sy[bx]:
            distinct += 1
        else:
            shared += 1
    return distinct > shared


def is_copy(
    a: ArticleFile, b: ArticleFile, score: float, min_score: float = NEAR_DUPLICATE_SCORE
) -> bool:
    """Same-language files that are one text with small edits: ``score`` (their
    ``translation_score``) reaches ``min_score``, most word trigrams of the shorter are
    shared, and they are one text outside shared boilerplate (``same_body``)."""
    return (
        score >= min_score
        and trigram_overlap(a.text, b.text) >= NEAR_DUPLICATE_OVERLAP
        and same_body(a, b)
    )
