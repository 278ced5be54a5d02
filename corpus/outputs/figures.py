"""Figures for the dataset card, fit for a paper's appendix: each as SVG (vector) and as PNG at
300 dpi, beside OUT/README.md. Numbers only, no script text, so every language renders.

Per-pair figures are grids of small panels (at most four a row) that stay readable for any
number of language pairs (7 languages give 21 pairs: 6 rows of 4); alignment types are one
heatmap, pairs against types, so no colour cycle ever repeats.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.ticker import MaxNLocator

DPI = 300
COLUMNS = 4  # panels per row
PANEL = (3.0, 2.3)  # inches per panel: legible at print size with 8-point labels
BAR = "#4472c4"
MEDIAN = "#c00000"
RATIO_RANGE = 3.0  # log2 length ratios shown: 1/8 to 8 times as long

plt.rcParams.update(
    {"font.size": 8, "axes.titlesize": 9, "svg.fonttype": "none", "figure.dpi": DPI}
)


def _lengths(table: pa.Table, lang: str) -> np.ndarray:
    return table.column("chars").combine_chunks().field(lang).to_numpy()


def _panels(n: int) -> tuple[plt.Figure, list[plt.Axes]]:
    """A grid of ``n`` panels, ``COLUMNS`` a row; unused cells are hidden."""
    cols = max(1, min(n, COLUMNS))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(
        rows, cols, figsize=(PANEL[0] * cols, PANEL[1] * rows), squeeze=False, layout="constrained"
    )
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _mark_median(ax: plt.Axes, values: np.ndarray, fmt: str) -> None:
    """A red line at the median, its value written in the headroom above the bars, on the
    side of the panel away from the line (so neither bars nor the frame cover it)."""
    if not len(values):
        return
    median = float(np.median(values))
    ax.axvline(median, color=MEDIAN, lw=1.2)
    ax.set_ylim(top=ax.get_ylim()[1] * 1.25)
    low, high = ax.get_xlim()
    right = median < (low + high) / 2
    ax.text(
        0.97 if right else 0.03,
        0.96,
        f"median {median:{fmt}}",
        transform=ax.transAxes,
        ha="right" if right else "left",
        va="top",
        color=MEDIAN,
        fontsize=7,
    )


def _save(fig: plt.Figure, folder: Path, stem: str) -> None:
    fig.savefig(folder / f"{stem}.png", dpi=DPI)
    fig.savefig(folder / f"{stem}.svg")
    plt.close(fig)


def plot_columns(table: pa.Table, langs: Sequence[str]) -> pa.Table:
    """What the figures and the card's statistics read of a pair config (``bead_schema``
    rows): ``score``, ``align_type`` and ``chars``, each side's length in characters (a
    struct with a field per language), without the texts, so a build keeps them for every
    config while it holds the rows of one."""
    translation = table.column("translation").combine_chunks()
    chars = [pc.utf8_length(translation.field(lang)) for lang in langs]
    return pa.table(
        {
            "score": table.column("score"),
            "align_type": table.column("align_type"),
            "chars": pa.StructArray.from_arrays(chars, names=list(langs)),
        }
    )


# The card's figures: file stem and title.
FIGURES = (
    ("scores", "Score histogram per language pair (red: median)"),
    ("align_types", "Alignment-type distribution (% of rows per pair)"),
    ("lengths", "Length agreement: log2 character-length ratio per pair (red: median)"),
)


def write_plots(
    tables: dict[str, pa.Table], folder: Path, cache: Path | None = None
) -> dict[str, str]:
    """Write the card's figures for the pair configs in ``tables`` (name -> its
    ``plot_columns``) into ``folder``: ``scores``, ``align_types`` and ``lengths``, each
    ``.png`` (300 dpi) and ``.svg``. Returns {title: PNG file name}; the SVG has the same
    stem.

    With ``cache`` (the build's cache folder), figures drawn from the same columns by the
    same code and matplotlib are copied from ``cache/figures/<key>/`` instead of drawn
    again (drawing them is most of an unchanged rebuild's time)."""
    names = sorted(tables)
    if not names:
        return {}
    stored = None if cache is None else cache / "figures" / _figures_key(tables)
    files = [f"{stem}.{ext}" for stem, _ in FIGURES for ext in ("png", "svg")]
    if stored is not None and all((stored / name).is_file() for name in files):
        for name in files:
            shutil.copyfile(stored / name, folder / name)
    else:
        _draw(tables, names, folder)
        if stored is not None:
            _keep(folder, files, stored)
    return {title: f"{stem}.png" for stem, title in FIGURES}


def _figures_key(tables: dict[str, pa.Table]) -> str:
    """sha256 of what the figures show and how they are drawn."""
    digest = hashlib.sha256(Path(__file__).read_bytes() + matplotlib.__version__.encode())
    for name in sorted(tables):
        sink = pa.BufferOutputStream()
        table = tables[name].combine_chunks()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        digest.update(name.encode() + b"\0" + sink.getvalue().to_pybytes())
    return digest.hexdigest()[:32]


def _keep(folder: Path, files: list[str], stored: Path) -> None:
    """Copy the figures into the cache, whole or not at all (a folder renamed into place).
    A cache that cannot be written only costs the next build a drawing: the figures are in
    the output already."""
    staging = None
    try:
        stored.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=stored.parent))
        for name in files:
            shutil.copyfile(folder / name, staging / name)
        staging.rename(stored)
    except OSError:  # no space, read-only, or a concurrent build renamed its copy first
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _draw(tables: dict[str, pa.Table], names: list[str], folder: Path) -> None:

    fig, axes = _panels(len(names))
    for ax, name in zip(axes, names, strict=True):
        scores = tables[name].column("score").to_numpy()
        ax.hist(scores, bins=np.linspace(0, 1, 21), color=BAR, edgecolor="white", lw=0.5)
        ax.set(title=f"{name} (n={len(scores):,})", xlabel="score", ylabel="pairs", xlim=(0, 1))
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        _mark_median(ax, scores, ".2f")
    _save(fig, folder, "scores")

    types = sorted(
        {t for n in names for t in tables[n].column("align_type").to_pylist()},
        key=lambda t: (sum(map(int, t.split("-"))), t),
    ) or ["1-1"]  # no rows at all: an empty (0%) column rather than a degenerate image
    shares = np.zeros((len(names), len(types)))
    for row, name in enumerate(names):
        column = tables[name].column("align_type").to_pylist()
        for col, kind in enumerate(types):
            shares[row, col] = 100 * column.count(kind) / max(len(column), 1)
    fig, ax = plt.subplots(
        figsize=(1.6 + 0.55 * len(types), 0.9 + 0.28 * len(names)), layout="constrained"
    )
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for (row, col), share in np.ndenumerate(shares):
        if share >= 0.5:
            colour = "white" if share > 60 else "black"
            ax.text(col, row, f"{share:.0f}", ha="center", va="center", fontsize=6, color=colour)
    ax.set_xticks(range(len(types)), types)
    ax.set_yticks(range(len(names)), names)
    ax.set(title="Alignment types (% of each pair's rows)", xlabel="sentences per side")
    fig.colorbar(image, ax=ax, label="% of pairs", shrink=0.8)
    _save(fig, folder, "align_types")

    # Length agreement: the log ratio of character counts, one density per pair. Its centre
    # differs by script (Chinese is far shorter than English), so no diagonal is drawn;
    # suspect pairs are the tails, far from the pair's own median. First over second, as the
    # card states the length-ratio bounds (filters.learn_length_ratio).
    fig, axes = _panels(len(names))
    for ax, name in zip(axes, names, strict=True):
        la, lb = name.split("-")
        a, b = _lengths(tables[name], la), _lengths(tables[name], lb)
        ratio = np.log2(np.maximum(a, 1) / np.maximum(b, 1))
        # Ratios beyond 8x either way are counted in the outermost bins, not dropped.
        shown = np.clip(ratio, -RATIO_RANGE, RATIO_RANGE)
        ax.hist(shown, bins=np.linspace(-RATIO_RANGE, RATIO_RANGE, 49), color=BAR, ec="white")
        ax.set(title=name, xlabel=f"log2({la} chars / {lb} chars)", ylabel="pairs")
        ax.set_xlim(-RATIO_RANGE, RATIO_RANGE)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        _mark_median(ax, ratio, "+.2f")
    _save(fig, folder, "lengths")
