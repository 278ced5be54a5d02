"""Figures for the dataset card: PNGs beside OUT/README.md, numbers only (no script text)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _lengths(table: pa.Table, lang: str) -> np.ndarray:
    return pc.utf8_length(table.column("translation").combine_chunks().field(lang)).to_numpy()


def _grid(n: int) -> tuple[plt.Figure, np.ndarray]:
    fig, axes = plt.subplots(1, n, figsize=(4 * n, 3.4), squeeze=False, constrained_layout=True)
    return fig, axes[0]


def write_plots(tables: dict[str, pa.Table], folder: Path) -> dict[str, str]:
    """Write the card's figures for the pair configs in ``tables``; returns {title: file name}."""
    names = sorted(tables)
    figures = {}

    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names, strict=True):
        scores = tables[name].column("score").to_numpy()
        ax.hist(scores, bins=np.linspace(0, 1, 21), color="#4472c4", edgecolor="white")
        ax.set(title=f"{name} (n={len(scores)})", xlabel="score", ylabel="pairs", xlim=(0, 1))
        if len(scores):  # a pair whose rows were all filtered out has no median
            ax.axvline(float(np.median(scores)), color="black", ls="--", lw=1, label="median")
            ax.legend(loc="upper left", frameon=False)
    figures["Score histogram per language pair"] = "scores.png"
    fig.savefig(folder / "scores.png", dpi=120)

    fig, ax = plt.subplots(figsize=(4 + 1.2 * len(names), 3.4), constrained_layout=True)
    types = sorted({t for n in names for t in tables[n].column("align_type").to_pylist()})
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        column = tables[name].column("align_type").to_pylist()
        shares = [100 * column.count(t) / max(len(column), 1) for t in types]
        ax.bar(np.arange(len(types)) + k * width, shares, width, label=name)
    ax.set_xticks(np.arange(len(types)) + 0.4 - width / 2, types)
    ax.set(title="Alignment types", xlabel="sentences per side", ylabel="% of pairs")
    ax.legend(frameon=False)
    figures["Alignment-type distribution"] = "align_types.png"
    fig.savefig(folder / "align_types.png", dpi=120)

    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names, strict=True):
        la, lb = name.split("-")
        table = tables[name]
        x, y = _lengths(table, la), _lengths(table, lb)
        points = ax.scatter(
            x, y, c=table.column("score").to_numpy(), cmap="viridis", vmin=0, vmax=1, s=14
        )
        top = max(int(x.max(initial=1)), int(y.max(initial=1)))
        ax.plot([0, top], [0, top], color="grey", lw=0.8, ls=":")
        ax.set(title=name, xlabel=f"{la} characters", ylabel=f"{lb} characters")
    fig.colorbar(points, ax=axes[-1], label="score")
    figures["Sentence length (characters) per side, coloured by score"] = "lengths.png"
    fig.savefig(folder / "lengths.png", dpi=120)
    plt.close("all")
    return figures
