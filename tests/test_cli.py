"""End to end: the CLI on the bundled sample, read back with pyarrow, pandas, DuckDB, datasets."""

import re
import shutil

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.cli import app
from corpus.evaluation import read_beads
from tests.conftest import SAMPLE

runner = CliRunner()
PAIRS = ["ar-hi", "ar-sv", "hi-sv"]


def config(out, name):
    return pq.read_table(out / "data" / name / "train-00000-of-00001.parquet")


def test_layout_and_configs(sample_build):
    assert sorted(p.name for p in (sample_build / "data").iterdir()) == [*PAIRS, "multiway"]
    for name in ["README.md", "articles.parquet", "sentences.parquet"]:
        assert (sample_build / name).is_file()
    card = (sample_build / "README.md").read_text()
    for name in [*PAIRS, "multiway"]:
        assert f"config_name: {name}" in card


def test_articles_grouping_and_languages(sample_build):
    articles = pq.read_table(sample_build / "articles.parquet").to_pylist()
    by_file = {row["path"][:3]: row for row in articles}
    assert {k: r["lang"] for k, r in by_file.items()} == {
        "000": "ar", "001": "ar", "002": "fa", "003": "sv", "004": "hi",
    }  # fmt: skip
    ids = {k: r["article_id"] for k, r in by_file.items()}
    assert ids["000"] is not None and ids["000"] == ids["003"] == ids["004"]
    assert ids["001"] is None and ids["002"] is None
    assert all(len(r["sha256"]) == 64 for r in articles)
    assert by_file["003"]["n_sentences"] == 26


def test_pair_rows_are_translations(sample_build):
    sentences = pq.read_table(sample_build / "sentences.parquet").to_pandas()
    for name in PAIRS:
        la, lb = name.split("-")
        rows = config(sample_build, name).to_pylist()
        assert len(rows) >= 20, name  # the article has 26 sentences per language
        assert set(rows[0]["translation"]) == {la, lb}
        agree = with_digits = 0
        for row in rows:
            a, b = row["translation"][la], row["translation"][lb]
            assert a and b and 0.0 <= row["score"] <= 1.0
            assert (
                row["align_type"]
                == f"{len(row['sentence_ids'][la])}-{len(row['sentence_ids'][lb])}"
            )
            for lang in (la, lb):
                langs = set(sentences.lang.iloc[row["sentence_ids"][lang]])
                assert langs == {lang}
            # Numbers survive translation: the same digit groups on both sides.
            digits_a, digits_b = set(re.findall(r"\d+", a)), set(re.findall(r"\d+", b))
            if digits_a or digits_b:
                with_digits += 1
                agree += digits_a == digits_b
        assert with_digits >= 3 and agree / with_digits >= 0.8, name


def test_sentences_offsets_point_into_the_files(sample_build):
    sentences = pq.read_table(sample_build / "sentences.parquet").to_pylist()
    assert [s["sentence_id"] for s in sentences] == list(range(len(sentences)))
    texts = {p.name: p.read_text(encoding="utf-8") for p in SAMPLE.iterdir()}
    for s in sentences:
        assert texts[s["path"]][s["char_start"] : s["char_end"]] == s["text"]


def test_multiway_triples(sample_build):
    rows = config(sample_build, "multiway").to_pylist()
    full = [r for r in rows if all(r["translation"][lang] for lang in ("ar", "hi", "sv"))]
    assert len(full) >= 15
    assert set(rows[0]["translation"]) == {"ar", "hi", "sv"}


def test_loads_with_pandas_duckdb_and_datasets(sample_build):
    duckdb = pytest.importorskip("duckdb")
    datasets = pytest.importorskip("datasets")
    n = config(sample_build, "ar-sv").num_rows
    pattern = str(sample_build / "data" / "ar-sv" / "*.parquet")
    got = duckdb.sql(f"select count(*), min(translation.sv) is not null from '{pattern}'")
    assert got.fetchall() == [(n, True)]
    ds = datasets.load_dataset(str(sample_build), "ar-sv", split="train")
    assert ds.num_rows == n
    assert set(ds[0]["translation"]) == {"ar", "sv"}


def test_missing_input_is_usage_error():
    result = runner.invoke(app, ["build", "/no/such/folder", "--out", "/tmp/x"])
    assert result.exit_code == 2
    assert "/no/such/folder: no such folder" in result.output
    assert "Traceback" not in result.output


def test_one_language_only_builds_nothing(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(next(SAMPLE.glob("000_*")), src / "a.txt")
    shutil.copy(next(SAMPLE.glob("001_*")), src / "b.txt")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(src), "--out", str(out), "--quiet"])
    assert result.exit_code == 1
    assert "no two files are translations" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


GERMAN = """Der Zug fährt um acht Uhr ab.
Wir haben die Fahrkarten gestern gekauft, weil sie online billiger waren.
Das Museum ist montags geschlossen.
Im Sommer schwimmen die Kinder jeden Tag im See.
Meine Schwester arbeitet seit zehn Jahren als Ärztin in Genf.
"""
FRENCH = """Photo : archives.
Le train part à huit heures.
Nous avons acheté les billets hier.
Ils étaient moins chers en ligne.
Le musée est fermé le lundi.
En été, les enfants nagent tous les jours dans le lac.
Ma sœur travaille depuis dix ans comme médecin à Genève.
"""


@pytest.fixture(scope="module")
def pair_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("align")
    (folder / "a.de").write_text(GERMAN, encoding="utf-8")
    (folder / "a.fr").write_text(FRENCH, encoding="utf-8")
    return folder / "a.de", folder / "a.fr"


def test_align_beads_cover_every_sentence(pair_files, tmp_path):
    out = tmp_path / "a.defr"
    args = ["align", *map(str, pair_files), "--presegmented", "--out", str(out), "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    beads = read_beads(out)
    assert [i for s, _ in beads for i in s] == list(range(5))
    assert [j for _, t in beads for j in t] == list(range(7))
    assert ((0, 1, 2, 3, 4), ()) not in beads
    assert {((0,), (1,)), ((1,), (2, 3)), ((4,), (6,))} <= set(beads)
    for line in out.read_text().splitlines():
        assert 0.0 <= float(line.rsplit(":", 1)[1]) <= 1.0


def test_align_tsv_and_parquet(pair_files, tmp_path):
    result = runner.invoke(
        app, ["align", *map(str, pair_files), "--presegmented", "--format", "tsv", "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert ["Das Museum ist montags geschlossen.", "Le musée est fermé le lundi."] in [
        r[:2] for r in rows
    ]
    out = tmp_path / "a.parquet"
    args = ["align", *map(str, pair_files), "--format", "parquet", "--out", str(out), "-q"]
    assert runner.invoke(app, args).exit_code == 0
    table = pq.read_table(out).to_pylist()
    assert sum(len(r["tgt_ids"]) for r in table) == 7
    assert not list(tmp_path.glob(".*tmp*"))


def test_align_missing_file_is_one_line(pair_files):
    result = runner.invoke(app, ["align", str(pair_files[0]), "/no/such.fr", "--presegmented"])
    assert result.exit_code == 2
    assert result.output.strip() == "error: /no/such.fr: no such file"
