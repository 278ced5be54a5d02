"""Command line: ``corpus build``, ``align``, ``show``, ``export``. Thin: options in, stages out."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from corpus.errors import CorpusError
from corpus.exporting import FORMATS, export
from corpus.filtering import FilterOptions
from corpus.pipeline import BuildOptions, BuildSummary, align_files, build
from corpus.showing import show_table
from corpus.writing import alignment_text, write_alignment

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Build sentence-aligned parallel corpora from folders of multilingual articles.",
)
err = Console(stderr=True)


# Options that `build` and `align` share, declared once.
ModelOption = Annotated[
    str | None,
    typer.Option(help="sentence-transformers model name or path (default: bundled e5)."),
]
BatchSizeOption = Annotated[int, typer.Option(min=1, help="Sentences per encoder batch.")]


@app.callback()
def main() -> None:
    """Keeps `build` a named subcommand."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn errors into one line and an exit code; outputs are only ever written whole."""
    try:
        yield
    except CorpusError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted; the previous output (if any) is untouched", 130) from None
    except Exception as exc:
        if os.environ.get("CORPUS_DEBUG"):
            raise
        raise fail(
            f"internal error: {type(exc).__name__}: {exc} (set CORPUS_DEBUG=1 for a traceback)"
        ) from None


def report(summary: BuildSummary) -> None:
    table = Table(title=f"corpus written to {summary.out}", show_header=False)
    table.add_row("files read", str(summary.n_files))
    table.add_row("files skipped", str(len(summary.skipped)))
    table.add_row("articles", str(summary.n_articles))
    table.add_row("sentences", str(summary.n_sentences))
    table.add_row("sentences embedded", str(summary.n_encoded))
    table.add_row("embeddings from cache", str(summary.n_cached))
    for name, n in summary.pairs.items():
        table.add_row(f"pairs {name}", str(n))
        for reason, k in summary.removed.get(name, {}).items():
            table.add_row(f"  removed ({reason})", str(k))
    table.add_row("multiway tuples", str(summary.n_multiway))
    for stage, seconds in summary.timings.items():
        table.add_row(f"time {stage}", f"{seconds:.1f} s")
    Console(stderr=True).print(table)
    for skipped in summary.skipped:
        err.print(f"skipped {skipped.path}: {skipped.reason}", highlight=False, soft_wrap=True)


def warn(summary: BuildSummary) -> None:
    for warning in summary.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


@app.command("build")
def build_command(
    input_dir: Annotated[Path, typer.Argument(help="Folder of articles (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path(
        "output/corpus"
    ),
    model: ModelOption = None,
    batch_size: BatchSizeOption = 32,
    min_score: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Drop pairs below this confidence.")
    ] = 0.0,
    length_ratio: Annotated[
        tuple[float, float] | None,
        typer.Option(
            help="Keep pairs whose character-length ratio lies in MIN MAX "
            "(default: bounds learned per language pair from its confident beads)."
        ),
    ] = None,
    keep_duplicates: Annotated[bool, typer.Option(help="Keep exact duplicate pairs.")] = False,
    keep_boilerplate: Annotated[
        bool, typer.Option(help="Keep short non-sentences and lines repeated across articles.")
    ] = False,
    keep_untranslated: Annotated[
        bool, typer.Option(help="Keep pairs whose sides are identical or in one language.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Replace --out even if this tool did not write it.")
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Embedding cache folder (default: .cache beside --out)."),
    ] = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse embeddings of sentences seen in earlier builds.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Find translated articles, align their sentences, write Parquet + a dataset card."""
    if length_ratio is not None and not 0 < length_ratio[0] <= length_ratio[1]:
        raise fail(f"--length-ratio {length_ratio[0]} {length_ratio[1]}: need 0 < MIN <= MAX", 2)
    if not input_dir.exists():
        raise fail(f"{input_dir}: no such folder", 2)
    if not input_dir.is_dir():
        raise fail(f"{input_dir}: not a folder", 2)
    options = BuildOptions(
        model=model,
        batch_size=batch_size,
        filters=FilterOptions(
            min_score=min_score,
            length_ratio=length_ratio,
            drop_duplicates=not keep_duplicates,
            drop_boilerplate=not keep_boilerplate,
            drop_untranslated=not keep_untranslated,
        ),
        progress=not quiet,
        force=force,
        cache=cache,
        cache_dir=cache_dir,
        command=shlex.join(["corpus", *sys.argv[1:]]),
    )
    with reported_errors():
        summary = build(input_dir, out, options)
    if not quiet or summary.skipped:
        report(summary)
    warn(summary)


@app.command("show")
def show_command(
    out: Annotated[Path, typer.Argument(help="A folder written by corpus build.")],
    pair: Annotated[str | None, typer.Option(help="Language pair, e.g. ar-sv.")] = None,
    article: Annotated[str | None, typer.Option(help="Only this article_id.")] = None,
    min_score: Annotated[float, typer.Option(help="Only rows with at least this score.")] = 0.0,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show.")] = 50,
) -> None:
    """Print aligned sentences side by side with their scores."""
    with reported_errors():
        Console().print(show_table(out, pair, article, min_score, limit))


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="A folder written by corpus build.")],
    pair: Annotated[str, typer.Option(help="Language pair, e.g. ar-sv.")],
    to: Annotated[Path, typer.Option(help="File to write (moses: prefix of PATH.<lang>).")],
    fmt: Annotated[str, typer.Option("--format", help=f"One of {', '.join(FORMATS)}.")] = "tmx",
) -> None:
    """Export one language pair as TMX 1.4b, Moses plain text or JSON lines (streaming)."""
    with reported_errors():
        written = export(out, pair, fmt, to)
    for path in written:
        err.print(f"wrote {path} ({path.stat().st_size} bytes)", highlight=False)


class AlignFormat(StrEnum):
    beads = "beads"
    tsv = "tsv"
    parquet = "parquet"


@app.command("align")
def align_command(
    src_file: Annotated[Path, typer.Argument(help="Source-language file.")],
    tgt_file: Annotated[Path, typer.Argument(help="Target-language file.")],
    presegmented: Annotated[
        bool, typer.Option(help="Each line is one sentence; do not re-split.")
    ] = False,
    fmt: Annotated[
        AlignFormat, typer.Option("--format", help="beads: [src]:[tgt]:score; tsv; parquet.")
    ] = AlignFormat.beads,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: stdout).")
    ] = None,
    model: ModelOption = None,
    batch_size: BatchSizeOption = 32,
    rescore_merges: Annotated[
        bool, typer.Option(help="Second pass: embed the joined text of merge candidates.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Align the sentences of two files (translations of each other) with the build aligner."""
    for path in (src_file, tgt_file):
        if not path.is_file():
            raise fail(f"{path}: no such file", 2)
    if fmt is AlignFormat.parquet and out is None:
        raise fail("--format parquet needs --out PATH", 2)
    options = BuildOptions(model=model, batch_size=batch_size, progress=not quiet)
    with reported_errors():
        result = align_files(src_file, tgt_file, options, presegmented, rescore_merges)
        if out is None:
            sys.stdout.write(alignment_text(result.src, result.tgt, result.beads, fmt.value))
        else:
            write_alignment(result.src, result.tgt, result.beads, fmt.value, out)
