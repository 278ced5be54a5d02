"""Input formats: HTML pages, WARC crawls, JSON-lines and Parquet dumps."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from corpus.inputs.extraction import (
    FieldNames,
    container_records,
    detect_format,
    html_record,
    language_code,
)
from corpus.inputs.reading import read_inputs
from corpus.outputs.exports import export
from tests.conftest import BENCHMARKS, ROOT

CASES = ROOT / "tests" / "cases"


def news_page(lang: str, title: str, paragraphs: list[str], url: str, alternates: dict) -> str:
    """An HTML news page with the clutter real sites have around the article."""
    links = "".join(
        f'<link rel="alternate" hreflang="{code}" href="{href}">'
        for code, href in alternates.items()
    )
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="canonical" href="{url}">{links}'
        "<script>var tracker = {id: 'UA-1', consent: document.cookie};</script></head><body>"
        '<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>'
        '<div class="cookie-banner">We use cookies to improve your experience. '
        "<button>Accept all cookies</button></div>"
        f'<article><h1>{title}</h1><p class="byline">Staff reporter</p>{body}</article>'
        "<footer>Copyright 2025 The Daily Example. All rights reserved.</footer></body></html>"
    )


def write_warc(path: Path, pages: list[tuple[str, str]]) -> None:
    """A gzipped WARC of (url, html) responses, plus an image and a 404 a crawl also holds."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)

        def response(url: str, status: str, kind: str, payload: bytes) -> None:
            headers = StatusAndHeaders(status, [("Content-Type", kind)], protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(payload), http_headers=headers
                )
            )

        response("https://news.example/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n")
        for url, html in pages:
            response(url, "200 OK", "text/html; charset=utf-8", html.encode())
        response("https://news.example/gone", "404 Not Found", "text/html", b"<html></html>")


def test_formats_are_told_by_content_before_name():
    assert detect_format("a.txt", b"<!DOCTYPE html><html>") == "html"
    assert detect_format("a.txt", b"\xef\xbb\xbf  <html lang='fr'>") == "html"
    assert detect_format("page.htm", b"Plain words") == "html"
    assert detect_format("crawl.bin", b"WARC/1.1\r\nWARC-Type: warcinfo") == "warc"
    assert detect_format("crawl.warc.gz", b"\x1f\x8b\x08") == "warc"
    assert detect_format("dump.jsonl.gz", b"\x1f\x8b\x08") == "jsonl"
    assert detect_format("dump", b"PAR1\x15\x04") == "parquet"
    assert detect_format("notes.txt", b"Plain words about <html> tags") == "text"


@pytest.mark.parametrize(
    ("tag", "code"),
    [("eng", "en"), ("en-US", "en"), ("pt_BR", "pt"), ("nob", "nb"), ("zh-TW", "zh")],
)
def test_declared_language_tags_become_language_codes(tag, code):
    assert language_code(tag) == code


@pytest.mark.parametrize("tag", ["English", "", "xx-bogus", "12"])
def test_unknown_language_tags_are_not_languages(tag):
    assert language_code(tag) is None


def test_html_case_keeps_the_article_and_drops_markup_and_clutter():
    data = (CASES / "html" / "lakeview-fr.html").read_bytes()
    record = html_record("", data)
    assert record.title == "Lakeview approuve une nouvelle bibliothèque près de la gare"
    assert record.date == "2025-10-14"
    lines = record.text.splitlines()
    assert lines[0] == record.title  # the headline is part of the article
    assert len(lines) == 6
    for clutter in ("<p>", "&eacute;", "dataLayer", "cookies", "Accueil", "Tous droits", "Par "):
        assert clutter not in record.text
    assert "bibliothèque publique près de la gare centrale" in record.text


def test_html_page_links_are_kept_as_metadata():
    page = news_page(
        "de",
        "Ein Titel",
        ["Der Stadtrat hat am Dienstag einen neuen Haushalt beschlossen, nach langer Debatte."],
        "https://news.example/de/haushalt",
        {"en": "https://news.example/en/budget", "de": "https://news.example/de/haushalt"},
    )
    record = html_record("", page.encode())
    assert record.url == "https://news.example/de/haushalt"
    assert ("en", "https://news.example/en/budget") in record.hreflang
    assert "cookies" not in record.text and "Home" not in record.text


def test_a_page_without_article_text_is_a_problem_not_a_document():
    record = html_record("", b"<html><head><title>Gone</title></head><body> </body></html>")
    assert record.text is None and record.problem


def test_jsonl_records_report_each_bad_line_and_keep_the_rest(tmp_path):
    rows = [
        {"id": "a1", "text": "Första raden.", "lang": "sv", "url": "https://x.se/1"},
        "not json {",
        {"id": "a2", "body": "no text field"},
        {"id": "a3", "text": "Hello.", "language": "Klingonish"},
        [1, 2],
        {"text": "Second document.", "lang": "eng", "date": "2025-01-02"},
    ]
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path = tmp_path / "dump.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    records = list(container_records(path, "jsonl", FieldNames()))
    ok = [(r.key, r.text, r.lang, r.url, r.date) for r in records if r.text is not None]
    assert ok == [
        ("a1", "Första raden.", "sv", "https://x.se/1", None),
        ("line6", "Second document.", "en", None, "2025-01-02"),
    ]
    problems = {r.key: r.problem for r in records if r.text is None}
    assert set(problems) == {"line2", "a2", "a3", "line5"}
    assert "not JSON" in problems["line2"]
    assert "no text in field 'text'" in problems["a2"]
    assert "unknown language tag 'Klingonish'" in problems["a3"]


def test_parquet_dump_rows_are_documents_with_their_fields(tmp_path):
    table = pa.table(
        {
            "doc": ["d1", "d2"],
            "content": ["Ett dokument.", "Another one."],
            "locale": ["sv-SE", "en"],
            "link": ["https://x.se/d1", "https://x.com/d2"],
        }
    )
    path = tmp_path / "dump.parquet"
    pq.write_table(table, path)
    fields = FieldNames(text=("content",), id=("doc",), lang=("locale",), url=("link",))
    records = list(container_records(path, "parquet", fields))
    assert [(r.key, r.text, r.lang, r.url) for r in records] == [
        ("d1", "Ett dokument.", "sv", "https://x.se/d1"),
        ("d2", "Another one.", "en", "https://x.com/d2"),
    ]


def test_warc_html_responses_become_documents_and_errors_are_reported(tmp_path):
    page = news_page(
        "en",
        "Council approves budget",
        [
            "The city council approved next year's budget on Tuesday after a long debate.",
            "Spending on schools rises by four percent, while road repairs wait until 2027.",
            "The opposition voted against, saying taxes would have to rise within two years.",
        ],
        "https://news.example/en/budget",
        {},
    )
    write_warc(tmp_path / "crawl.warc.gz", [("https://news.example/en/budget?ref=home", page)])
    result = read_inputs(tmp_path)
    [doc] = result.documents
    assert doc.path == "crawl.warc.gz#2"  # record 1 is the image, passed over silently
    assert doc.url == "https://news.example/en/budget"  # the page's canonical link
    assert doc.text.splitlines()[0] == "Council approves budget"
    assert len(doc.paragraphs) == 4  # headline and three paragraphs; the byline is dropped
    for clutter in ("cookies", "tracker", "Staff reporter", "Copyright", "World"):
        assert clutter not in doc.text
    assert [(s.path, s.reason) for s in result.skipped] == [("crawl.warc.gz#3", "HTTP status 404")]


def test_a_corrupt_container_is_one_skipped_file(tmp_path):
    (tmp_path / "broken.jsonl.gz").write_bytes(gzip.compress(b'{"text": "a"}\n')[:-6])
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    result = read_inputs(tmp_path)
    assert all(d.path.startswith("broken.jsonl.gz#") for d in result.documents)
    reasons = {s.path: s.reason for s in result.skipped}
    assert "corrupt gzip" in reasons["broken.jsonl.gz"]
    assert "unreadable Parquet" in reasons["broken.parquet"]


NTREX = BENCHMARKS / "ntrex-world"


def ntrex_articles(langs: dict[str, str], n_docs: int) -> list[dict]:
    """The first ``n_docs`` NTREX articles in each language (code -> NTREX file name) as
    dump rows: id, lang, url, title (first line), text (one line per source line)."""
    rows = []
    for code, name in langs.items():
        lines: dict[str, list[str]] = {}
        with (NTREX / f"{name}.tsv").open(encoding="utf-8") as tsv:
            next(tsv)
            for line in tsv:
                doc_id, _, text = line.rstrip("\n").split("\t")
                if doc_id in lines or len(lines) < n_docs:
                    lines.setdefault(doc_id, []).append(text)
        for doc_id, texts in lines.items():
            url = f"https://news.example/{code}/{doc_id}"
            rows.append(
                {
                    "id": f"{code}-{doc_id}",
                    "lang": code,
                    "url": url,
                    "title": texts[0],
                    "text": "\n".join(texts),
                }
            )
    return rows


@pytest.mark.slow
@pytest.mark.skipif(not NTREX.exists(), reason="needs ../shared/benchmarks/ntrex-world")
def test_warc_jsonl_and_parquet_of_the_same_articles_build_the_same_pairs(tmp_path):
    """30 pages (10 NTREX articles in en, de, fr) as a crawl with navigation, cookie banners
    and hreflang links, as a JSON-lines dump and as a Parquet dump: the same pairs, with URLs."""
    from html import escape

    from typer.testing import CliRunner

    from corpus.cli import app

    rows = ntrex_articles({"en": "eng", "de": "deu", "fr": "fra"}, 10)
    doc_ids = {row["id"].split("-", 1)[1] for row in rows}
    pages = []
    for row in rows:
        doc_id = row["id"].split("-", 1)[1]
        alternates = {c: f"https://news.example/{c}/{doc_id}" for c in ("en", "de", "fr")}
        paragraphs = [escape(line) for line in row["text"].split("\n")[1:]]
        pages.append(
            (
                row["url"],
                news_page(row["lang"], escape(row["title"]), paragraphs, row["url"], alternates),
            )
        )
    inputs = {name: tmp_path / name for name in ("warc", "jsonl", "parquet")}
    for folder in inputs.values():
        folder.mkdir()
    write_warc(inputs["warc"] / "crawl.warc.gz", pages)
    (inputs["jsonl"] / "dump.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
    )
    pq.write_table(pa.Table.from_pylist(rows), inputs["parquet"] / "dump.parquet")

    pairs = {}
    for name, folder in inputs.items():
        out = tmp_path / f"out-{name}"
        args = ["build", str(folder), "--out", str(out), "--quiet"]
        result = CliRunner().invoke(app, [*args, "--cache-dir", str(tmp_path / "cache")])
        assert result.exit_code == 0, result.output
        articles = pq.read_table(out / "articles.parquet").to_pylist()
        assert len(articles) == 30 and all(a["url"] for a in articles)
        assert len({a["article_id"] for a in articles}) == len(doc_ids)
        for article in articles:  # every article holds one document's three renderings
            members = [
                a["url"].rsplit("/", 1)[1]
                for a in articles
                if a["article_id"] == article["article_id"]
            ]
            assert len(members) == 3 and len(set(members)) == 1
        rows_by_pair = {}
        for pair in ("de-en", "de-fr", "en-fr"):
            table = pq.read_table(out / "data" / pair).to_pylist()
            assert table and all(r["url"][lang] for r in table for lang in pair.split("-"))
            rows_by_pair[pair] = sorted(
                (
                    r["translation"][pair[:2]],
                    r["translation"][pair[3:]],
                    r["align_type"],
                    r["url"][pair[:2]],
                    round(r["score"], 4),
                )
                for r in table
            )
        pairs[name] = rows_by_pair
    assert pairs["warc"] == pairs["jsonl"] == pairs["parquet"]
    [tsv] = export(tmp_path / "out-warc", "de-en", "bicleaner", tmp_path / "de-en.tsv")
    for line in tsv.read_text(encoding="utf-8").splitlines():
        url_de, url_en = line.split("\t")[:2]
        assert url_de.startswith("https://news.example/de/")
        assert url_en == url_de.replace("/de/", "/en/")


def test_html_case_builds_clean_pairs_with_the_text_files(tmp_path):
    from typer.testing import CliRunner

    from corpus.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", str(CASES / "html"), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    fr = {row["path"]: row for row in pq.read_table(out / "articles.parquet").to_pylist()}
    assert fr["lakeview-fr.html"]["title"].startswith("Lakeview approuve")
    assert fr["lakeview-fr.html"]["date"] == "2025-10-14"
    for pair in ("de-fr", "en-fr"):
        rows = pq.read_table(out / "data" / pair).to_pylist()
        assert len(rows) == 11  # headline and ten sentences, each 1-1
        french = " ".join(row["translation"]["fr"] for row in rows)
        for clutter in ("<", "&", "cookies", "gtag", "Accueil", "Par Marie", "droits"):
            assert clutter not in french


def test_zero_width_joiners_and_direction_marks_survive_extraction():
    # trafilatura drops every non-printable character; ZWNJ is part of Persian spelling.
    paragraphs = [
        "این یک متن فارسی است که می\u200cخواهد نیم\u200cفاصله را نگه دارد و &zwnj;باید درست باشد.",
        "پاراگراف دوم هم به اندازه&#8204;ی کافی بلند است تا استخراج کننده آن را نگه دارد.",
        "עברית \u200f(Member of the Welsh Parliament) וטקסט נוסף שמספיק לחילוץ.",
    ]
    page = news_page("fa", "می\u200cخواهم", paragraphs, "https://x.example/fa", {})
    text = html_record("", page.encode()).text
    assert "می\u200cخواهم" in text
    assert "می\u200cخواهد نیم\u200cفاصله" in text and "\u200cباید" in text
    assert "اندازه\u200cی" in text and "\u200f(Member" in text
    assert "\ua66e" not in text  # no placeholder left behind


def test_a_save_to_disk_dataset_is_read_row_by_row_without_its_metadata(tmp_path):
    import datasets

    rows = [
        {"id": "n1", "text": "The council approved the budget.", "lang": "en"},
        {"id": "n2", "text": "Rådet godkände budgeten.", "lang": "sv"},
    ]
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"), num_shards=2)
    result = read_inputs(tmp_path / "ds")
    assert [(d.path, d.text, d.declared_lang) for d in result.documents] == [
        ("data-00000-of-00002.arrow#n1", "The council approved the budget.", "en"),
        ("data-00001-of-00002.arrow#n2", "Rådet godkände budgeten.", "sv"),
    ]
    assert {s.path for s in result.skipped} == {"dataset_info.json", "state.json"}


def test_a_dataset_name_resolves_to_its_local_hub_snapshot_only(tmp_path, monkeypatch):
    from corpus.inputs.listing import cached_dataset

    repo = tmp_path / "hub" / "datasets--lab--news"
    snapshot = repo / "snapshots" / "0123abcd"
    (snapshot / "data").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    (snapshot / "README.md").write_text("# A dataset card, not an article\n")
    (snapshot / "data" / "train.jsonl").write_text('{"id": "x", "text": "Words.", "lang": "en"}\n')
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert cached_dataset("lab/news") == snapshot
    assert cached_dataset("lab/absent") is None  # never asks the network
    assert cached_dataset("not a name") is None
    result = read_inputs(snapshot, data_files_only=True)
    assert [d.path for d in result.documents] == ["data/train.jsonl#x"]
    assert [s.path for s in result.skipped] == ["README.md"]


def test_truncated_warc_records_are_skipped_as_such(tmp_path):
    body = [
        "The city council approved next year's budget on Tuesday after a long debate.",
        "Spending on schools rises by four percent, while road repairs wait until 2027.",
    ]
    stream = io.BytesIO()
    writer = WARCWriter(stream, gzip=False)
    for n, extra in ((1, {}), (2, {"WARC-Truncated": "length"}), (3, {})):
        url = f"https://news.example/en/{n}"
        html = news_page("en", f"Story {n}", body, url, {}).encode()
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(html),
            http_headers=headers,
            warc_headers_dict=extra,
        )
        writer.write_record(record)
    # The crawl was cut off inside its third record.
    (tmp_path / "crawl.warc").write_bytes(stream.getvalue()[:-300])
    result = read_inputs(tmp_path)
    assert [d.path for d in result.documents] == ["crawl.warc#1"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["crawl.warc#2"] == (
        "truncated record (WARC-Truncated: length): the page is cut off"
    )
    assert reasons["crawl.warc#3"].startswith("truncated record (")
    assert reasons["crawl.warc#3"].endswith("bytes: the file ends inside it)")


def test_a_page_s_date_comes_from_its_metadata_never_its_text():
    caption = "<figure><figcaption>Photo taken 12 March 2019 by staff</figcaption></figure>"
    page = news_page(
        "en",
        "Budget",
        ["The council approved the budget after a long debate."],
        "https://news.example/en/budget",
        {},
    )
    undated = html_record(
        "1",
        page.replace("</article>", caption + "</article>").encode(),
        date="2025-05-01T10:00:00Z",
    )
    assert undated.date == "2025-05-01T10:00:00Z"  # the crawl's, not the caption's 2019
    meta = '<meta property="article:published_time" content="2024-11-02">'
    dated = html_record("1", page.replace("<head>", "<head>" + meta).encode(), date="2025-05-01")
    assert dated.date == "2024-11-02"
