"""Where a build may be stopped on purpose: the pause points the interruption tests kill
it at (``CORPUS_PAUSE_AT=name:seconds``). The bottom of the package: imports no stage.
"""

from __future__ import annotations

import os
import sys
import time


def pause_point(name: str) -> None:
    """Sleep here when ``CORPUS_PAUSE_AT=name:seconds`` is set (crash tests kill the build here).

    It only waits: the build does exactly the same work with or without it.
    """
    wanted, _, seconds = os.environ.get("CORPUS_PAUSE_AT", "").partition(":")
    if wanted == name:
        print(f"corpus: paused at {name}", file=sys.stderr, flush=True)
        # Short sleeps: the kernel may hand SIGINT to another thread (pyarrow's, jemalloc's),
        # which does not wake this one; Python raises it here when a short sleep returns.
        deadline = time.monotonic() + float(seconds or 60)
        while time.monotonic() < deadline:
            time.sleep(0.05)
