"""The output folder's safety: what a build may replace, its lock, and the atomic swap.

A build writes everything into a hidden sibling folder that replaces OUT only when
complete (one atomic exchange on Linux), so a crash or an interruption never leaves a
half-written dataset behind, and a folder holding files no build wrote is never replaced.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import CorpusError, UsageError
from corpus.interrupts import pause_point
from corpus.tables import MARKER

_MARKER_HEADER = "written by corpus build"


# The files of a build's layout: what a folder without a file list may hold to count as a build.
_LAYOUT = re.compile(
    r"(README\.md|articles\.parquet|sentences\.parquet|(scores|align_types|lengths)\.png"
    rf"|{re.escape(MARKER)}|data/[^/]+/(train|validation|test)-[^/]*\.parquet)"
)


_LIBC = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2  # from <fcntl.h> and <linux/fs.h>


def _written_files(out: Path) -> set[str] | None:
    """The files the marker of ``out`` lists (relative paths), None without a list."""
    try:
        lines = (out / MARKER).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 2 or lines[0] != _MARKER_HEADER:
        return None  # no marker, or one from a version that did not list its files
    return {MARKER, *lines[1:]}


def foreign_file(out: Path) -> str | None:
    """The first entry under ``out`` (by path, relative) that no build wrote, else None.

    A build's files are those its marker lists; without such a list (no marker, or one of
    an older version), the file names of the build layout. Symlinks and anything that is
    not a regular file count as foreign. Stops at the first one, so a large foreign
    folder is not walked.
    """
    written = _written_files(out)
    unreadable: list[OSError] = []
    for folder, dirnames, filenames in os.walk(out, onerror=unreadable.append):
        if unreadable:
            break
        here = Path(folder)
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = here / name
            rel = path.relative_to(out).as_posix()
            if name in dirnames and not path.is_symlink():
                continue
            ours = rel in written if written is not None else _LAYOUT.fullmatch(rel)
            if not ours or path.is_symlink() or not path.is_file():
                return rel
    if unreadable:  # a folder it cannot list may hold anything
        return Path(unreadable[0].filename).relative_to(out).as_posix()
    return None


def check_replaceable(out: Path, *, force: bool = False) -> None:
    """Raise UsageError unless ``out`` may be replaced by a build.

    Allowed: a missing or empty folder, or a folder holding an earlier build and nothing
    else. ``force`` also allows a folder of build-layout files without the marker (a
    build copied without its hidden file). Anything holding a file no build wrote is
    refused, ``force`` or not, naming that file: a build never deletes what it did not
    write.
    """
    out = out.absolute()
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink():  # replacing it would replace the link, not what it points to
        raise UsageError(f"{out}: is a symbolic link; give the folder it points to as --out")
    if not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder; choose another --out")
    foreign = foreign_file(out)
    if foreign is not None:
        raise UsageError(
            f"{out}: holds {foreign}, which corpus build did not write; a build replaces only "
            "an empty folder or an earlier build, so choose another --out"
        )
    if any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise UsageError(
            f"{out}: looks like a build but has no {MARKER} marker; "
            "pass --force to replace it, or choose another --out"
        )


def check_output(input_dir: Path | str, out: Path, *, force: bool = False) -> None:
    """Refuse (UsageError) an ``out`` that is, contains or lies inside ``input_dir``, or
    that a build may not replace (`check_replaceable`). Pure checks: nothing is written.
    An input given as a URI (``s3://``: a str) cannot hold the local ``out``."""
    if isinstance(input_dir, str):
        check_replaceable(out, force=force)
        return
    source, target = input_dir.resolve(), out.resolve()
    if target == source:
        raise UsageError(f"--out {out} is the input folder; choose a folder outside it")
    if source.is_relative_to(target):
        raise UsageError(
            f"--out {out} contains the input folder {input_dir}; choose a folder outside it"
        )
    if target.is_relative_to(source):
        raise UsageError(
            f"--out {out} is inside the input folder {input_dir} (the next build would read "
            "it as input); choose a folder outside it"
        )
    check_replaceable(out, force=force)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@contextmanager
def output_lock(out: Path) -> Iterator[list[str]]:
    """Hold ``.OUT.lock`` (holding our pid) for a whole build; yields warnings for the summary.

    A second build into the same folder is refused while the holder lives; a lock left by a
    killed build (its pid is gone) is taken over with a warning, so it never stays stuck.
    """
    out = out.absolute()
    lock = out.parent / f".{out.name}.lock"
    warnings: list[str] = []
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileExistsError:
                try:
                    pid = int(lock.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and _pid_alive(pid):
                    raise CorpusError(
                        f"{out}: another build (pid {pid}) is writing this folder; "
                        f"wait for it to finish (lock file {lock})"
                    ) from None
                warnings.append(f"{lock}: removed stale lock of a build that died (pid {pid})")
                lock.unlink(missing_ok=True)
    except OSError as exc:
        raise CorpusError(f"{out.parent}: cannot write output ({exc.strerror or exc})") from exc
    try:
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(f"{os.getpid()}\n")
            warnings += recover(out)
            # The staging folder's name is the longest this build creates: a file system
            # that refuses it (too long, odd characters) is found now, not after the work.
            _staging(out).mkdir()
            _staging(out).rmdir()
        except OSError as exc:
            raise CorpusError(f"{out}: cannot write output ({exc.strerror or exc})") from exc
        yield warnings
    finally:
        lock.unlink(missing_ok=True)


def recover(out: Path) -> list[str]:
    """Clean up after a build killed mid-write; call only while holding the output lock.

    Only the lock holder writes, so every ``.OUT.tmp-*`` staging folder and every
    ``.OUT.work-*`` work folder is left over. A build
    killed between moving OUT aside and renaming its staging folder in leaves OUT missing and
    ``.OUT.old-*`` present: that previous build is moved back.
    """
    out = out.absolute()
    notes = []
    for staging in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(staging, ignore_errors=True)
        notes.append(f"{staging}: removed unfinished output of an interrupted build")
    for spill in out.parent.glob(f".{out.name}.work-*"):
        shutil.rmtree(spill, ignore_errors=True)
        notes.append(f"{spill}: removed the work folder of an interrupted build")
    for old in sorted(out.parent.glob(f".{out.name}.old-*")):
        if not out.exists():
            old.rename(out)
            notes.append(f"{out}: restored the previous build after an interrupted replace")
        else:
            shutil.rmtree(old, ignore_errors=True)
    return notes


@contextmanager
def work_folder(out: Path) -> Iterator[Path]:
    """A scratch folder beside ``out`` for the build's intermediate files (the spill, the
    alignment input of a cluster), removed however the build ends; one left by a killed
    build is removed by ``recover``. Call only while holding the output lock."""
    work = out.absolute().parent / f".{out.absolute().name}.work-{os.getpid()}"
    try:
        work.mkdir()
    except OSError as exc:
        raise CorpusError(f"{work}: cannot write output ({exc.strerror or exc})") from exc
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _staging(out: Path) -> Path:
    return out.parent / f".{out.name}.tmp-{os.getpid()}"


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE).

    Returns False where the system or file system cannot, so the caller falls back to
    two renames.
    """
    renameat2 = getattr(_LIBC, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextmanager
def atomic_output(out: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``, on failure it is removed.

    An existing ``out`` is replaced only when an earlier build wrote it (or it is
    empty), unless ``force``: a typo in ``--out`` must not delete someone's data.
    The swap is one atomic exchange where the system has it (Linux), else two renames
    (OUT -> .OUT.old-PID, staging -> OUT); a kill between those is repaired by `recover`
    at the start of the next build.
    """
    out = out.absolute()
    check_replaceable(out, force=force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = _staging(out)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    except OSError as exc:
        raise CorpusError(f"{out.parent}: cannot write output ({exc.strerror})") from exc
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    try:
        yield staging
        written = sorted(
            p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()
        )
        (staging / MARKER).write_text(
            "".join(f"{line}\n" for line in [_MARKER_HEADER, *written]), encoding="utf-8"
        )
        pause_point("written")
        if out.exists() and exchange(staging, out):
            # Staging now holds the previous build; OUT was complete at every instant.
            pause_point("swapped")
            shutil.rmtree(staging, ignore_errors=True)
            return
        if out.exists():
            out.rename(old)
        pause_point("swapping")
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if not out.exists() and old.exists():
            old.rename(out)  # the swap failed halfway: put the previous build back
        raise CorpusError(f"{out}: cannot write output ({exc.strerror or exc})") from exc
    except BaseException:  # an interruption (SIGINT, SIGTERM): same clean-up as a failure
        shutil.rmtree(staging, ignore_errors=True)
        if not out.exists() and old.exists():
            old.rename(out)
        raise


@contextmanager
def rewritten_build(out: Path) -> Iterator[Path]:
    """For a command that rewrites a finished build's configs and card (``corpus split``,
    ``corpus check --remove``): under the output lock, a staging folder holding the rest of
    the build (``copy_build_files``), which replaces ``out`` when the block ends without an
    error (``atomic_output``)."""
    with output_lock(out), atomic_output(out) as staging:
        copy_build_files(out, staging)
        yield staging


def copy_build_files(out: Path, staging: Path) -> None:
    """Every file of the build in ``out`` but its configs (``data/``), its card and hidden
    files, into ``staging``: what a command that rewrites the configs and the card keeps.
    Hard links where the file system has them (a build's files are never written in place,
    only replaced), else copies."""
    for path in out.rglob("*"):
        rel = path.relative_to(out)
        if path.is_dir() or rel.parts[0] == "data" or rel.as_posix() in ("README.md",):
            continue
        if rel.name.startswith("."):
            continue
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        try:
            (staging / rel).hardlink_to(path)
        except OSError:
            shutil.copy2(path, staging / rel)
