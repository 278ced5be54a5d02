"""The embedded engine (the default): the per-file stages in this process, a batch of files
at a time, and alignment on every core in worker processes. Needs nothing beyond the package."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from corpus.engines import cpu_count
from corpus.graph import ARTICLE_STAGE, FILE_STAGES, FileSettings
from corpus.interrupts import pause_point
from corpus.options import BuildOptions

# Below this many articles, starting worker processes costs more than it saves.
MIN_ARTICLES_PER_WORKER = 8

Item = TypeVar("Item")
Result = TypeVar("Result")


class EmbeddedEngine:
    """Runs each stage as a function call here; ``timed(stage)`` measures each stage."""

    name = "embedded"

    def __init__(
        self, options: BuildOptions, timed: Callable[[str], AbstractContextManager[None]]
    ) -> None:
        self.timed = timed

    def __enter__(self) -> EmbeddedEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def files(self, batches: list[list[str]], settings: FileSettings) -> Iterator[pa.Table]:
        with self.timed("load model"):  # a stage with a setup (the encoder) is set up once
            calls = [(stage.name, stage.bind(settings)) for stage in FILE_STAGES]
        for names in batches:
            table = pa.table({"file": pa.array(names, pa.string())})
            for name, call in calls:
                with self.timed(name):
                    table = call(table)
            yield table

    def beads(
        self, articles: Iterator[pa.Table], n_articles: int, work: Path
    ) -> Iterator[pa.Table]:
        yield from map_ordered(ARTICLE_STAGE.load(), articles, n_articles)


def map_ordered(
    function: Callable[[Item], Result], items: Iterable[Item], n_items: int
) -> Iterator[Result]:
    """``map(function, items)`` in order, on every core when there are enough items.

    The aligner is single-threaded numpy, so one worker per core keeps the machine busy;
    results come back in input order, so builds stay deterministic. Workers ignore SIGINT
    and SIGTERM (Ctrl-C signals the whole process group): the parent alone handles an
    interruption, and stops them without waiting (`_stop_pool`).
    """
    workers = min(cpu_count(), n_items // MIN_ARTICLES_PER_WORKER)
    if workers <= 1:
        yield from map(function, items)
        return
    # spawn: the parent holds OpenMP threads of the encoder, which fork does not copy safely.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_ignore_interruptions)
    try:
        for k, result in enumerate(pool.map(function, items, chunksize=4)):
            if k == 0:
                pause_point("aligning")  # pool running: the interruption tests signal here
            yield result
    except BaseException:  # an interruption, an error, or the consumer closing this generator
        _stop_pool(pool)
        raise
    pool.shutdown()


def _ignore_interruptions() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and kill the workers now, not after their current articles.

    ``_processes`` is the only way to the workers before Python 3.14's ``kill_workers``.
    """
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()
