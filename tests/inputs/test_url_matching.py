"""Document-alignment candidates from URLs and hreflang links."""

from __future__ import annotations

import pytest

from corpus.inputs.url_matching import language_neutral_url, normalise_url, url_candidates


@pytest.mark.parametrize(
    ("url", "lang", "key"),
    [
        ("https://news.example/en/world/budget", "en", "news.example/world/budget"),
        ("https://www.news.example/fr-ca/world/budget/", "fr", "news.example/world/budget"),
        ("https://de.news.example/world/budget", "de", "news.example/world/budget"),
        (
            "http://news.example/world/budget?lang=sv&page=2",
            "sv",
            "news.example/world/budget?page=2",
        ),
        ("https://news.example/world/budget-fra.html", "fr", "news.example/world/budget.html"),
        ("https://news.example/world/budget_ES.html", "es", "news.example/world/budget.html"),
        ("https://news.example/nb/verden", "nb", "news.example/verden"),
    ],
)
def test_the_pages_own_language_code_is_removed_wherever_it_is(url, lang, key):
    assert language_neutral_url(url, lang) == key


def test_other_codes_and_words_stay():
    # "/it/" is a code only on an Italian page; "news" and "2024" are never codes.
    assert language_neutral_url("https://x.example/it/news/2024", "en") == "x.example/it/news/2024"
    assert language_neutral_url("https://x.example/it/news/2024", "it") == "x.example/news/2024"


def test_normalised_urls_ignore_scheme_www_fragment_slash_and_query_order():
    assert normalise_url("HTTP://www.X.example/a/?b=2&a=1#top") == normalise_url(
        "https://x.example/a?a=1&b=2"
    )


def test_url_candidates_from_language_free_keys_and_hreflang():
    urls = [
        "https://site.example/en/budget",  # 0
        "https://site.example/fr/budget",  # 1
        "https://site.example/de/budget",  # 2
        "https://site.example/en/museum",  # 3
        "https://other.example/sv/museet",  # 4: a different URL scheme, linked by hreflang
        None,  # 5: a plain file
        "https://site.example/en/",  # 6: section fronts share a key across two pages ...
        "https://site.example/en",  # 7: ... (same language): no candidate from them
        "https://site.example/fr/",  # 8
    ]
    langs = ["en", "fr", "de", "en", "sv", "en", "en", "en", "fr"]
    alternates = [(), (), (), [("sv", "https://other.example/sv/museet/")], (), (), (), (), ()]
    assert url_candidates(urls, langs, alternates) == {(0, 1), (0, 2), (1, 2), (3, 4)}


def test_no_metadata_no_candidates():
    assert url_candidates([None, None], ["en", "fr"]) == set()
