"""Output stages: beads in, the dataset out.

``rows`` turns beads into pair and multi-way rows (``tables.bead_table``), ``filters`` (the
filter stage; every filter declared once in ``filters.FILTERS``) keeps the good ones,
``writing`` writes Parquet shards, ``card`` and ``figures`` the dataset card, and ``folder``
swaps the whole output folder in atomically. ``showing`` and ``exports`` read a finished
build (``corpus show``, ``corpus export``); ``splits`` rewrites one as train, validation and
test by article (``corpus split``); ``contamination`` finds the rows holding a test set's
sentences (``corpus check``).
"""
