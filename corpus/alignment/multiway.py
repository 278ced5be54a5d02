"""Multi-way beads: the pairwise alignments of an article's files tied into tuples of
sentences, one side per language, where every pair of languages agrees.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from corpus.records import Bead, MultiBead


def multiway(pair_beads: dict[tuple[str, str], list[Bead]]) -> list[MultiBead]:
    """Join pairwise alignments of one article into multi-way tuples.

    Sentences linked by any pairwise bead form connected components. A component
    is kept when it is consistent: for every two of its languages, the beads
    between them inside the component cover exactly its sentences of both (for
    three languages, the triangle closes), so an error in one pair cannot chain
    unrelated sentences together.
    """
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def root(node: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for (la, lb), beads in pair_beads.items():
        for bead in beads:
            if not bead.src or not bead.tgt:
                continue
            nodes = [(la, i) for i in bead.src] + [(lb, j) for j in bead.tgt]
            for node in nodes[1:]:
                parent[root(node)] = root(nodes[0])
    components: dict[tuple[str, int], dict[str, list[int]]] = {}
    for node in sorted(parent):
        components.setdefault(root(node), {}).setdefault(node[0], []).append(node[1])
    # Per component and language pair: the sentences its beads cover, and their scores.
    covered: dict[tuple[str, int], dict[tuple[str, str], tuple[set, set, list[float]]]] = {}
    for (la, lb), beads in pair_beads.items():
        for bead in beads:
            if bead.src and bead.tgt:
                by_pair = covered.setdefault(root((la, bead.src[0])), {})
                src, tgt, scores = by_pair.setdefault((la, lb), (set(), set(), []))
                src.update(bead.src)
                tgt.update(bead.tgt)
                scores.append(bead.score)
    tuples = []
    for key, members in components.items():
        langs = sorted(members)
        pairs = covered.get(key, {})
        consistent = len(langs) >= 2 and all(
            pair in pairs
            and pairs[pair][0] == set(members[pair[0]])
            and pairs[pair][1] == set(members[pair[1]])
            for pair in combinations(langs, 2)
        )
        if not consistent:
            continue
        scores = [s for _, _, values in pairs.values() for s in values]
        tuples.append(
            MultiBead(
                {lang: tuple(sorted(members[lang])) for lang in langs}, float(np.mean(scores))
            )
        )
    # Document order: by first sentence in each language, languages alphabetically.
    all_langs = sorted({lang for pair in pair_beads for lang in pair})
    tuples.sort(key=lambda t: [t.ids.get(lang, (1 << 30,))[0] for lang in all_langs])
    return tuples
