"""The card's figures: vector and 300-dpi raster, a readable grid for many language pairs."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from corpus.outputs.figures import COLUMNS, DPI, PANEL, plot_columns, write_plots


def pair_tables(langs: list[str], rows: int = 40) -> dict[str, pa.Table]:
    rng = np.random.default_rng(0)
    tables = {}
    for la, lb in itertools.combinations(langs, 2):
        a = ["a" * int(n) for n in rng.integers(10, 200, rows)]
        b = ["b" * max(1, len(x) // 3) for x in a]  # a script three times denser
        translation = pa.StructArray.from_arrays([pa.array(a), pa.array(b)], names=[la, lb])
        table = pa.table(
            {
                "translation": translation,
                "score": pa.array(rng.uniform(0, 1, rows), pa.float32()),
                "align_type": pa.array(rng.choice(["1-1", "1-2", "2-1"], rows)),
            }
        )
        tables[f"{la}-{lb}"] = plot_columns(table, [la, lb])
    return tables


def test_seven_languages_give_a_grid_not_a_strip(tmp_path):
    tables = pair_tables(["ar", "de", "en", "fa", "hi", "sv", "zh"])  # 21 pairs
    figures = write_plots(tables, tmp_path)
    assert sorted(figures.values()) == ["align_types.png", "lengths.png", "scores.png"]
    for stem in ("scores", "lengths"):
        with Image.open(tmp_path / f"{stem}.png") as image:
            size, dpi = image.size, image.info["dpi"]
        rows = -(-21 // COLUMNS)
        assert size == (round(PANEL[0] * COLUMNS * DPI), round(PANEL[1] * rows * DPI))
        assert round(dpi[0]) == DPI
        root = ET.parse(tmp_path / f"{stem}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        svg = (tmp_path / f"{stem}.svg").read_text()
        assert svg.count("median ") == 21  # every panel names its median, as text
    heatmap = (tmp_path / "align_types.svg").read_text()
    assert all(name in heatmap for name in tables)  # one row per pair, labelled


def test_a_pair_without_rows_still_plots(tmp_path):
    tables = pair_tables(["en", "sv"])
    tables["en-sv"] = tables["en-sv"].slice(0, 0)
    assert len(write_plots(tables, tmp_path)) == 3
    assert write_plots({}, tmp_path / "none") == {}


def test_figures_of_unchanged_columns_are_copied_from_the_cache(tmp_path, monkeypatch):
    from corpus.outputs import figures as plots

    tables = pair_tables(["ar", "sv"])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_plots(tables, tmp_path / "a", tmp_path / "cache")

    def no_drawing(*args):
        raise AssertionError("drawn again")

    monkeypatch.setattr(plots, "_draw", no_drawing)
    assert write_plots(tables, tmp_path / "b", tmp_path / "cache") == first
    for name in ("scores.png", "scores.svg", "lengths.png", "align_types.svg"):
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    with pytest.raises(AssertionError, match="drawn again"):  # other rows: drawn
        write_plots(pair_tables(["ar", "sv"], rows=41), tmp_path / "b", tmp_path / "cache")


def test_the_length_figure_reads_first_over_second_like_the_card(tmp_path):
    tables = pair_tables(["en", "zh"])  # the en side three times as long as the zh side
    write_plots(tables, tmp_path)
    svg = (tmp_path / "lengths.svg").read_text()
    assert "log2(en chars / zh chars)" in svg
    assert "median +1." in svg  # log2(3) = 1.58: en/zh above 1, as the card's bounds are
