"""What a language code says, from CLDR: its base language and BCP 47 form, whether two
languages are close neighbours, and the letters a language is written with.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import langcodes

# Languages this close in CLDR's language-matching data (the smaller direction) are
# neighbours whose sentences a detector confuses: da/nb 12, nb/nn 20, hr/bs 8, hr/sr 59,
# cs/sk 24, ms/id 14, fa/prs 4, hi/mr 30, zh-Hans/zh-Hant 54; unrelated languages are 84
# or more.
_CLOSE_DISTANCE = 60


@cache
def language_letters(lang: str) -> frozenset[str] | None:
    """The letters (and marks) a language is written with, both cases, as CLDR spells its own
    names of languages, countries, months and days (babel's locale data); None when CLDR
    has no locale for it. Used to tell a right decoding from mojibake: a wrong code page puts
    letters in the text that the language does not use."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(base_language(lang))
    except (UnknownLocaleError, ValueError):
        return None
    names = [
        *locale.languages.values(),
        *locale.territories.values(),
        *locale.months["format"]["wide"].values(),
        *locale.days["format"]["wide"].values(),
    ]
    text = "".join(names)
    both = text + text.upper() + text.lower()
    letters = {c for c in both if c.isalpha() or unicodedata.category(c).startswith("M")}
    return frozenset(letters) or None


def bcp47(lang: str) -> str:
    """The BCP 47 tag of a language code of this package (``zh_Hant`` -> ``zh-Hant``)."""
    return lang.replace("_", "-")


def base_language(lang: str) -> str:
    """The language subtag (``zh_Hant`` -> ``zh``), for per-language tools."""
    return langcodes.Language.get(bcp47(lang)).language or lang


def close_languages(la: str, lb: str) -> bool:
    """True for neighbours by CLDR language matching (see ``_CLOSE_DISTANCE``)."""
    a, b = bcp47(la), bcp47(lb)
    distance = min(langcodes.tag_distance(a, b), langcodes.tag_distance(b, a))
    return distance <= _CLOSE_DISTANCE
