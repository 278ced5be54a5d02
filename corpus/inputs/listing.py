"""The list stage: which files under an input folder (a local folder, a ``pyarrow.fs`` URI,
or a Hugging Face dataset in the local cache) a build reads, and which it sets apart with
a reason (hidden files, symlinks, an earlier build's output folder, names that are not
UTF-8).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
from huggingface_hub import snapshot_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from corpus.errors import InputError
from corpus.inputs.extraction import (
    DUMP_FORMATS,
    detect_format,
)
from corpus.records import Skipped
from corpus.tables import MARKER

# A build's own files (its card, plots, Parquet) read as articles would pose as a language of
# their own and displace real renderings, so a folder a build wrote is never entered.
_EARLIER_BUILD = f"output of an earlier corpus build ({MARKER} marker), not read"

DATASET_NAME = re.compile(r"[\w.-]+/[\w.-]+")  # a Hugging Face dataset id, owner/name


def is_dataset_folder(root: Path) -> bool:
    """Whether ``root`` holds a dataset saved by ``datasets.Dataset.save_to_disk``."""
    return (root / "state.json").is_file() and (root / "dataset_info.json").is_file()


def cached_dataset(name: str) -> Path | None:
    """The local snapshot of the Hugging Face dataset ``name`` ("owner/name"), looked up in
    the hub cache only (``HF_HUB_CACHE`` or its default; never the network). None if absent."""
    if not DATASET_NAME.fullmatch(name):
        return None
    try:
        folder = snapshot_download(
            name,
            repo_type="dataset",
            local_files_only=True,
            cache_dir=os.environ.get("HF_HUB_CACHE"),
        )
    except (HfHubHTTPError, LocalEntryNotFoundError, ValueError, OSError):
        return None
    return Path(folder)


def is_uri(root: Path | str) -> bool:
    """Whether an input root is a ``pyarrow.fs`` URI (``s3://``, ``gs://``, ``file://``)
    rather than a local path."""
    return isinstance(root, str) and "://" in root


def _uri_files(root: str) -> tuple[pafs.FileSystem, str, list[str], list[Skipped]]:
    """The file system of a URI, its base path, and the files under it (relative POSIX
    paths, sorted; hidden ones, or those under a hidden folder, skipped as ``_walk`` does).
    Raises InputError when it cannot be listed or is not a folder."""
    try:
        fs, base = pafs.FileSystem.from_uri(root)
        if fs.get_file_info(base).type != pafs.FileType.Directory:
            raise InputError(root, "input path is not a folder")
        infos = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    except (OSError, pa.ArrowException) as error:
        raise InputError(root, f"cannot list ({str(error).splitlines()[0]})") from None
    names, skipped, hidden = [], [], set()
    rels = {info.path: info.path[len(base) :].lstrip("/") for info in infos}
    builds = {rel.rpartition("/")[0] for rel in rels.values() if rel.split("/")[-1] == MARKER}
    if "" in builds:
        raise InputError(root, _EARLIER_BUILD)
    for info in sorted(infos, key=lambda i: i.path):
        rel = rels[info.path]
        parts = rel.split("/")
        if any("/".join(parts[:k]) in hidden for k in range(1, len(parts))):
            continue
        if rel in builds:
            skipped.append(Skipped(rel, _EARLIER_BUILD))
            hidden.add(rel)
        elif parts[-1].startswith("."):
            kind = "folder" if info.type == pafs.FileType.Directory else "file"
            skipped.append(Skipped(rel, f"hidden {kind}, not read"))
            hidden.add(rel)
        elif info.type == pafs.FileType.File:
            names.append(rel)
    return fs, base, names, skipped


def list_inputs(
    root: Path | str, *, data_files_only: bool | None = None
) -> tuple[list[str], list[Skipped]]:
    """The files under ``root`` to read (relative POSIX paths, sorted) and the entries that
    are not read, each with its reason (hidden, unlistable, a name that is not UTF-8, a
    dataset's card or metadata). ``root`` is a local folder or a ``pyarrow.fs`` URI of one
    (``s3://bucket/news``; ``is_uri``).

    ``data_files_only`` reads only dumps (a dataset's card and metadata files are listed as
    skipped, not read as articles); None turns it on for a ``save_to_disk`` folder. Raises
    InputError when ``root`` is missing or not a folder.
    """
    if is_uri(root):
        _, _, names, skipped = _uri_files(root)
        if data_files_only:
            data = [n for n in names if detect_format(n, b"") in DUMP_FORMATS]
            skipped += [
                Skipped(n, "dataset card or metadata, not data") for n in names if n not in data
            ]
            names = data
        return names, skipped
    if not root.exists():
        raise InputError(str(root), "input folder does not exist")
    if not root.is_dir():
        raise InputError(str(root), "input path is not a folder")
    if _is_build_output(root):
        raise InputError(str(root), _EARLIER_BUILD)
    files, skipped = _walk(root)
    if data_files_only or (data_files_only is None and is_dataset_folder(root)):
        is_data = {path: detect_format(path.name, b"") in DUMP_FORMATS for path in files}
        skipped += [
            Skipped(path.relative_to(root).as_posix(), "dataset card or metadata, not data")
            for path, data in is_data.items()
            if not data
        ]
        files = [path for path, data in is_data.items() if data]
    names: list[str] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            rel.encode()
        except UnicodeEncodeError:
            # os.walk smuggles undecodable name bytes in as surrogates, which would break every
            # later stage that prints or stores the path.
            skipped.append(Skipped(_rel(path, root), "file name is not valid UTF-8"))
            continue
        names.append(rel)
    return names, skipped


def _walk(root: Path) -> tuple[list[Path], list[Skipped]]:
    """Files under root, sorted by relative path, and what is not read, with the reason.

    Hidden files and folders (name starting with ".": .git, .DS_Store, editor swap files)
    are not read, each listed once (a hidden folder is not entered). Neither are symlinked
    folders (loops cannot hang), folders that cannot be listed, or the output folder of an
    earlier build (it holds the ``MARKER`` file), listed once and not entered.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []

    def unlisted(error: OSError) -> None:
        path = Path(error.filename)
        skipped.append(Skipped(_rel(path, root), f"folder not read ({os_problem(error)})"))

    # followlinks=False: a symlinked folder is listed but never entered, so loops cannot hang.
    for folder, dirnames, filenames in os.walk(root, onerror=unlisted, followlinks=False):
        here = Path(folder)
        entered = []
        for name in dirnames:
            rel = _rel(here / name, root)
            if name.startswith("."):
                skipped.append(Skipped(rel, "hidden folder, not read"))
                continue
            if is_symlink(here / name):
                skipped.append(Skipped(rel, "symlinked folder not followed"))
            elif _is_build_output(here / name):
                skipped.append(Skipped(rel, _EARLIER_BUILD))
                continue
            entered.append(name)
        dirnames[:] = sorted(entered)
        for name in filenames:
            if name.startswith("."):
                skipped.append(Skipped(_rel(here / name, root), "hidden file, not read"))
            else:
                files.append(here / name)
    files.sort(key=lambda path: path.relative_to(root).as_posix())
    return files, skipped


def _is_build_output(folder: Path) -> bool:
    """Whether a folder holds the marker a build writes into its output folder."""
    try:
        return (folder / MARKER).is_file()
    except OSError:  # unreadable or too long: os.walk reports it when entering
        return False


def _rel(path: Path, root: Path) -> str:
    """Path relative to the input root, POSIX separators, printable."""
    rel = path.relative_to(root).as_posix()
    return rel.encode(errors="surrogateescape").decode(errors="replace")


def is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:  # e.g. a path too long to look at: os.walk reports it when entering
        return False


def os_problem(error: OSError) -> str:
    """A short reason for an OSError on an input path."""
    if error.errno == errno.ENAMETOOLONG:
        return "path too long for this system"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return f"unreadable ({error.strerror or error})"
