"""Tests for corpus.records: the bead notation of gold files and ``corpus align``, and the
lines that report skipped inputs."""

from __future__ import annotations

import pytest

from corpus.records import BeadIds, Skipped, format_bead, parse_beads, skip_lines


def test_parse_beads_reads_both_sides_and_ignores_score() -> None:
    text = "[0]:[0, 1]\n[2, 3]:[2]:0.87\n\n[]:[3]:-0.5\n[4]:[]\n"
    assert parse_beads(text) == [((0,), (0, 1)), ((2, 3), (2,)), ((), (3,)), ((4,), ())]


@pytest.mark.parametrize(
    ("bead", "bead_score", "text"),
    [
        (((0,), (0, 1)), 0.87, "[0]:[0, 1]:0.87"),
        (((), (5,)), 0.0, "[]:[5]:0.0"),
        (((6, 7), (9, 10)), None, "[6, 7]:[9, 10]"),
        (((16,), ()), None, "[16]:[]"),
    ],
)
def test_format_bead_round_trips(bead: BeadIds, bead_score: float | None, text: str) -> None:
    assert format_bead(bead, bead_score) == text
    assert parse_beads(text) == [bead]


@pytest.mark.parametrize("bad", ["[0]", "[0]:", "0:[1]", "[a]:[1]", "[0,]:[1]", "[0]:[1]:2:3"])
def test_parse_beads_rejects_malformed_line_with_its_number(bad: str) -> None:
    with pytest.raises(ValueError, match="line 2"):
        parse_beads(f"[0]:[0]\n{bad}\n")


def test_a_container_s_skipped_records_are_summed_up_per_kind_of_reason():
    skipped = [
        Skipped("a.txt", "binary file (PNG image)"),
        *(
            Skipped(f"crawl.warc.gz#{k}", f"language not identified (best guess oc at 0.00{k})")
            for k in range(1, 6)
        ),
        Skipped("crawl.warc.gz#9", "truncated record"),
        Skipped("dump.jsonl#a", "no text"),
        Skipped("dump.jsonl#b", "no text"),
    ]
    assert skip_lines(skipped) == [
        "a.txt: binary file (PNG image)",
        "crawl.warc.gz: 5 records skipped: language not identified (best guess oc at 0.001) "
        "(first: #1, #2, #3, ...)",
        "crawl.warc.gz: 1 record skipped: truncated record (first: #9)",
        # Three or fewer: a line each, as for files.
        "dump.jsonl#a: no text",
        "dump.jsonl#b: no text",
    ]
