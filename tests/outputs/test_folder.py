"""Tests for corpus.outputs.folder: what a build may replace, its lock, the atomic swap."""

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.errors import CorpusError, UsageError
from corpus.interrupts import pause_point
from corpus.outputs.folder import (
    MARKER,
    atomic_output,
    check_output,
    check_replaceable,
    output_lock,
)
from corpus.outputs.writing import write_table


def test_atomic_output_replaces_a_previous_build(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        (staging / "a.txt").write_text("first")
    with atomic_output(out) as staging:
        assert not (staging / "a.txt").exists()
        (staging / "b.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old folder left


def test_failed_build_leaves_previous_output_untouched(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        (staging / "a.txt").write_text("first")
    with pytest.raises(RuntimeError), atomic_output(out) as staging:
        (staging / "half.parquet").write_text("partial")
        raise RuntimeError("crash in the middle")
    assert (out / "a.txt").read_text() == "first"
    assert not (out / "half.parquet").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    for force in (False, True):  # --force never deletes what a build did not write
        with pytest.raises(UsageError) as refused, atomic_output(out, force=force):
            pass
        assert "holds thesis.tex, which corpus build did not write" in str(refused.value)
        assert "--force" not in str(refused.value)  # it would not help
    assert (out / "thesis.tex").read_text() == "do not delete"


def test_a_file_added_to_a_build_is_never_deleted(tmp_path):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        (staging / "data" / "en-sv").mkdir(parents=True)
        (staging / "data" / "en-sv" / "train.parquet").write_text("rows")
    (out / "data" / "notes.md").write_text("my notes")
    for force in (False, True):
        with (
            pytest.raises(UsageError, match=r"holds data/notes\.md,"),
            atomic_output(out, force=force),
        ):
            pass
    assert (out / "data" / "notes.md").read_text() == "my notes"
    (out / "data" / "notes.md").unlink()
    (out / "link").symlink_to(tmp_path)  # a symlink is the user's too, even to a folder
    with pytest.raises(UsageError, match="holds link,"), atomic_output(out):
        pass


def test_force_replaces_build_files_that_lost_their_marker(tmp_path):
    out = tmp_path / "copied"
    (out / "data" / "ar-sv").mkdir(parents=True)
    (out / "README.md").write_text("card")
    (out / "data" / "ar-sv" / "train-00000-of-00001.parquet").write_text("rows")
    with pytest.raises(UsageError, match="pass --force"), atomic_output(out):
        pass
    with atomic_output(out, force=True) as staging:
        (staging / "a.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.txt"]
    assert (out / MARKER).read_text().splitlines()[1:] == ["a.txt"]  # the files it wrote


def test_empty_folder_is_replaced_and_a_file_is_refused(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    with atomic_output(out) as staging:
        (staging / "a.txt").write_text("x")
    assert (out / "a.txt").exists()
    (tmp_path / "file").write_text("keep")
    with pytest.raises(UsageError, match="exists and is not a folder"):
        check_replaceable(tmp_path / "file", force=True)
    assert (tmp_path / "file").read_text() == "keep"
    # A link to a build: replacing it would swap the link, not the folder it points to.
    (tmp_path / "link").symlink_to(out)
    with pytest.raises(UsageError, match="is a symbolic link"):
        check_replaceable(tmp_path / "link", force=True)
    assert (tmp_path / "link").resolve() == out and (out / "a.txt").exists()


@pytest.mark.parametrize("where", ["same", "parent", "inside", "symlink"])
def test_output_equal_to_containing_or_inside_the_input_is_refused(tmp_path, where):
    src = tmp_path / "project" / "articles"
    src.mkdir(parents=True)
    (tmp_path / "alias").symlink_to(src)
    out = {
        "same": src,
        "parent": tmp_path / "project",
        "inside": src / "corpus",
        "symlink": tmp_path / "alias",
    }[where]
    for force in (False, True):
        with pytest.raises(UsageError, match=r"--out .*(is the input|contains the input|inside)"):
            check_output(src, out, force=force)


def test_second_build_is_refused_while_the_first_holds_the_lock(tmp_path):
    out = tmp_path / "out"
    with (
        output_lock(out),
        pytest.raises(CorpusError, match=r"another build \(pid \d+\)"),
        output_lock(out),
    ):
        pass
    assert not (tmp_path / ".out.lock").exists()  # released on exit


def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".out.lock").write_text(f"{dead.pid}\n")
    with output_lock(tmp_path / "out") as warnings:
        assert (tmp_path / ".out.lock").read_text().strip() == str(os.getpid())
    assert any(f"stale lock of a build that died (pid {dead.pid})" in w for w in warnings)


def test_recover_restores_a_build_killed_between_the_two_renames(tmp_path):
    # State after `OUT -> .OUT.old-PID` but before `staging -> OUT`.
    old = tmp_path / ".out.old-99999"
    old.mkdir()
    (old / "a.txt").write_text("previous")
    (tmp_path / ".out.tmp-99999").mkdir()
    with output_lock(tmp_path / "out") as warnings:
        pass
    assert (tmp_path / "out" / "a.txt").read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert any("restored the previous build" in w for w in warnings)


def test_disk_full_leaves_previous_output_and_nothing_partial(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        write_table(pa.table({"x": [1]}), staging / "t.parquet")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", full)
    with pytest.raises(CorpusError, match="No space left on device"), atomic_output(out) as staging:
        write_table(pa.table({"x": [2]}), staging / "t.parquet")
    assert pq.read_table(out / "t.parquet").column("x").to_pylist() == [1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("atomic_exchange", [True, False])
def test_replace_works_with_and_without_atomic_exchange(tmp_path, monkeypatch, atomic_exchange):
    if not atomic_exchange:
        monkeypatch.setattr("corpus.outputs.folder.exchange", lambda a, b: False)
    out = tmp_path / "out"
    for text in ("first", "second"):
        with atomic_output(out) as staging:
            (staging / "a.txt").write_text(text)
    assert (out / "a.txt").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failed_rename_into_place_restores_the_previous_build(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        (staging / "a.txt").write_text("first")
    real_rename = Path.rename

    def rename(self, target):
        if self.name.startswith(".out.tmp-"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    monkeypatch.setattr("corpus.outputs.folder.exchange", lambda a, b: False)  # the two-rename path
    with pytest.raises(CorpusError, match="cannot write output"), atomic_output(out) as staging:
        (staging / "a.txt").write_text("second")
    assert (out / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_unwritable_output_parent_is_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(CorpusError, match="cannot write output"), output_lock(blocker / "out"):
        pass


def test_interrupt_between_the_two_renames_puts_the_previous_build_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with atomic_output(out) as staging:
        (staging / "a.txt").write_text("first")

    def interrupted(name):
        if name == "swapping":  # OUT has been moved aside, the new build not yet renamed in
            raise KeyboardInterrupt

    monkeypatch.setattr("corpus.outputs.folder.exchange", lambda a, b: False)
    monkeypatch.setattr("corpus.outputs.folder.pause_point", interrupted)
    with pytest.raises(KeyboardInterrupt), atomic_output(out) as staging:
        (staging / "a.txt").write_text("second")
    assert (out / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_pause_point_ends_at_a_signal_the_kernel_handed_to_another_thread(monkeypatch):
    # A process-wide SIGINT may land on any thread (pyarrow's pool, jemalloc's); the crash
    # tests hung in a long sleep whenever it did not land on the main one.
    monkeypatch.setenv("CORPUS_PAUSE_AT", "here:60")
    other = threading.Thread(target=time.sleep, args=(2,))
    other.start()
    threading.Timer(0.2, signal.pthread_kill, (other.ident, signal.SIGINT)).start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        pause_point("here")
    assert time.monotonic() - start < 5
    other.join()
