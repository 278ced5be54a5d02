"""The Arrow tables the build writes and its stages exchange: schemas and builders.

Rows stay columnar from the stage that makes them to the file that holds them: a pair row
as nested Python dicts costs about 1.7 KB, several times its text.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

# The file in every output folder of a build: it identifies a folder this tool wrote (never
# read as input, replaced only by another build) and lists the files it wrote.
MARKER = ".corpus-build"

SENTENCES_SCHEMA = pa.schema(
    [
        ("sentence_id", pa.int32()),
        ("path", pa.string()),
        ("article_id", pa.string()),
        ("lang", pa.string()),
        ("text", pa.string()),
        ("char_start", pa.int32()),
        ("char_end", pa.int32()),
    ]
)


ARTICLES_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("lang", pa.string()),
        ("lang_confidence", pa.float32()),
        ("lang_mixed", pa.bool_()),
        ("article_id", pa.string()),
        ("n_sentences", pa.int32()),
        ("url", pa.string()),  # null where the input gives none (plain text files)
        ("title", pa.string()),
        ("date", pa.string()),
        # Probability that the file belongs to its article (null when alone), and for a
        # file left alone, why (its best candidate and that pair's probability).
        ("article_score", pa.float32()),
        ("alone_reason", pa.string()),
        # For a second file of a language its article already holds (a variant), that
        # article's id: its pairs carry that id; null for every other file.
        ("variant_of", pa.string()),
    ]
)


def bead_schema(langs: Sequence[str]) -> pa.Schema:
    """Schema of a pair config (two languages) or of the multiway config (all languages)."""
    return pa.schema(
        [
            ("translation", pa.struct([(lang, pa.string()) for lang in langs])),
            ("score", pa.float32()),
            ("article_id", pa.string()),
            ("align_type", pa.string()),
            ("sentence_ids", pa.struct([(lang, pa.list_(pa.int32())) for lang in langs])),
            # Source URL of each side (what Bicleaner and OPUS tools expect), null if unknown.
            ("url", pa.struct([(lang, pa.string()) for lang in langs])),
        ]
    )


def bead_table(
    langs: Sequence[str],
    texts: dict[str, list[str | None]],
    sentence_ids: dict[str, list[list[int] | None]],
    scores: list[float],
    article_id: str,
    align_types: list[str],
    urls: dict[str, str | None],
) -> pa.Table:
    """Rows of one article in ``bead_schema(langs)``, built column by column.

    Builds keep these columnar tables rather than Python rows until they are written:
    a pair row as nested dicts costs about 1.7 KB, several times its text.
    """
    schema = bead_schema(langs)

    def struct(values: dict[str, list], field: str) -> pa.StructArray:
        kind = schema.field(field).type
        arrays = [pa.array(values[lang], kind.field(lang).type) for lang in langs]
        return pa.StructArray.from_arrays(arrays, fields=list(kind))

    n = len(scores)
    columns = [
        struct(texts, "translation"),
        pa.array(scores, pa.float32()),
        pa.array([article_id] * n, pa.string()),
        pa.array(align_types, pa.string()),
        struct(sentence_ids, "sentence_ids"),
        struct({lang: [urls.get(lang)] * n for lang in langs}, "url"),
    ]
    return pa.Table.from_arrays(columns, schema=schema)


# -- the files table of the per-file stages (corpus.graph.FILE_STAGES) --------------------

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
