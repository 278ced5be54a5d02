import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.text.segmentation import clause_marks, ordinary_word, segment, split_sentences


def paragraphs(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S(?:.*\S)?", text)]


def test_swedish_abbreviations_do_not_end_sentences():
    text = "Mötet börjar kl. 14 i dag. Vi tog t.ex. bussen, bl.a. till Stockholm. Sen kom han."
    assert split_sentences(text, "sv") == [
        "Mötet börjar kl. 14 i dag.",
        "Vi tog t.ex. bussen, bl.a. till Stockholm.",
        "Sen kom han.",
    ]


def test_abbreviation_before_a_new_sentence_still_splits():
    text = "Vi köpte äpplen, päron etc. Sedan gick vi hem."
    assert split_sentences(text, "sv") == ["Vi köpte äpplen, päron etc.", "Sedan gick vi hem."]


@pytest.mark.parametrize("key", ["000", "001", "002", "003", "004"])
def test_offsets_round_trip_on_sample(sample_files, key):
    f = sample_files[key]
    from corpus.inputs.reading import read_inputs
    from tests.conftest import SAMPLE

    doc = next(d for d in read_inputs(SAMPLE).documents if d.path == f.path)
    previous_end = 0
    for s in f.sentences:
        assert doc.text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert s.start >= previous_end
        previous_end = s.end
    # Nothing but whitespace is left outside the sentences.
    covered = set()
    for s in f.sentences:
        covered.update(range(s.start, s.end))
    assert all(doc.text[k].isspace() for k in range(len(doc.text)) if k not in covered)


def test_sentences_never_cross_paragraphs():
    text = "Första stycket utan punkt\nAndra stycket. Med två meningar."
    sentences = segment(text, "sv", paragraphs(text))
    assert [s.text for s in sentences] == [
        "Första stycket utan punkt",
        "Andra stycket.",
        "Med två meningar.",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_arabic_hindi_persian_split_on_their_own_punctuation():
    assert len(split_sentences("هذه جملة أولى. وهذه جملة ثانية؟ نعم!", "ar")) == 3
    assert len(split_sentences("यह पहला वाक्य है। यह दूसरा वाक्य है।", "hi")) == 2
    assert len(split_sentences("این جمله اول است. این جمله دوم است؟", "fa")) == 2


_WORDS = st.sampled_from(
    ["Hej", "kl.", "t.ex.", "Mötet", "14.", "i dag", "جملة", "أولى.", "वाक्य", "है।", "etc.", "J."]
)
_SEPARATORS = st.sampled_from([" ", "  ", ". ", "? ", "! ", "\n", "\n\n", " \t", "... "])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_WORDS, _SEPARATORS), max_size=40),
    st.sampled_from(["sv", "ar", "hi", "fa", "en"]),
)
def test_segmentation_loses_nothing(pieces, lang):
    text = "".join(word + sep for word, sep in pieces)
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S(?:[^\n]*\S)?", text)]
    sentences = segment(text, lang, spans)
    owner = [0] * len(text)
    previous_end = 0
    for s in sentences:
        assert text[s.start : s.end] == s.text and s.text
        assert s.start >= previous_end  # ordered, non-overlapping
        previous_end = s.end
        for k in range(s.start, s.end):
            owner[k] += 1
    # Every non-space character lies in exactly one sentence.
    assert all(owner[k] == 1 for k, c in enumerate(text) if not c.isspace())


def test_unicode_full_stops_end_sentences_in_every_script():
    assert split_sentences("ទៅជា MWPs ។ វាបានកើតឡើងដោយសារតែ។", "km") == [
        "ទៅជា MWPs ។",
        "វាបានកើតឡើងដោយសារតែ។",
    ]
    assert len(split_sentences("ይህ ነው። ያ ነው።", "am")) == 2
    assert len(split_sentences("市议会批准。图书馆将建在车站旁边！", "zh")) == 2


def test_thai_sentences_are_separated_by_spaces():
    text = "โรงเรียนจะปิดจนถึงวันพฤหัสบดี กองทัพได้ส่งเรือไปยังหมู่บ้านที่ได้รับผลกระทบหนักที่สุด"
    assert split_sentences(text, "th") == [
        "โรงเรียนจะปิดจนถึงวันพฤหัสบดี",
        "กองทัพได้ส่งเรือไปยังหมู่บ้านที่ได้รับผลกระทบหนักที่สุด",
    ]


def test_section_numbers_do_not_end_sentences():
    text = "Details are in sections 2.1. input data and 2.2. results. The rate fell."
    assert split_sentences(text, "en") == [
        "Details are in sections 2.1. input data and 2.2. results.",
        "The rate fell.",
    ]
    persian = "جزئیات در بخش‌های ۲٫۱. داده‌ها و ۲٫۲. نتایج آمده است. نرخ کاهش یافت."
    assert len(split_sentences(persian, "fa")) == 2


def test_period_is_an_abbreviation_mark_where_another_full_stop_ends_sentences():
    text = "डॉ. सुनीता राव ने कहा। श्री. मोदी आए।"
    assert split_sentences(text, "hi", marks=frozenset({"."})) == [
        "डॉ. सुनीता राव ने कहा।",
        "श्री. मोदी आए।",
    ]
    # The document decides: its paragraphs end with । and never with a period.
    doc = f"{text}\nदूसरा अनुच्छेद है।"
    assert [s.text for s in segment(doc, "hi", paragraphs(doc))][:2] == [
        "डॉ. सुनीता राव ने कहा।",
        "श्री. मोदी आए।",
    ]


# Burmese written for this test: eight paragraphs end with ။ (U+104B, the full stop); ၊
# (U+104A, Sentence_Terminal in Unicode) separates clauses four times and ends none.
BURMESE = "\n".join(
    [
        "မြို့တော်တွင် မိုးရွာသည်၊ လမ်းများ ရေလွှမ်းသည်။",
        "ကျောင်းများ ပိတ်ထားသည်၊ ဆေးရုံများ ဖွင့်ထားသည်။ ရဲများ ကူညီနေသည်။",
        "အစိုးရက ထုတ်ပြန်ချက်တစ်ခု ထုတ်ပြန်သည်။",
        "ပြည်သူများ၊ ကုန်သည်များနှင့် ကျောင်းသားများ စောင့်ဆိုင်းနေကြသည်။",
        "နောက်ထပ် သတင်းများကို မနက်ဖြန် ကြေညာမည်။",
        "ရထားများ နောက်ကျသည်၊ လေယာဉ်များ ပျံသန်းသည်။",
        "ဈေးများ ဖွင့်ထားသည်။",
        "လူများ အိမ်တွင် နေကြသည်။",
    ]
)


def test_a_sentence_terminal_that_ends_no_paragraph_is_a_clause_mark():
    # Alone, a paragraph gives no evidence: the segmenter cuts after ၊ as Unicode says.
    assert len(split_sentences("မြို့တော်တွင် မိုးရွာသည်၊ လမ်းများ ရေလွှမ်းသည်။", "my")) == 2
    sentences = [s.text for s in segment(BURMESE, "my", paragraphs(BURMESE))]
    # In the document, ၊ never ends a sentence; ။ inside a paragraph still does.
    assert len(sentences) == 9
    assert not any(s.endswith("၊") for s in sentences)
    assert sentences[1:3] == ["ကျောင်းများ ပိတ်ထားသည်၊ ဆေးရုံများ ဖွင့်ထားသည်။", "ရဲများ ကူညီနေသည်။"]


def test_clause_marks_are_learned_from_the_document():
    pieces = [split_sentences(line, "my") for line in BURMESE.split("\n")]
    # ၊ from the statistics; a period, which ends no paragraph where ။ does, marks
    # abbreviations (as in Hindi).
    assert clause_marks(pieces) == {"၊", "."}
    # Too few paragraphs to tell: a question inside a Chinese paragraph still ends a sentence.
    assert len(split_sentences("你好吗？我很好。他来了。", "zh")) == 3
    chinese = "你好吗？我很好。他来了。"
    assert len(segment(chinese, "zh", paragraphs(chinese))) == 3
    # A mark followed by capitals starts sentences, whether or not it ends a paragraph.
    english = "\n".join(["Who pays? The council does.", "Why now? Nobody knows."] * 3)
    assert len(segment(english, "en", paragraphs(english))) == 12


def test_pieces_without_letters_are_not_sentences():
    # Pashto lines end with left-to-right marks after the full stop; a dash opens a quote.
    pashto = "دا خبره بدلېږي.\u200e \u200eله والس څخه وایي.\u200e \u200e"
    assert split_sentences(pashto, "ps") == [
        "دا خبره بدلېږي.",
        "\u200e \u200eله والس څخه وایي.\u200e \u200e",
    ]
    assert split_sentences("Hej! ... Och sen.", "sv") == ["Hej! ...", "Och sen."]


def test_an_abbreviation_ends_a_sentence_before_an_ordinary_word_not_before_a_name():
    # XLM-R's vocabulary: these are more often written in lower case ...
    assert ordinary_word("Sedan") and ordinary_word("The") and ordinary_word("Mais")
    # ... and these capitalised (names).
    assert not ordinary_word("Martin") and not ordinary_word("Adams")
    assert split_sentences("Fruits, vegetables etc. The market closed early.", "en") == [
        "Fruits, vegetables etc.",
        "The market closed early.",
    ]
    assert split_sentences("Des fruits, des légumes etc. Mais le marché a fermé.", "fr") == [
        "Des fruits, des légumes etc.",
        "Mais le marché a fermé.",
    ]
    # A lower-case title or abbreviation before a name goes on.
    for text, lang in [
        ("Razgovarali smo sa g. Adams o tome.", "sr"),
        ("Kostol sv. Martina stojí v centre mesta.", "sk"),
    ]:
        assert split_sentences(text, lang) == [text]
