from corpus.options import skip_lines
from corpus.records import Skipped


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
