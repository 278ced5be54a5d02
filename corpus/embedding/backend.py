"""What the encoder and every backend share: the ``Backend`` protocol, text as a model sees
it, unit vectors, batches by token budget, and model folders on disk (a path or the local
Hugging Face cache, never the network).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from corpus.errors import UsageError

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
