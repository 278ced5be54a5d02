"""The Ray Data engine: the same stages as ``embedded`` as Ray Data operators, on a local
Ray instance or an existing cluster (``--ray-address auto`` or HOST:PORT).

Files go through ``graph.FILE_STAGES`` in order: a stage without setup as tasks (Ray fuses
them into one), a stage with a setup (the embed stage's model) in one actor per GPU, or one
actor when there is no GPU (two CPU actors on a 2-core machine starve the other tasks).
Blocks are the driver's file batches (``batch_size=None``) and order is preserved, so every
batch sees exactly the stage calls it sees in the embedded engine and the output is the same.
Alignment is ``groupby("article_id").map_groups`` of ``graph.ARTICLE_STAGE``; its input is
written as Parquet into the work folder, which must be visible to every worker (on a
cluster: a shared file system).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import ray

from corpus.engines import cpu_count
from corpus.graph import ARTICLE_STAGE, FILE_STAGES, FileSettings
from corpus.options import BuildOptions

ARTICLES_PER_PART = 64  # articles per Parquet file of the alignment input
# Each block is one batch of the driver: the stage calls are those of the embedded engine.
ONE_BLOCK = {"batch_size": None, "batch_format": "pyarrow"}


class RayEngine:
    """Runs the stages on Ray Data. ``address``: None starts a local Ray with this
    machine's cores (stopped again at the end); "auto" or HOST:PORT joins a cluster."""

    name = "ray"

    def __init__(
        self, options: BuildOptions, timed: Callable[[str], AbstractContextManager[None]]
    ) -> None:
        self.address, self.progress, self.timed = options.ray_address, options.progress, timed
        self._started = False

    def __enter__(self) -> RayEngine:
        if not ray.is_initialized():
            with self.timed("start ray"):
                ray.init(
                    address=self.address,
                    num_cpus=cpu_count() if self.address is None else None,
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                )
            self._started = True
        context = ray.data.DataContext.get_current()
        # Ray Data reports every operator's progress as log lines when stderr is no terminal.
        logging.getLogger("ray.data").setLevel(logging.INFO if self.progress else logging.ERROR)
        context.execution_options.preserve_order = True  # deterministic output
        context.enable_progress_bars = self.progress
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            ray.shutdown()

    def files(self, batches: list[list[str]], settings: FileSettings) -> Iterator[pa.Table]:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        if not gpus:  # a CPU actor takes one slot but may use every core of its node for torch
            settings = replace(settings, options=replace(settings.options, threads=cpu_count()))
        with warnings.catch_warnings():
            # max_restarts has no named parameter yet (Ray 2.60), only the deprecated kwargs.
            warnings.filterwarnings("ignore", "`ray_remote_args` is deprecated")
            dataset = _files_dataset(batches, settings, gpus)
        with self.timed("read to embed (ray)"):
            yield from dataset.iter_batches(**ONE_BLOCK)

    def beads(
        self, articles: Iterator[pa.Table], n_articles: int, work: Path
    ) -> Iterator[pa.Table]:
        folder = work / "align-input"
        folder.mkdir(parents=True, exist_ok=True)
        n_parts, part = 0, []
        for table in articles:
            part.append(table)
            if len(part) == ARTICLES_PER_PART:
                pq.write_table(pa.concat_tables(part), folder / f"part-{n_parts:05d}.parquet")
                n_parts, part = n_parts + 1, []
        if part:
            pq.write_table(pa.concat_tables(part), folder / f"part-{n_parts:05d}.parquet")
            n_parts += 1
        if not n_parts:
            return
        cpus = int(ray.cluster_resources().get("CPU", 1))
        dataset = (
            ray.data.read_parquet(str(folder))
            .groupby("article_id", num_partitions=max(1, min(n_parts, cpus)))
            .map_groups(ARTICLE_STAGE.load(), batch_format="pyarrow")
        )
        with self.timed("align (ray)"):
            yield from dataset.iter_batches(**ONE_BLOCK)


def _files_dataset(batches: list[list[str]], settings: FileSettings, gpus: int) -> ray.data.Dataset:
    """``graph.FILE_STAGES`` as operators, one block per batch of files: a stage without
    setup as tasks, one with a setup (the model) in an actor per GPU (one CPU actor
    without GPU)."""
    # Half a CPU each: resources unlike the actor's, so Ray does not fuse the file tasks
    # into it (they run beside it, two at a time on a 2-core machine).
    tasks = {"num_cpus": 0.5, **ONE_BLOCK}
    actor = {
        "compute": ray.data.ActorPoolStrategy(size=max(1, gpus)),
        "num_cpus": 0 if gpus else 1,
        "num_gpus": 1 if gpus else 0,
        # No restarts: a restarted actor could not get its constructor arguments back
        # (Ray issue 53727); a failed model actor fails the build with its error.
        "max_restarts": 0,
        **ONE_BLOCK,
    }
    dataset = ray.data.from_arrow([pa.table({"file": pa.array(b, pa.string())}) for b in batches])
    for stage in FILE_STAGES:
        arguments = stage.arguments(settings)
        if stage.setup:
            dataset = dataset.map_batches(stage.load(), fn_constructor_kwargs=arguments, **actor)
        else:
            dataset = dataset.map_batches(stage.load(), fn_kwargs=arguments, **tasks)
    return dataset
