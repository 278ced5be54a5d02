"""Input stages: the input folder in, documents out.

Takes a folder (or a ``pyarrow.fs`` URI, or a Hugging Face dataset in the local cache) and
gives the files table of ``tables.READ_SCHEMA``: one row per document, decoded and
NFC-normalised, with its paragraphs, URL, title, date and declared language, or with the
reason it was skipped. ``listing`` (the list stage) chooses the files, ``reading`` (the read
stage) reads them, ``decoding`` turns bytes into text, ``extraction`` gets records out of
HTML, WARC and JSONL/Parquet dumps, ``url_matching`` pairs documents by their URLs.
"""
