"""Files written whole or not at all (the bottom of the package: imports no stage)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(target: Path, temporary: Path | None = None) -> Iterator[Path]:
    """A temporary path beside ``target`` (hidden, unique to this writer, or ``temporary``)
    to write to; renamed onto ``target`` when the block ends without an error, removed in
    every case otherwise. ``os.replace`` within one folder is atomic on POSIX: a reader
    sees the old file or the new one, never half of it. Errors propagate (OSError)."""
    unique = f"{os.getpid()}-{uuid.uuid4().hex}"
    temporary = temporary or target.with_name(f".{target.name}.tmp-{unique}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
