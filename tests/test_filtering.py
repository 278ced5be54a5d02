import pyarrow as pa

from corpus.filtering import FilterOptions, filter_pairs, is_short_non_sentence, is_untranslated
from corpus.writing import bead_schema


def row(sv: str, en: str, score: float = 0.9, article: str = "a1") -> dict:
    return {"translation": {"en": en, "sv": sv}, "score": score, "article_id": article}


def table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, bead_schema(["en", "sv"]))


def test_short_non_sentences_are_detected_generically():
    for text in ["Källa", "Kommentar (0)", "مصدر", "تعليق (0)", "Foto: Reuters", "स्रोत"]:
        assert is_short_non_sentence(text), text
    for text in ["Hej då.", "هل أنت بخير؟", "वह घर गया।", "Han sa “ja.”"]:
        assert not is_short_non_sentence(text), text
    long_line = "Regeringen presenterade i dag en ny budget för skolan och vården"
    assert not is_short_non_sentence(long_line)


def test_untranslated_pairs():
    assert is_untranslated("The same text.", " the  SAME text. ", "sv")
    english = "The government presented a new budget for schools and hospitals today."
    assert is_untranslated(english, english.replace("new", "fresh"), "sv")
    swedish = "Regeringen presenterade i dag en ny budget för skolor och sjukhus."
    assert not is_untranslated(english, swedish, "sv")


def test_filter_pairs_counts_each_removal():
    good = [row(f"Mening nummer {i} är här.", f"Sentence number {i} is here.") for i in range(5)]
    rows = [
        *good,
        row("Mening nummer 0 är här.", "Sentence number 0 is here."),  # duplicate
        row("Låg poäng här.", "Low score here.", score=0.1),
        row("Källa", "Source"),
        row("Kort.", "A much much longer sentence that cannot be its translation at all."),
        row("Exactly the same sentence.", "Exactly the same sentence."),
    ]
    kept, removed = filter_pairs(table(rows), ("en", "sv"), FilterOptions(min_score=0.5))
    assert kept.to_pylist() == table(good).to_pylist()
    assert removed == {
        "duplicate": 1, "score": 1, "boilerplate": 1, "length ratio": 1, "untranslated": 1
    }  # fmt: skip


def test_lines_repeated_across_articles_are_boilerplate():
    footer = "Läs mer om detta ämne"
    rows = [row(footer, "Read more on this topic", article=f"a{i}") for i in range(3)]
    rows.append(row("Ett riktigt innehåll utan punkt", "Real content without a stop"))
    kept, removed = filter_pairs(table(rows), ("en", "sv"), FilterOptions())
    assert [r["translation"]["sv"] for r in kept.to_pylist()] == ["Ett riktigt innehåll utan punkt"]
    assert removed == {"boilerplate": 3}
    kept, removed = filter_pairs(table(rows), ("en", "sv"), FilterOptions(drop_boilerplate=False))
    assert kept.num_rows == 2 and removed == {"duplicate": 2}  # the footer pair once
