import numpy as np

from corpus.embedding import normalise
from corpus.grouping import ArticleFile, group_articles, near_duplicates, translation_score


def test_sample_groups_000_003_004_and_leaves_001_002_alone(sample_files):
    keys = sorted(sample_files)
    files = [ArticleFile(k, sample_files[k].lang, sample_files[k].embeddings) for k in keys]
    ids = dict(zip(keys, group_articles(files).article_ids, strict=True))
    assert ids["000"] is not None
    assert ids["000"] == ids["003"] == ids["004"]
    assert ids["001"] is None
    assert ids["002"] is None


def test_translation_score_separates_translations_from_related_articles(sample_files):
    e = {k: f.embeddings for k, f in sample_files.items()}
    translations = [translation_score(e["000"], e["003"]), translation_score(e["003"], e["004"])]
    related = [translation_score(e["001"], e["002"]), translation_score(e["000"], e["002"])]
    assert min(translations) > 0.8
    assert max(related) < 0.4


def synthetic_docs(
    n_articles: int, langs: list[str], seed: int = 0, offset: float = 0.0
) -> list[ArticleFile]:
    """Each article: 10 random 'meanings'; each language renders them with noise, plus a
    random vector of norm about ``offset`` * 7 shared by all its sentences."""
    rng = np.random.default_rng(seed)
    shift = {
        lang: offset * np.random.default_rng([seed, k]).normal(size=48)
        for k, lang in enumerate(langs)
    }
    files = []
    for a in range(n_articles):
        meanings = rng.normal(size=(10, 48))
        for lang in langs:
            emb = meanings + shift[lang] + 0.3 * rng.normal(size=meanings.shape)
            files.append(ArticleFile(f"{a}-{lang}", lang, normalise(emb).astype(np.float32)))
    return files


def test_many_articles_one_file_per_language_each():
    files = synthetic_docs(60, ["ar", "hi", "sv"])
    ids = group_articles(files).article_ids
    for a in range(60):
        members = {ids[k] for k, f in enumerate(files) if f.key.startswith(f"{a}-")}
        assert len(members) == 1 and None not in members
    assert len(set(ids)) == 60


def test_two_files_of_one_language_never_share_an_article():
    files = synthetic_docs(1, ["ar", "sv"])
    # A second Swedish copy of the same article: only one of the two may join.
    files.append(ArticleFile("copy-sv", "sv", files[1].embeddings.copy()))
    ids = group_articles(files).article_ids
    assert ids[0] is not None
    assert [ids[1], ids[2]].count(ids[0]) == 1


def test_near_duplicates_within_a_language_keep_the_first(sample_files):
    e = {k: f.embeddings for k, f in sample_files.items()}
    t = {k: " ".join(s.text for s in f.sentences) for k, f in sample_files.items()}
    cut = [s.text for k, s in enumerate(sample_files["003"].sentences) if k not in (5, 10)]
    edited = np.delete(e["003"], [5, 10], axis=0)  # the Swedish article with two sentences cut
    files = [
        ArticleFile("000", "ar", e["000"], t["000"]),
        ArticleFile("001", "ar", e["001"], t["001"]),  # another Arabic article: not a copy
        ArticleFile("003", "sv", e["003"], t["003"]),
        ArticleFile("003-edited", "sv", edited, " ".join(cut)),
        ArticleFile("004", "hi", e["004"], t["004"]),  # a translation of 003: another language
    ]
    copies = near_duplicates(files)
    assert [(c.a, c.b) for c in copies] == [(3, 2)]
    assert copies[0].score > 0.9


def test_same_meaning_in_other_words_is_not_a_near_duplicate(sample_files):
    # Two Swedish files whose sentences match one to one in meaning but share few words
    # (like two short psalms of one genre): not copies of each other.
    f = sample_files["003"]
    text = " ".join(s.text for s in f.sentences)
    other = " ".join(reversed(text.split()))  # same words, no shared word trigrams in order
    files = [
        ArticleFile("a", "sv", f.embeddings, text),
        ArticleFile("b", "sv", f.embeddings, other),
    ]
    assert near_duplicates(files) == []


def _noisy(emb: np.ndarray, rng: np.random.Generator, noise: float = 0.3) -> np.ndarray:
    return normalise(emb + noise * rng.normal(size=emb.shape))


def test_a_short_text_does_not_match_a_long_one_that_contains_it():
    # Four sentences that a 45-sentence document also "says" score at most 4 / 22.5.
    rng = np.random.default_rng(1)
    long_doc = normalise(rng.normal(size=(45, 64)))
    short = _noisy(long_doc[10:14], rng)
    assert translation_score(short, long_doc) < 0.2
    # Half the length still scores as an abridged rendering.
    assert translation_score(_noisy(long_doc[::2], rng), long_doc) > 0.8


def test_repeated_sentences_do_not_break_the_chain():
    # A refrain repeated through a text with small changes (a name, a day): each repeat
    # matches all of them about equally.
    rng = np.random.default_rng(2)
    refrain = normalise(rng.normal(size=(1, 64)))
    doc = normalise(rng.normal(size=(40, 64)))
    doc[1::2] = _noisy(np.repeat(refrain, 20, axis=0), rng, 0.02)
    translation = _noisy(doc, rng, 0.05)
    assert translation_score(doc, translation) > 0.9  # 0.825 with strict mutual argmax


def test_candidates_see_past_a_strong_language_component():
    # Every sentence of a language carries the same large offset (as real encoders do),
    # and each article is near its translation only in what it says. Uncentred document
    # vectors rank files by how their topic leans toward the other language's offset, so
    # with two candidates per file most translations are never compared.
    files = synthetic_docs(40, ["ar", "sv"], offset=1.5)
    ids = group_articles(files, candidates=2).article_ids
    assert None not in ids
    assert ids[0::2] == ids[1::2]
