"""The Arrow tables the build writes and its stages exchange: schemas and builders.

Rows stay columnar from the stage that makes them to the file that holds them: a pair row
as nested Python dicts costs about 1.7 KB, several times its text.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

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
