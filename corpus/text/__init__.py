"""Text stages: documents in, labelled and segmented documents out.

Takes files tables (``tables.READ_SCHEMA``) and gives ``tables.SEGMENTED_SCHEMA``: each
document's language (``identification``, the identify stage, on the identifiers of
``langid``), a mixed file cut into its languages, and its sentences with character offsets
(``segmentation``, the segment stage). ``unicode_scripts`` answers questions about writing
systems from Unicode data, for every stage that needs them.
"""
