"""End to end: the CLI on the bundled sample, read back with pyarrow, pandas, DuckDB, datasets."""

import codecs
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpus.alignment.evaluation import read_beads
from corpus.cli import app
from tests.conftest import ROOT, SAMPLE

runner = CliRunner()
PAIRS = ["ar-hi", "ar-sv", "hi-sv"]


def config(out, name):
    (shard,) = (out / "data" / name).glob("train-00000-of-00001-*.parquet")
    return pq.read_table(shard)


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


def small_pair(root: Path, paragraphs: int = 3) -> Path:
    """The first paragraphs of the sample's Arabic and Swedish renderings of one article."""
    root.mkdir(parents=True, exist_ok=True)
    for key, name in (("000", "ar.txt"), ("003", "sv.txt")):
        lines = [x for x in next(SAMPLE.glob(f"{key}_*")).read_text().splitlines() if x.strip()]
        (root / name).write_text("\n\n".join(lines[:paragraphs]) + "\n", encoding="utf-8")
    return root


def parquet_data(out: Path) -> dict[str, list[dict]]:
    """Every Parquet file under ``out`` (relative path -> rows), hidden folders included."""
    return {
        p.relative_to(out).as_posix(): pq.read_table(p).to_pylist() for p in out.rglob("*.parquet")
    }


def start_build(src: Path, out: Path, pause: str | None = None) -> subprocess.Popen:
    """A real ``corpus build`` process; with ``pause`` it stops there until killed."""
    env = {**os.environ, "CORPUS_PAUSE_AT": f"{pause}:300" if pause else ""}
    return subprocess.Popen(
        [sys.executable, "-m", "corpus", "build", str(src), "--out", str(out), "--quiet"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_pause(proc: subprocess.Popen, point: str) -> None:
    for line in proc.stderr:
        if f"paused at {point}" in line:
            return
    raise AssertionError(f"build exited ({proc.wait()}) before reaching {point}")


@pytest.mark.slow
def test_sigkill_at_any_stage_keeps_the_previous_build(tmp_path):
    src, out = small_pair(tmp_path / "in"), tmp_path / "out"
    assert start_build(src, out).wait() == 0
    previous = parquet_data(out)
    assert next(rows for name, rows in previous.items() if name.startswith("data/ar-sv/"))
    # Before embedding, before the swap with everything written, and just after the swap.
    for point in ("read", "embed", "written", "swapped"):
        proc = start_build(src, out, pause=point)
        wait_for_pause(proc, point)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert parquet_data(out) == previous, point  # intact, no half-written file inside
        assert (tmp_path / ".out.lock").read_text().strip() == str(proc.pid)
    # The next build takes over the dead build's lock, clears its leftovers and completes,
    # with exactly the same data (builds are deterministic).
    result = runner.invoke(app, ["build", str(src), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "removed stale lock" in result.output
    assert parquet_data(out) == previous
    # Nothing left behind but the embedding cache, which lives beside the output by design.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "in", "out"]


def test_second_build_into_the_same_folder_is_refused(tmp_path):
    src, out = small_pair(tmp_path / "in"), tmp_path / "out"
    first = start_build(src, out, pause="read")
    try:
        wait_for_pause(first, "read")
        result = runner.invoke(app, ["build", str(src), "--out", str(out), "--quiet"])
        assert result.exit_code == 1
        assert f"another build (pid {first.pid}) is writing this folder" in result.output
        assert "Traceback" not in result.output
    finally:
        first.kill()
        first.wait()
    assert not out.exists()


@pytest.mark.slow
def test_two_builds_of_the_sample_are_identical(sample_build, tmp_path):
    out = tmp_path / "again"
    result = runner.invoke(app, ["build", str(SAMPLE), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    first, second = parquet_data(sample_build), parquet_data(out)
    assert sorted(first) == sorted(second) and len(first) == 6
    assert first == second  # row order and values


def write_bad_inputs(src: Path) -> None:
    """Next to a good pair: every kind of file an uncleaned news folder holds."""
    sv = (src / "sv.txt").read_text()
    ar = (src / "ar.txt").read_text()
    (src / "empty.txt").write_bytes(b"")
    (src / "blank.txt").write_text(" \n\t\n  ")
    (src / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (src / "scan.pdf").write_bytes(b"%PDF-1.7\n" + sv.encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sv.txt", sv)
    (src / "bundle.zip").write_bytes(buffer.getvalue())
    (src / "sv-utf16le.txt").write_bytes(codecs.BOM_UTF16_LE + sv.encode("utf-16-le"))
    (src / "ar-utf16be.txt").write_bytes(codecs.BOM_UTF16_BE + ar.encode("utf-16-be"))
    (src / "ar-cp1256.txt").write_bytes(ar.encode("cp1256"))
    (src / "sv-latin1.txt").write_bytes(sv.encode("latin-1"))
    # The same article under another name, lightly edited (one word changed).
    (src / "z-sv-edited.txt").write_text(sv.replace("Kina", "Folkrepubliken Kina", 1))
    (src / "loop").symlink_to("loop")
    (src / "sub").mkdir()
    (src / "sub" / "up").symlink_to("..")


@pytest.mark.slow
def test_bad_inputs_are_skipped_with_reasons_and_the_build_goes_on(tmp_path):
    src, out = small_pair(tmp_path / "in"), tmp_path / "out"
    write_bad_inputs(src)
    # A file mixing two languages paragraph by paragraph (parts of the sample not in the pair).
    ar_rest = [x for x in next(SAMPLE.glob("001_*")).read_text().splitlines() if x.strip()]
    sv_rest = [x for x in next(SAMPLE.glob("003_*")).read_text().splitlines() if x.strip()]
    mixed = [p for pair in zip(ar_rest[6:8], sv_rest[8:10], strict=True) for p in pair]
    (src / "mixed.txt").write_text("\n\n".join(mixed))
    # 50 MB: read (under the 64 MiB limit), then skipped for its sentence count before embedding.
    with (src / "huge.txt").open("w") as huge:
        for _ in range(50 * 2**20 // len(sv_rest[10])):
            huge.write(sv_rest[10] + "\n")
    result = runner.invoke(app, ["build", str(src), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    expected = {
        "empty.txt": "empty file",
        "blank.txt": "whitespace-only file",
        "image.png": "binary file (PNG image)",
        "scan.pdf": "binary file (PDF document)",
        "bundle.zip": "binary file (ZIP archive)",
        "sv-utf16le.txt": "exact duplicate of sv-latin1.txt",
        "ar-utf16be.txt": "exact duplicate of ar-cp1256.txt",
        "ar.txt": "exact duplicate of ar-cp1256.txt",
        "sv.txt": "exact duplicate of sv-latin1.txt",
        "z-sv-edited.txt": "near duplicate of sv-latin1.txt",
        "loop": "symlink loop",
        "sub/up": "symlinked folder not followed",
        "huge.txt": "too many sentences",
    }
    for name, reason in expected.items():
        assert any(x.startswith(f"skipped {name}: {reason}") for x in lines), name
    assert any(
        x.startswith("warning: mixed.txt: paragraphs in more than one language") for x in lines
    )
    assert "warning: ar-cp1256.txt: decoded as cp1256 (no BOM, not UTF-8)" in lines
    assert "warning: sv-latin1.txt: decoded as latin-1 (no BOM, not UTF-8)" in lines
    # Every skipped file and warning is in the dataset card too.
    card = (out / "README.md").read_text()
    assert all(f"`{name}`" in card for name in expected)
    assert "mixed.txt: paragraphs in more than one language" in card
    articles = pq.read_table(out / "articles.parquet").to_pylist()
    # The mixed file is read as one document per language, each of that language only.
    assert sorted(a["path"] for a in articles) == [
        "ar-cp1256.txt",
        "mixed.txt#ar",
        "mixed.txt#sv",
        "sv-latin1.txt",
    ]
    parts = {a["path"]: a for a in articles if a["path"].startswith("mixed.txt")}
    assert {p: (a["lang"], a["lang_mixed"]) for p, a in parts.items()} == {
        "mixed.txt#ar": ("ar", True),
        "mixed.txt#sv": ("sv", True),
    }
    assert config(out, "ar-sv").num_rows >= 5


def test_an_unknown_precision_is_one_line_before_any_work(tmp_path):
    src = small_pair(tmp_path / "in")
    for args in (
        ["build", str(src), "--out", str(tmp_path / "out")],
        ["align", str(src / "ar.txt"), str(src / "sv.txt")],
    ):
        result = runner.invoke(app, [*args, "--precision", "fp8"])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: --precision fp8: unknown (one of auto")
        assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


@pytest.mark.slow
def test_quiet_prints_skipped_inputs_but_no_summary_table(tmp_path):
    src = small_pair(tmp_path / "in")
    (src / "empty.txt").write_text("")
    result = runner.invoke(app, ["build", str(src), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["skipped empty.txt: empty file"]


def test_unwritable_output_is_one_clear_error_before_any_work(tmp_path):
    src = small_pair(tmp_path / "in")
    (tmp_path / "file").write_text("not a folder")
    result = runner.invoke(app, ["build", str(src), "--out", str(tmp_path / "file" / "out")])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "cannot write output" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "in"]


def test_card_statistics_plots_and_filters(sample_build):
    card = (sample_build / "README.md").read_text()
    assert "## Statistics" in card and "| pair | pairs | score p10 | p50 | p90 |" in card
    for png in ["scores.png", "align_types.png", "lengths.png"]:
        assert f"]({png})" in card
        assert (sample_build / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        svg = png.replace(".png", ".svg")
        assert f"]({svg})" in card
        assert ET.parse(sample_build / svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    # The sample's source/comment footers are removed as boilerplate and counted in the card.
    assert "ar-sv rows removed: boilerplate: 2" in card
    texts = {
        t for row in config(sample_build, "ar-sv").to_pylist() for t in row["translation"].values()
    }
    assert not any(t.startswith(("Källa", "Kommentar")) for t in texts)


def test_show_prints_pairs_side_by_side(sample_build):
    result = runner.invoke(app, ["show", str(sample_build), "--pair", "hi-sv", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert "hi-sv (3 rows shown)" in result.output and "score" in result.output
    result = runner.invoke(app, ["show", str(sample_build), "--pair", "ar-sv", "--min-score", "1"])
    assert result.exit_code == 0 and "(0 rows shown)" in result.output
    result = runner.invoke(app, ["show", str(sample_build), "--pair", "de-sv"])
    assert (
        result.exit_code == 2 and "no pair de-sv (available: ar-hi, ar-sv, hi-sv)" in result.output
    )


def test_export_command(sample_build, tmp_path):
    to = tmp_path / "ar-sv.tmx"
    result = runner.invoke(
        app, ["export", str(sample_build), "--format", "tmx", "--pair", "ar-sv", "--to", str(to)]
    )
    assert result.exit_code == 0, result.output
    assert to.read_text().count("<tu>") == config(sample_build, "ar-sv").num_rows


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


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("input itself", 2, "is the input folder"),
        ("parent of input", 2, "contains the input folder"),
        ("inside input", 2, "is inside the input folder"),
        ("regular file", 2, "exists and is not a folder"),
        ("foreign folder", 2, "holds thesis.tex, which corpus build did not write"),
        ("name too long", 1, "cannot write output (File name too long)"),
        ("under a file", 1, "cannot write output"),
    ],
)
def test_output_problems_are_refused_before_any_work(tmp_path, monkeypatch, case, code, message):
    project = tmp_path / "project"
    src = small_pair(project / "articles")
    (project / "thesis.tex").write_text("years of work")
    (tmp_path / "notes").write_text("a file")
    out = {
        "input itself": src,
        "parent of input": project,
        "inside input": src / "corpus",
        "regular file": tmp_path / "notes",
        "foreign folder": project,
        "name too long": tmp_path / ("x" * 248),  # the lock name fits, the staging one not
        "under a file": tmp_path / "notes" / "out",
    }[case]
    if case == "foreign folder":
        src = small_pair(tmp_path / "elsewhere")

    def no_work(*args, **kwargs):
        raise AssertionError("the build started reading before refusing its --out")

    monkeypatch.setattr("corpus.pipeline.list_inputs", no_work)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = runner.invoke(app, ["build", str(src), "--out", str(out), "--force", "--quiet"])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert result.output.startswith("error: ") and len(result.output.strip().splitlines()) == 1
    assert "--force" not in result.output.replace(str(out), "")  # it would not help
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not [p for p in tmp_path.rglob(".*") if p.name != ".corpus-build"]  # no lock left


CASES = Path(__file__).parent / "cases"


def markdown_tables(card: str) -> list[list[str]]:
    """The Markdown tables of a card, as lists of rows."""
    tables, current = [], []
    for line in [*card.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_datasets_sees_every_rebuild_and_empty_pairs(tmp_path):
    datasets = pytest.importorskip("datasets")
    src, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(CASES / "empty-pair", src)

    def rebuild(*options):
        result = runner.invoke(app, ["build", str(src), "--out", str(out), "-q", *options])
        assert result.exit_code == 0, result.output
        card = (out / "README.md").read_text()
        assert not re.search(r"\bnan\b", card, re.IGNORECASE)
        for table in markdown_tables(card):  # every row has the header's number of cells
            assert len({row.count("|") for row in table}) == 1, table
        return card

    def rows():
        ds = datasets.load_dataset(str(out), "en-sv", split="train")
        return sorted(r["translation"]["en"] for r in ds)

    rebuild()
    assert rows() == sorted((src / "a_en.txt").read_text().splitlines())
    # The same folder rebuilt with other content: `datasets`, in the same process, sees it.
    for name, last in (
        ("a_en.txt", "The vote was unanimous."),
        ("b_sv.txt", "Beslutet var enhälligt."),
    ):
        lines = (src / name).read_text().splitlines()
        (src / name).write_text("\n".join([*lines[:2], last]) + "\n")
    rebuild()
    assert rows() == sorted((src / "a_en.txt").read_text().splitlines())
    # Every row filtered out: the pair is not declared to `datasets`, and reads as 0 rows.
    card = rebuild("--min-score", "0.99")
    assert "| en-sv | 0 (not declared" in card and "| en-sv | 0 | - | - | - |" in card
    with pytest.raises(ValueError, match="BuilderConfig 'en-sv' not found"):
        rows()
    assert pq.read_table(out / "data" / "en-sv").num_rows == 0
    rebuild()
    assert len(rows()) == len((src / "a_en.txt").read_text().splitlines())


def test_control_characters_are_removed_and_the_tmx_is_well_formed(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(CASES / "control-chars"), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "warning: a_en.txt: removed 2 characters that are not text" in result.output
    texts = pq.read_table(out / "sentences.parquet").column("text").to_pylist()
    assert not any(re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", t) for t in texts)
    assert "Guided tours start at noon every day." in texts
    card = (out / "README.md").read_text()
    assert "removed at read time: 4 in 2 files" in card
    to = tmp_path / "x.tmx"
    args = ["export", str(out), "--pair", "en-sv", "--format", "tmx", "--to", str(to)]
    assert runner.invoke(app, args).exit_code == 0
    units = ET.parse(to).getroot().findall("body/tu")
    assert len(units) == 3
    assert units[2].find("tuv/seg").text == "Guided tours start at noon every day."


def test_show_prints_markup_in_text_literally(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(CASES / "markup-in-text"), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["show", str(out), "--pair", "de-en"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "(see lakeview.example/plans[/url])." in result.output
    assert "plans[/url])." in result.output.split("(siehe")[1]


def two_articles(root: Path) -> Path:
    """Two articles in Arabic, Hindi and Swedish: the first and the next paragraphs of the
    sample's three renderings of one article."""
    root.mkdir(parents=True, exist_ok=True)
    for key, lang in (("000", "ar"), ("004", "hi"), ("003", "sv")):
        lines = [x for x in next(SAMPLE.glob(f"{key}_*")).read_text().splitlines() if x.strip()]
        for part, paragraphs in (("1", lines[:4]), ("2", lines[4:9])):
            (root / f"{lang}{part}.txt").write_text("\n\n".join(paragraphs) + "\n")
    return root


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# A real build through the CLI, with parallel alignment from two articles on (one worker per
# article instead of per 8): what Ctrl-C during alignment of a large corpus meets.
PARALLEL_BUILD = (
    "import corpus.engines.embedded as e; e.MIN_ARTICLES_PER_WORKER = 1; "
    "from corpus.cli import app; app(prog_name='corpus')"
)


@pytest.mark.slow
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="parallel alignment needs 2 cores")
def test_sigint_and_sigterm_at_any_stage_end_cleanly(tmp_path):
    src, out = two_articles(tmp_path / "in"), tmp_path / "out"
    assert start_build(src, out).wait() == 0
    previous = parquet_data(out)
    assert len([name for name in previous if name.startswith("data/")]) == 4
    assert len(pq.read_table(out / "articles.parquet").column("article_id").unique()) == 2
    points = [
        ("read", signal.SIGINT), ("embed", signal.SIGTERM), ("group", signal.SIGINT),
        ("aligning", signal.SIGINT), ("aligning", signal.SIGTERM), ("written", signal.SIGINT),
        ("swapped", signal.SIGTERM),
    ]  # fmt: skip
    for point, signum in points:
        env = {**os.environ, "CORPUS_PAUSE_AT": f"{point}:300"}
        # --no-cache: alignments are not taken from the cache, so the worker pool runs.
        build = ["build", str(src), "--out", str(out), "-q", "--no-cache"]
        command = [sys.executable, "-c", PARALLEL_BUILD, *build]
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            # A shell's background job (`pytest &`) starts with SIGINT ignored, and so would
            # the build; Ctrl-C in a terminal finds it at its default.
            preexec_fn=_default_sigint,
        )
        wait_for_pause(proc, point)
        workers = children(proc.pid)
        if point == "aligning":
            spawned = [
                w for w in workers if b"spawn_main" in Path(f"/proc/{w}/cmdline").read_bytes()
            ]
            assert spawned, "alignment did not run in worker processes"
        # Ctrl-C signals the whole process group; `kill` signals the build alone.
        if signum == signal.SIGINT:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"build hung after {signum.name} at {point}") from None
        message = proc.stderr.read()
        assert code == 128 + signum, (point, message)
        assert message == f"error: interrupted ({signum.name}); nothing was half-written\n"
        for _ in range(50):  # worker processes end with the build
            if not any(alive(pid) for pid in workers):
                break
            time.sleep(0.1)
        assert not any(alive(pid) for pid in workers), point
        assert parquet_data(out) == previous, point  # intact, no half-written file inside
        assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "in", "out"], point


def test_version_and_usage_errors_list_the_choices(sample_build, tmp_path):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and re.fullmatch(r"corpus \d+\.\d+\.\d+\S*\n", result.output)
    export = ["export", str(sample_build), "--to", str(tmp_path / "x")]
    result = runner.invoke(app, [*export, "--pair", "ar-sv", "--format", "csv"])
    assert result.exit_code == 2
    assert all(f"'{name}'" in result.output for name in ("tmx", "moses", "jsonl"))
    result = runner.invoke(app, [*export, "--pair", "de-sv"])
    assert result.exit_code == 2
    assert (
        result.output == f"error: {sample_build}: no pair de-sv (available: {', '.join(PAIRS)})\n"
    )
    assert list(tmp_path.iterdir()) == []
    result = runner.invoke(app, ["align", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "beads: [src]:[tgt]:score" in result.output


def test_card_metadata_round_trips_through_huggingface_hub(sample_build):
    from huggingface_hub import DatasetCard

    data = DatasetCard.load(sample_build / "README.md").data
    assert data.task_categories == ["translation"] and data.license == "unknown"
    langs = pq.read_table(sample_build / "articles.parquet").column("lang").to_pylist()
    assert data.size_categories == ["n<1K"]
    configs = {c["config_name"]: c["data_files"][0] for c in data.configs}
    assert sorted(configs) == ["ar-hi", "ar-sv", "hi-sv", "multiway"]
    # Only the languages of declared configs (issue 23): not fa, whose one file is alone.
    in_configs = {lang for name in configs if name != "multiway" for lang in name.split("-")}
    assert data.language == sorted(in_configs) == ["ar", "hi", "sv"]
    assert set(data.language) < set(langs)
    for name, files in configs.items():
        assert files["split"] == "train"
        assert all((sample_build / path).is_file() for path in files["path"]), name


@pytest.mark.slow
def test_license_and_source_reach_the_card(sample_build, tmp_path):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    out, cache = tmp_path / "out", sample_build.parent / ".cache"
    source = "Nyheter från Sverige, https://example.org/news"
    args = ["build", str(SAMPLE), "--out", str(out), "-q", "--cache-dir", str(cache)]
    result = runner.invoke(app, [*args, "--license", "cc-by-4.0", "--source", source])
    assert result.exit_code == 0, result.output
    card = DatasetCard.load(out / "README.md")
    assert card.data.license == "cc-by-4.0"
    assert f"- Source: {source}\n" in card.text
    assert parquet_data(out) == parquet_data(sample_build)  # the data do not change
    rows = load_dataset(str(out), "ar-sv", split="train", cache_dir=str(tmp_path / "hf"))
    assert rows.num_rows == pq.read_table(out / "data" / "ar-sv").num_rows


def test_datasets_loads_each_pair_config_with_a_translation_feature(sample_build, tmp_path):
    from datasets import Features, Translation, load_dataset

    from corpus.tables import bead_schema

    for name in PAIRS:
        rows = load_dataset(str(sample_build), name, split="train", cache_dir=str(tmp_path))
        langs = name.split("-")
        assert rows.features["translation"] == Translation(languages=langs), name
        others = Features.from_arrow_schema(bead_schema(langs))
        del others["translation"]
        assert {k: v for k, v in rows.features.items() if k != "translation"} == others
        assert rows[0]["translation"].keys() == set(langs)


def test_size_categories_follow_the_hub_buckets():
    from corpus.outputs.card import size_category

    assert [size_category(n) for n in (0, 999, 1000, 54_321, 2_000_000_000)] == [
        "n<1K", "n<1K", "1K<n<10K", "10K<n<100K", "n>1B"
    ]  # fmt: skip
