"""The encoder stage on a GPU: does the build's encoder pick CUDA, how fast is it, and do its
embeddings agree with float32 on the CPU?

    python scripts/bench_gpu.py [--sentences 20000] [--json output/bench/gpu.json]

Texts: the lines of ``samples/news`` (five languages), repeated with a numbered prefix up
to ``--sentences`` distinct strings, so nothing comes from a cache. The CPU reference runs in
a subprocess that cannot see the GPU (``CUDA_VISIBLE_DEVICES=``), float32, on the first 512.
Needs torch with CUDA; without a GPU it says so and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from harness import write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REFERENCE = 512  # texts embedded on both devices


def texts(n: int) -> list[str]:
    lines = [
        line.strip()
        for path in sorted((ROOT / "samples" / "news").iterdir())
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [f"{k // len(lines)}. {lines[k % len(lines)]}" for k in range(n)]


def cpu_reference(path: Path) -> None:
    """Worker: float32 embeddings of the first REFERENCE texts on the CPU, saved to ``path``."""
    from corpus.embedding.encoder import load_encoder

    encoder = load_encoder(None, "float32")
    np.save(path, encoder.encode(texts(REFERENCE)))
    print(encoder.version)


def main() -> None:
    if sys.argv[1:2] == ["--cpu-reference"]:
        cpu_reference(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20_000)
    parser.add_argument("--json", type=Path, default=ROOT / "output" / "bench" / "gpu.json")
    args = parser.parse_args()
    import torch

    from corpus.embedding.backend import GPU_TOKEN_BUDGET, TOKEN_BUDGET
    from corpus.embedding.encoder import load_encoder

    if not torch.cuda.is_available():
        sys.exit("no CUDA device: nothing to measure")
    start = time.perf_counter()
    encoder = load_encoder()  # precision "auto": bfloat16 on a GPU
    load_s = time.perf_counter() - start
    data = texts(args.sentences)
    encoder.encode(data[:2048])  # warm-up: kernels, allocator
    speed = {}
    for budget in (TOKEN_BUDGET, GPU_TOKEN_BUDGET):  # the CPU's batches, then the GPU's
        encoder.backend.token_budget = budget
        torch.cuda.synchronize()
        start = time.perf_counter()
        gpu = encoder.encode(data)
        torch.cuda.synchronize()
        speed[budget] = round(len(data) / (time.perf_counter() - start), 1)
    reference = Path("/tmp/cpu-reference.npy")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, __file__, "--cpu-reference", str(reference)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    cpu = np.load(reference)
    cosines = np.sum(cpu * gpu[:REFERENCE], axis=1)
    report = {
        "device": torch.cuda.get_device_name(0),
        "encoder": encoder.version,
        "cpu_reference": done.stdout.strip(),
        "load_s": round(load_s, 2),
        "sentences": len(data),
        "sentences_per_s_by_token_budget": speed,
        "padding_share": round(encoder.n_padding / max(1, encoder.n_tokens), 4),
        "cosine_to_cpu_float32": {
            "min": round(float(cosines.min()), 5),
            "mean": round(float(cosines.mean()), 5),
        },
    }
    write_json(args.json, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
