"""Tests for corpus.tables: the schemas of the written tables and their builders."""

import pyarrow as pa

from corpus.tables import bead_schema, bead_table


def test_bead_schema_is_the_translation_layout():
    schema = bead_schema(["ar", "sv"])
    assert schema.field("translation").type == pa.struct([("ar", pa.string()), ("sv", pa.string())])
    assert schema.field("sentence_ids").type == pa.struct(
        [("ar", pa.list_(pa.int32())), ("sv", pa.list_(pa.int32()))]
    )
    assert schema.field("score").type == pa.float32()


def test_bead_table_matches_the_schema_with_nulls_for_absent_languages():
    table = bead_table(
        ["ar", "hi", "sv"],
        texts={"ar": ["مرحبا", None], "hi": ["नमस्ते", "दो वाक्य।"], "sv": [None, "Två."]},
        sentence_ids={"ar": [[0], None], "hi": [[5], [6, 7]], "sv": [None, [9]]},
        scores=[0.5, 0.25],
        article_id="a7",
        align_types=["1-1-0", "0-2-1"],
        urls={"ar": "https://example.com/ar/1", "hi": None},
    )
    assert table.schema.equals(bead_schema(["ar", "hi", "sv"]))
    assert table.to_pylist() == [
        {
            "translation": {"ar": "مرحبا", "hi": "नमस्ते", "sv": None},
            "score": 0.5,
            "article_id": "a7",
            "align_type": "1-1-0",
            "sentence_ids": {"ar": [0], "hi": [5], "sv": None},
            "url": {"ar": "https://example.com/ar/1", "hi": None, "sv": None},
        },
        {
            "translation": {"ar": None, "hi": "दो वाक्य।", "sv": "Två."},
            "score": 0.25,
            "article_id": "a7",
            "align_type": "0-2-1",
            "sentence_ids": {"ar": None, "hi": [6, 7], "sv": [9]},
            "url": {"ar": "https://example.com/ar/1", "hi": None, "sv": None},
        },
    ]
