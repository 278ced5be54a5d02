"""Document-alignment candidates from metadata: URLs that differ only in a language code, and
``hreflang`` alternates that name another document's URL.

Multilingual sites put the language in the host (``fr.site.com``), a path segment
(``/fr/news/1``), a query parameter (``?lang=fr``) or a file-name affix (``story-fr.html``).
Removing the page's own language code from its URL gives a key that its translations share:
the URL-stripping heuristic of Bitextor's document aligner and ModernMT's language stripper,
here restricted to the code of the page's own language (identified or declared), so a path
segment such as ``/it/`` ("it" in English) is removed only from an Italian page. Codes are
recognised by langcodes (``fr``, ``fra``, ``fre``, ``fr-CA``, ``fr_FR``).

These are candidates only: the grouping stage verifies every pair with the embeddings, so a
URL match never pairs texts that the embeddings reject.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from itertools import combinations
from urllib.parse import parse_qsl, urlencode, urlsplit

import langcodes


@cache
def _language_of(token: str) -> str | None:
    """The language subtag a URL token names ("fr", "fra", "fr-ca", "fr_FR" -> "fr"), else None.

    Only tokens shaped like language tags (2-3 letters, optionally a region or script) count:
    a word like "news" is never taken for a code.
    """
    if not re.fullmatch(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,4})?", token, re.IGNORECASE):
        return None
    try:
        language = langcodes.Language.get(token.replace("_", "-"))
    except (ValueError, langcodes.LanguageTagError):
        return None
    return language.language if language.is_valid() else None


def _strip_affix(part: str, lang: str) -> str:
    """A path segment or host label without a language affix of ``lang``: "story-fr.html",
    "story_fr.html", "fr-story" -> "story.html", "story.html", "story"; "fr" -> ""."""
    if _language_of(part) == lang:  # the whole segment is a tag, e.g. "fr-ca", "pt_BR"
        return ""
    tokens = re.split(r"([-_.])", part)  # pieces at even positions, separators between
    for k in range(0, len(tokens), 2):
        if _language_of(tokens[k]) == lang:
            # The piece goes with the separator before it (after it, for the first piece).
            start = k - 1 if k else k
            del tokens[start : start + 2]
            return "".join(tokens)
    return part


def normalise_url(url: str) -> str:
    """A URL as a comparison key: scheme and fragment dropped, host lower-cased without
    ``www.``, trailing slash removed, query parameters sorted."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/")
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    return f"{host}{path}" + (f"?{query}" if query else "")


def language_neutral_url(url: str, lang: str) -> str:
    """``url`` without its mentions of language ``lang`` (an ISO 639 code as the pipeline uses),
    normalised by ``normalise_url``.

    >>> language_neutral_url("https://fr.news.example/2024/story-fr.html?lang=fr&p=2", "fr")
    'news.example/2024/story.html?p=2'
    """
    parts = urlsplit(url.strip())
    host = _strip_affix((parts.hostname or "").removeprefix("www."), lang)
    segments = [_strip_affix(segment, lang) for segment in parts.path.split("/")]
    path = "/".join(segment for segment in segments if segment).rstrip("/")
    query = urlencode(
        sorted(
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if _language_of(value) != lang
        )
    )
    return f"{host}/{path}" + (f"?{query}" if query else "")


def url_candidates(
    urls: Sequence[str | None],
    langs: Sequence[str],
    alternates: Sequence[Sequence[tuple[str, str]]] = (),
) -> set[tuple[int, int]]:
    """Pairs (i, j), i < j, of documents in different languages that metadata says are
    renderings of one article: equal ``language_neutral_url`` keys, or one document's
    ``hreflang`` alternates naming the other's URL.

    ``urls[i]`` (None when unknown) and ``langs[i]`` describe document i; ``alternates[i]``
    holds its (hreflang tag, URL) links. A key shared by more than one document per language
    (a section front page, a URL without an article part) proposes nothing: it does not name
    one article.
    """
    by_key: dict[str, list[int]] = defaultdict(list)
    by_url: dict[str, int] = {}
    for i, (url, lang) in enumerate(zip(urls, langs, strict=True)):
        if url:
            by_key[language_neutral_url(url, lang)].append(i)
            by_url.setdefault(normalise_url(url), i)
    pairs: set[tuple[int, int]] = set()
    for members in by_key.values():
        per_lang = [langs[i] for i in members]
        if len(per_lang) != len(set(per_lang)):
            continue
        pairs.update(combinations(sorted(members), 2))
    for i, links in enumerate(alternates):
        for _, href in links:
            j = by_url.get(normalise_url(href))
            if j is not None and j != i and langs[i] != langs[j]:
                pairs.add((min(i, j), max(i, j)))
    return pairs
