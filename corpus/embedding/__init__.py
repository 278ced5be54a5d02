"""Embedding stages: sentences in, unit vectors out.

Takes segmented files tables and gives ``tables.embedded_schema(dim)`` (the embed stage,
``embed``), through the embedding store (``store``) so that no sentence is embedded twice.
``encoder`` is the one interface to a model (the bundled multilingual-e5-small, converted
once by ``conversion``, or any sentence-transformers model).
"""
