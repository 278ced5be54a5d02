"""Tests for corpus.spill: embedded files on disk, read back one at a time."""

import numpy as np
import pyarrow as pa
import pytest

from corpus.spill import FileFacts, FileSpill, SpilledFiles
from corpus.tables import embeddings_type

SENTENCE = pa.struct([("text", pa.string()), ("start", pa.int32()), ("end", pa.int32())])


def files_table(texts: list[str], dim: int = 4) -> pa.Table:
    """One file per text, each sentence one word, embeddings numbered by file."""
    sentences, vectors = [], []
    for k, text in enumerate(texts):
        words, start = [], 0
        for word in text.split():
            start = text.index(word, start)
            words.append({"text": word, "start": start, "end": start + len(word)})
            start += len(word)
        sentences.append(words)
        vectors.append([[float(k)] * dim for _ in words])
    return pa.table(
        {
            "path": [f"{k}.txt" for k in range(len(texts))],
            "text": texts,
            "sentences": pa.array(sentences, pa.list_(SENTENCE)),
            "embeddings": pa.array(vectors, embeddings_type(dim)),
            "other": [0] * len(texts),  # columns the spill does not keep
        }
    )


def facts(path: str, lang: str, n: int) -> FileFacts:
    return FileFacts(path, path, lang, 1.0, False, n, None, None, None, (), 0)


def test_files_come_back_one_at_a_time_in_append_order(tmp_path):
    spill = FileSpill(tmp_path / "files.arrow", read_cache=1)
    assert spill.append(files_table(["a b", "c d e"])) == 0
    assert spill.append(files_table(["f"])) == 2
    spill.close_writing()
    assert len(spill) == 3
    text, sentences, embeddings = spill.file(1)
    assert text == "c d e" and sentences == [("c", 0, 1), ("d", 2, 3), ("e", 4, 5)]
    assert embeddings.dtype == np.float32 and embeddings.tolist() == [[1.0] * 4] * 3
    assert spill.file(2)[2].tolist() == [[0.0] * 4]  # numbered within its own batch
    spill.close()


def test_grouping_sees_the_kept_files_by_their_own_index(tmp_path):
    spill = FileSpill(tmp_path / "files.arrow")
    spill.append(files_table(["the first one", "dropped", "the third file here"]))
    spill.close_writing()
    view = SpilledFiles(spill, [facts("0.txt", "en", 3), facts("2.txt", "sv", 4)], [0, 2])
    assert len(view) == 2 and [f.lang for f in view] == ["en", "sv"]
    third = view[1]
    assert third.name == "2.txt" and third.sentences == ("the", "third", "file", "here")
    assert third.lengths.tolist() == [3, 5, 4, 4] and third.embeddings.shape == (4, 4)
    assert view.read(1).span_text((1, 2)) == "third file"
    with pytest.raises(IndexError):
        view[2]
    spill.close()
