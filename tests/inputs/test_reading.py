"""Tests for corpus.inputs: listing, reading and decoding the input folder; every fixture
is written into tmp_path."""

from __future__ import annotations

import codecs
import errno
import gzip
import hashlib
import io
import os
import random
import threading
import unicodedata
import zipfile
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from corpus.errors import InputError
from corpus.inputs import decoding
from corpus.inputs.decoding import decode_bytes
from corpus.inputs.listing import list_inputs
from corpus.inputs.reading import MAX_BYTES, read_document, read_file, read_inputs
from corpus.records import Document, Skipped

ARABIC = "عقد الاجتماع في القاهرة يوم الأحد وناقش الوزراء التعاون الاقتصادي."
# Persian in cp1256 spells yeh with the Arabic letter: the code page has no U+06CC.
PERSIAN = "دبير حزب استان با رئيس دولت منطقه گفتگو کردند و پيام چين را خواندند."
SWEDISH = "Mötet i Göteborg började kl. 14 och pågick länge."
RUSSIAN = "Встреча в Москве началась в два часа и продолжалась долго."
GREEK = "Συνάντηση στην Αθήνα ξεκίνησε στις δύο και κράτησε πολύ."


def write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def problem(data: bytes) -> str:
    with pytest.raises(InputError) as caught:
        decode_bytes(data, "x.txt")
    assert caught.value.path == "x.txt"
    return caught.value.problem


# decode_bytes


def test_plain_utf8_is_kept_as_is() -> None:
    expected = ("Hej då, värld!\n", "utf-8", 0, None)
    assert decode_bytes("Hej då, värld!\n".encode(), "a.txt") == expected


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    ],
)
def test_bom_selects_the_codec_and_is_removed(bom: bytes, codec: str, expected: str) -> None:
    text = f"{SWEDISH}\n{ARABIC}\n"
    assert decode_bytes(bom + text.encode(codec), "a.txt") == (text, expected, 0, None)


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (ARABIC, "cp1256", "cp1256"),
        (PERSIAN, "cp1256", "cp1256"),
        (SWEDISH, "latin-1", "latin-1"),
        ("Hon köpte en iPhone i Malmö.", "latin-1", "latin-1"),  # ASCII words never count as odd
        ("Ett kafé nära tåget, sa hon.", "cp1252", "latin-1"),  # same bytes in both
        ("Han sa “hej” och gick…", "cp1252", "cp1252"),  # only cp1252 has “ ” and …
        (RUSSIAN, "cp1251", "cp1251"),
        (GREEK, "iso8859-7", "iso8859-7"),
    ],
)
def test_legacy_encoding_is_recognised(text: str, codec: str, expected: str) -> None:
    assert decode_bytes(text.encode(codec), "a.txt") == (text, expected, 0, None)


def test_one_cp1252_dash_in_a_long_text_rules_out_latin1() -> None:
    text = f"{SWEDISH} " * 20 + "Slut \u2013 nu."  # the dash, 0x96, is a C1 control in latin-1
    assert decode_bytes(text.encode("cp1252"), "a.txt") == (text, "cp1252", 0, None)


@pytest.mark.parametrize(
    ("text", "codec", "misread_as"),
    [
        ("Встреча в", "cp1251", "latin-1"),  # only the mess ratio objects
        ("från den", "latin-1", "cp1256"),  # å becomes an Arabic letter mid-word
        ("Göteborg", "latin-1", "cp1256"),  # ö becomes an Arabic vowel mark mid-word
        ("El niño", "latin-1", "cp1251"),  # ñ becomes a Cyrillic letter mid-word
        ("στις δύο και κράτησε πολύ.", "iso8859-7", "cp1251"),  # ά becomes a capital mid-word
    ],
)
def test_mojibake_is_not_taken_for_prose(text: str, codec: str, misread_as: str) -> None:
    assert decoding._reads_as_prose(text)
    assert not decoding._reads_as_prose(text.encode(codec).decode(misread_as))


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(0x80, 0x100)),
        bytes(random.Random(0).choices(range(0x80, 0x100), k=300)),
        bytes(random.Random(1).choices(range(0x20, 0x100), k=300)),  # printable noise
        "Привет мир".encode("cp1251"),  # reads as clean Greek too, and is too short to tell
    ],
)
def test_implausible_or_ambiguous_legacy_bytes_are_undecodable(data: bytes) -> None:
    assert problem(data) == "undecodable: not UTF-8 and no confident legacy encoding"


def test_invalid_text_after_a_bom_is_undecodable() -> None:
    reason = problem(codecs.BOM_UTF8 + b"ok \xff\xfe")
    assert reason == "undecodable: invalid utf-8-sig after its BOM"


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("article.txt", SWEDISH)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (PNG image)"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", "binary file (PDF document)"),
        (_zip_bytes(), "binary file (ZIP archive)"),
        (gzip.compress(SWEDISH.encode()), "binary file (gzip archive)"),
        (b"\xff\xd8\xff\xe0 JFIF", "binary file (JPEG image)"),
        (b"plain words\x00and a NUL", "binary file (contains NUL bytes)"),
        ("no BOM".encode("utf-16-le"), "binary file (contains NUL bytes)"),
    ],
)
def test_binary_data_is_refused(data: bytes, reason: str) -> None:
    assert problem(data) == reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (codecs.BOM_UTF8, "empty file"),
        (b" \n\t\r\n  ", "whitespace-only file"),
        ("\u00a0\u3000\n".encode(), "whitespace-only file"),
    ],
)
def test_empty_and_blank_files_are_refused(data: bytes, reason: str) -> None:
    assert problem(data) == reason


def test_newlines_are_unified_and_text_is_nfc() -> None:
    text, _, _, _ = decode_bytes("cafe\u0301\r\nrad två\rslut\n".encode(), "a.txt")
    assert text == "caf\u00e9\nrad två\nslut\n"


def test_characters_that_are_not_text_are_removed_and_counted() -> None:
    raw = (
        "Tours\a start\b at noon.\tNow\u0085here\x0bthere\x0cend \ufffe\ufdd0\U0010ffff\x7f\x9b.\n"
    )
    text, encoding, removed, _ = decode_bytes(raw.encode(), "a.txt")
    assert text == "Tours start at noon.\tNow\nhere\nthere\nend .\n"
    assert (encoding, removed) == ("utf-8", 7)
    # UTF-16 may carry NUL characters; a code-page file may carry C0 debris.
    assert decode_bytes(codecs.BOM_UTF16_LE + "a\x00b".encode("utf-16-le"), "b.txt")[::2] == (
        "ab",
        1,
    )
    french = (
        "Le café noir et le thé vert sont servis au « petit déjeuner » chaque matin. "
        "Cest \u201cbon\u201d."
    )
    debris = french.replace("matin.", "matin.\x07")
    assert decode_bytes(debris.encode("cp1252"), "c.txt") == (french, "cp1252", 1, None)
    with pytest.raises(InputError, match="no text, only control characters"):
        decode_bytes(b"\x07\x08", "d.txt")


def test_removed_characters_are_reported_per_file(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", b"Guided tours\a start at noon.\n")
    write(tmp_path, "b.txt", b"Clean text.\n")
    result = read_inputs(tmp_path)
    assert [d.n_not_text for d in result.documents] == [1, 0]
    assert "\a" not in result.documents[0].text
    assert result.warnings == [
        "a.txt: removed 1 characters that are not text (control characters or non-characters)"
    ]


# read_document


def test_read_document_fields_and_paragraph_spans(tmp_path: Path) -> None:
    raw = "  Rubrik \r\n\r\n\tFörsta stycket.  \n   \nAndra stycket.".encode("utf-16")
    document = read_document(write(tmp_path, "sv/nyhet.txt", raw), tmp_path)
    assert document.path == "sv/nyhet.txt"
    assert document.encoding == "utf-16"
    assert document.sha256 == hashlib.sha256(raw).hexdigest()
    assert document.text == "  Rubrik \n\n\tFörsta stycket.  \n   \nAndra stycket."
    assert document.paragraphs == ((2, 8), (12, 27), (34, 48))


@pytest.mark.parametrize(
    "text",
    [
        f"{ARABIC}\n\n  {SWEDISH}  \n\t\n{RUSSIAN}\n",
        "\n\n one \u00a0\n\u3000two\u3000\nthree",
        "single line without newline",
    ],
)
def test_paragraph_spans_round_trip_to_stripped_lines(tmp_path: Path, text: str) -> None:
    document = read_document(write(tmp_path, "a.txt", text), tmp_path)
    stripped = [line.strip() for line in document.text.split("\n") if line.strip()]
    assert [document.text[start:end] for start, end in document.paragraphs] == stripped


def test_read_document_errors_name_the_relative_path(tmp_path: Path) -> None:
    path = write(tmp_path, "deep/er/logo.png", b"\x89PNG\r\n\x1a\n\x00")
    with pytest.raises(InputError, match=r"^deep/er/logo\.png: binary file \(PNG image\)$"):
        read_document(path, tmp_path)


# read_inputs


def test_reads_nested_folders_sorted_and_lists_hidden_ones_unread(tmp_path: Path) -> None:
    write(tmp_path, "b.txt", "B")
    write(tmp_path, "a/z.txt", "AZ")
    write(tmp_path, "a/b/c.txt", "ABC")
    write(tmp_path, "a.txt", "A")
    write(tmp_path, ".hidden.txt", "hidden")
    write(tmp_path, ".git/config.txt", "hidden folder")
    write(tmp_path, "a/.cache/x.txt", "nested hidden folder")
    result = read_inputs(tmp_path)
    assert [d.path for d in result.documents] == ["a.txt", "a/b/c.txt", "a/z.txt", "b.txt"]
    assert [d.text for d in result.documents] == ["A", "ABC", "AZ", "B"]
    assert result.skipped == [
        Skipped(".git", "hidden folder, not read"),
        Skipped(".hidden.txt", "hidden file, not read"),
        Skipped("a/.cache", "hidden folder, not read"),
    ]
    assert result.warnings == []


def test_unlistable_folder_is_skipped_and_the_rest_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.txt", "A")
    write(tmp_path, "locked/b.txt", "B")
    write(tmp_path, "z/c.txt", "C")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = read_inputs(tmp_path)
    assert [d.path for d in result.documents] == ["a.txt", "z/c.txt"]
    assert result.skipped == [Skipped("locked", "folder not read (permission denied)")]


def test_a_path_longer_than_the_system_allows_skips_that_path_only(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "A")
    # Nested folders whose whole path exceeds PATH_MAX (4096 on Linux), made relative to a
    # folder descriptor since no call can take the path whole.
    name = "d" * 200
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        for _ in range(22):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with os.fdopen(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as f:
            f.write("deep")
    finally:
        os.close(fd)
    result = read_inputs(tmp_path)
    assert [d.path for d in result.documents] == ["a.txt"]
    [skip] = result.skipped
    assert skip.path.startswith(f"{name}/{name}/") and skip.path.count("/") < 22
    assert skip.reason in (
        "folder not read (path too long for this system)",
        "path too long for this system",
    )


def test_mixed_folder_reports_every_skip_and_legacy_warning(tmp_path: Path) -> None:
    write(tmp_path, "ar/1.txt", ARABIC.encode("cp1256"))
    write(tmp_path, "sv/1.txt", SWEDISH.encode("latin-1"))
    write(tmp_path, "sv/2.txt", codecs.BOM_UTF16_BE + "Hej".encode("utf-16-be"))
    write(tmp_path, "img.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    write(tmp_path, "empty.txt", b"")
    write(tmp_path, "blank.txt", b"\n  \n")
    result = read_inputs(tmp_path)
    assert [(d.path, d.encoding) for d in result.documents] == [
        ("ar/1.txt", "cp1256"),
        ("sv/1.txt", "latin-1"),
        ("sv/2.txt", "utf-16"),
    ]
    assert [d.text for d in result.documents] == [ARABIC, SWEDISH, "Hej"]
    assert result.skipped == [
        Skipped("blank.txt", "whitespace-only file"),
        Skipped("empty.txt", "empty file"),
        Skipped("img.png", "binary file (PNG image)"),
    ]
    assert result.warnings == [
        "ar/1.txt: decoded as cp1256 (no BOM, not UTF-8)",
        "sv/1.txt: decoded as latin-1 (no BOM, not UTF-8)",
    ]


def test_duplicates_of_the_same_text_keep_the_first_path(tmp_path: Path) -> None:
    write(tmp_path, "b.txt", f"{SWEDISH}\n")
    write(tmp_path, "a/copy.txt", f"{SWEDISH}\r\n".encode("utf-16"))  # same text once decoded
    write(tmp_path, "c.txt", unicodedata.normalize("NFD", f"{SWEDISH}\n"))  # same once NFC
    write(tmp_path, "d.txt", f"{SWEDISH} \n")  # differs by a space: not a duplicate
    result = read_inputs(tmp_path)
    assert [d.path for d in result.documents] == ["a/copy.txt", "d.txt"]
    assert result.skipped == [
        Skipped("b.txt", "exact duplicate of a/copy.txt"),
        Skipped("c.txt", "exact duplicate of a/copy.txt"),
    ]


def test_symlinked_files_are_read_and_broken_or_looping_links_skipped(tmp_path: Path) -> None:
    write(tmp_path, "real/a.txt", "Artikel")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real/a.txt")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "missing.txt")
    (tmp_path / "self").symlink_to(tmp_path / "self")
    (tmp_path / "real/loop").symlink_to(tmp_path)  # a folder cycle that following would never end
    result = read_inputs(tmp_path)
    assert [d.path for d in result.documents] == ["link.txt"]  # real/a.txt is its duplicate
    assert result.skipped == [
        Skipped("broken.txt", "broken symlink"),
        Skipped("real/a.txt", "exact duplicate of link.txt"),
        Skipped("real/loop", "symlinked folder not followed"),
        Skipped("self", "symlink loop"),
    ]


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    path = write(tmp_path, "secret.txt", "hemligt")
    path.chmod(0)
    try:
        result = read_inputs(tmp_path)
    finally:
        path.chmod(0o644)
    assert result.skipped == [Skipped("secret.txt", "permission denied")]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
        (OSError(errno.EIO, "Input/output error"), "unreadable (Input/output error)"),
    ],
)
def test_os_errors_become_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, reason: str
) -> None:
    write(tmp_path, "ok.txt", "fine")
    write(tmp_path, "bad.txt", "fails")
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.name == "bad.txt":
            raise error
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = read_inputs(tmp_path)
    assert [d.path for d in result.documents] == ["ok.txt"]
    assert result.skipped == [Skipped("bad.txt", reason)]


def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    # Should the reader open the FIFO anyway, this writer releases it: the test fails, not hangs.
    release = threading.Timer(2, lambda: os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)))
    release.start()
    try:
        skipped = read_inputs(tmp_path).skipped
    finally:
        release.cancel()
    assert skipped == [Skipped("pipe.txt", "not a regular file")]


def test_too_large_file_is_skipped_unread(tmp_path: Path) -> None:
    with (tmp_path / "huge.txt").open("wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: costs no disk and is never read
    assert read_inputs(tmp_path).skipped == [Skipped("huge.txt", "too large (65 MB > 64 MB)")]


def test_file_name_that_is_not_utf8_is_skipped(tmp_path: Path) -> None:
    try:
        fd = os.open(os.fsencode(tmp_path) + b"/bad\xff.txt", os.O_CREAT | os.O_WRONLY)
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    os.write(fd, b"text")
    os.close(fd)
    result = read_inputs(tmp_path)
    assert result.documents == []
    assert result.skipped == [Skipped("bad\ufffd.txt", "file name is not valid UTF-8")]


def test_missing_or_non_folder_root_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_inputs(tmp_path / "nope")
    with pytest.raises(InputError, match="not a folder"):
        read_inputs(write(tmp_path, "file.txt", "x"))


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bar_only_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], progress: bool
) -> None:
    write(tmp_path, "a.txt", "A")
    read_inputs(tmp_path, progress=progress)
    assert ("reading" in capsys.readouterr().err) is progress


def test_documents_are_immutable(tmp_path: Path) -> None:
    document = read_document(write(tmp_path, "a.txt", "A"), tmp_path)
    assert isinstance(document, Document)
    with pytest.raises(FrozenInstanceError):
        document.text = "B"  # type: ignore[misc]


def test_a_pyarrow_fs_uri_is_listed_and_read_like_a_folder(tmp_path):
    write(tmp_path, "a.txt", "One line.\n")
    write(tmp_path, "sub/b.txt", "Another line.\n")
    write(tmp_path, ".hidden/c.txt", "Not read.\n")
    write(tmp_path, ".notes.txt", "Not read either.\n")
    root = tmp_path.as_uri()
    names, skipped = list_inputs(root)
    assert names == ["a.txt", "sub/b.txt"]
    assert skipped == [
        Skipped(".hidden", "hidden folder, not read"),
        Skipped(".notes.txt", "hidden file, not read"),
    ]
    (document,) = read_file(root, "sub/b.txt")
    assert (document.path, document.text) == ("sub/b.txt", "Another line.\n")
    assert read_file(root, "gone.txt")[0].reason.startswith("cannot read")


def test_mojibake_is_repaired_and_said_clean_text_is_left_alone():
    french = "Les États-Unis doublent l’aide à l’intelligence artificielle, dit-il.\n"
    mojibake = french.encode("utf-8").decode("latin-1")
    text, encoding, removed, repaired = decode_bytes(mojibake.encode("utf-8"), "fr.txt")
    assert (text, encoding, removed) == (french, "utf-8", 0)
    assert repaired == "UTF-8 that had been decoded as latin-1"
    # Mojibake in places only (one word pasted from a misread page).
    german = "Über 1.000 Gäste kamen.\n"
    mixed = "Ãœ" + german[1:]
    assert decode_bytes(mixed.encode("utf-8"), "de.txt")[::3] == (
        german,
        "UTF-8 decoded as a code page in places",
    )
    # Letters mojibake is made of, where a language really uses them, stay.
    for clean in ("SÃO PAULO é a maior cidade do Brasil.\n", "Årets Œuvre: Ø, ß, ©.\n"):
        assert decode_bytes(clean.encode("utf-8"), "pt.txt")[::3] == (clean, None)
