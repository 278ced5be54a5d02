"""Alignment stages: embedded files in, articles and beads out.

Document alignment (the group stage, ``grouping``): ``candidates`` proposes which files of
other languages each file is compared with, ``evidence`` turns what two files share into a
calibrated probability that they translate each other, ``near_duplicates`` sets copies and
damaged copies apart, ``grouping`` assembles articles (``records.Grouping``). Sentence
alignment (the align stage, ``article_alignment``): every pair of files of an article through
``sentence_alignment`` (the passes) and ``dp`` (the DP core), giving the beads table
(``tables.BEADS_SCHEMA``); ``multiway`` ties pairwise beads into tuples. ``file_alignment``
is ``corpus align``; ``evaluation`` scores alignments against gold.
"""
