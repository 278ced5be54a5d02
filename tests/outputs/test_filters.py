import math

import pyarrow as pa

from corpus.outputs.filters import (
    FilterOptions,
    filter_pairs,
    in_wrong_script,
    is_short_non_sentence,
    learn_length_ratio,
)
from corpus.tables import bead_schema
from corpus.text.language_tags import close_languages


def row(sv: str, en: str, score: float = 0.9, article: str = "a1") -> dict:
    return {"translation": {"en": en, "sv": sv}, "score": score, "article_id": article}


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, bead_schema(["en", "sv"]))


def test_short_non_sentences_are_detected_generically():
    for text in ["Källa", "Kommentar (0)", "مصدر", "تعليق (0)", "Foto: Reuters", "स्रोत"]:
        assert is_short_non_sentence(text), text
    for text in ["来源", "写真：ロイター", "ที่มา"]:  # scripts without spaces: characters count
        assert is_short_non_sentence(text), text
    for text in ["Hej då.", "هل أنت بخير؟", "वह घर गया।", "Han sa “ja.”", "سڑکیں بند ہیں۔"]:
        assert not is_short_non_sentence(text), text
    for text in ["彼は家に帰った。", "Սա է։", "ይህ ነው።", "ངས་ཟས་ཟོས།"]:  # Sentence_Terminal
        assert not is_short_non_sentence(text), text
    long_line = "Regeringen presenterade i dag en ny budget för skolan och vården"
    assert not is_short_non_sentence(long_line)
    assert not is_short_non_sentence("市议会批准新图书馆预算")  # a headline, 11 characters
    assert not is_short_non_sentence("ฝนตกหนักทำให้เกิดน้ำท่วมในสามอำเภอ")


def test_untranslated_pairs():
    def kept(en: str, sv: str) -> bool:
        good = [
            row(f"Mening nummer {i} är här.", f"Sentence number {i} is here.") for i in range(5)
        ]
        out, _ = filter_pairs(table([*good, row(sv, en)]), ("en", "sv"), FilterOptions())
        return out.num_rows == 6

    english = "The government presented a new budget for schools and hospitals today."
    swedish = "Regeringen presenterade i dag en ny budget för skolor och sjukhus."
    assert not kept("The same text.", " the  SAME text. ")
    assert not kept(english, english.replace("new", "fresh"))
    assert kept(english, swedish)


def test_wrong_script_and_close_languages():
    assert in_wrong_script("The library opens in May.", {"Hani"})
    assert not in_wrong_script("图书馆五月开放。", {"Hani"})
    assert not in_wrong_script("図書館は5月に開館する。", {"Hani", "Hira", "Kana"})
    assert not in_wrong_script("2019", {"Hani"})
    for la, lb in [("da", "nb"), ("nb", "nn"), ("hr", "sr"), ("bs", "hr"), ("ms", "id")]:
        assert close_languages(la, lb), (la, lb)
    for la, lb in [("cs", "sk"), ("fa", "prs"), ("hi", "mr"), ("zh_Hans", "zh_Hant")]:
        assert close_languages(la, lb), (la, lb)
    for la, lb in [("en", "de"), ("da", "sv"), ("ur", "hi"), ("fa", "ar"), ("en", "sv")]:
        assert not close_languages(la, lb), (la, lb)


def test_length_ratio_is_learned_per_pair():
    # English about three times as long as Chinese, with some spread.
    en = [("x" * (30 + k % 7)) for k in range(40)]
    zh = [("字" * (10 + k % 3)) for k in range(40)]
    ratio = learn_length_ratio(en, zh, [0.95] * 40)
    assert ratio.n_beads == 40 and 2.5 < ratio.median < 3.6
    assert math.isclose(ratio.low, 1.5) and math.isclose(ratio.high, 6.0)  # +- log 2
    assert math.log(ratio.high / ratio.median) >= math.log(2) - 1e-9
    # Too few confident beads: the median of all beads, +- log 3.
    few = learn_length_ratio(en[:5], zh[:5], [0.2] * 5)
    assert few.n_beads == 5 and math.isclose(few.high / few.median, 3.0)


def test_close_languages_keep_pairs_that_sentence_langid_confuses():
    da = [
        "Regeringen vil bygge en ny bro mellem fastlandet og øen.",
        "Mange indbyggere er positive over for planen.",
        "Kommunen skal holde et møde om sagen i maj.",
    ]
    nb = [
        "Regjeringen vil bygge en ny bro mellom fastlandet og øya.",
        "Mange innbyggere er positive til planen.",
        "Kommunen skal holde et møte om saken i mai.",
    ]
    rows_ = [
        {"translation": {"da": a, "nb": b}, "score": 0.9, "article_id": "a"}
        for a, b in zip(da, nb, strict=True)
    ]
    kept, report = filter_pairs(
        pa.Table.from_pylist(rows_, bead_schema(["da", "nb"])), ("da", "nb"), FilterOptions()
    )
    assert kept.num_rows == 3 and report.close_languages


def test_filter_pairs_counts_each_removal():
    good = [row(f"Mening nummer {i} är här.", f"Sentence number {i} is here.") for i in range(5)]
    rows = [
        *good,
        row("Mening nummer 0 är här.", "Sentence number 0 is here."),  # duplicate
        row("Låg poäng här.", "Low score here.", score=0.1),
        row("Källa", "Source"),  # both sides short, no final punctuation
        row("Kort.", "A much much longer sentence that cannot be its translation at all."),
        row("Exactly the same sentence.", "Exactly the same sentence."),
    ]
    options = FilterOptions(min_score=0.5, length_ratio=(1 / 3, 3.0))
    kept, report = filter_pairs(table(rows), ("en", "sv"), options)
    removed = report.removed
    assert kept.to_pylist() == table(good).to_pylist()
    assert removed == {
        "duplicate": 1, "score": 1, "boilerplate": 1, "length ratio": 1, "untranslated": 1
    }  # fmt: skip


def test_lines_repeated_across_articles_are_boilerplate():
    footer = "Läs mer om detta ämne"
    rows = [row(footer, "Read more on this topic", article=f"a{i}") for i in range(3)]
    rows.append(row("Ett riktigt innehåll utan punkt", "Real content without a stop"))
    kept, report = filter_pairs(table(rows), ("en", "sv"), FilterOptions())
    assert [r["translation"]["sv"] for r in kept.to_pylist()] == ["Ett riktigt innehåll utan punkt"]
    assert report.removed == {"boilerplate": 3}
    kept, report = filter_pairs(table(rows), ("en", "sv"), FilterOptions(drop_boilerplate=False))
    assert kept.num_rows == 2 and report.removed == {"duplicate": 2}  # the footer pair once


def test_a_headline_without_punctuation_is_not_boilerplate_by_shape_alone():
    rows = [row("Ny bro till ön", "Government wants a new bridge to the island")]
    kept, report = filter_pairs(table(rows), ("en", "sv"), FilterOptions())
    assert kept.num_rows == 1 and not report.removed


def test_max_chars_removes_pairs_with_a_long_side_and_only_when_set():
    short = [row(f"Mening nummer {i} är här.", f"Sentence number {i} is here.") for i in range(3)]
    long = row("En mening. " * 12, "A sentence. " * 12)  # 132 and 144 characters
    rows = [*short, long]
    kept, report = filter_pairs(table(rows), ("en", "sv"), FilterOptions(max_chars=140))
    assert kept.to_pylist() == table(short).to_pylist()
    assert report.removed == {"too long": 1}
    kept, report = filter_pairs(table(rows), ("en", "sv"), FilterOptions(max_chars=144))
    assert kept.num_rows == 4 and not report.removed
    assert filter_pairs(table(rows), ("en", "sv"), FilterOptions())[0].num_rows == 4


def test_every_declared_filter_is_a_build_option_and_in_the_card_prose():
    from typer.testing import CliRunner

    from corpus.cli import app
    from corpus.outputs.filters import FILTERS, describe_filters

    result = CliRunner().invoke(app, ["build", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    for f in FILTERS:
        assert f.option in result.output, f.option
    prose = describe_filters(FilterOptions(max_chars=500, drop_boilerplate=False))
    assert "pairs with a side over 500 characters removed" in prose
    assert "boilerplate (" in prose and ") kept" in prose
    assert FILTERS[0].reason == "score"  # the score filter counts first
