"""The knowledge base: extraction, chunking, ingestion and hybrid retrieval.

Importing the package is cheap (no database or PDF library): ``funnel knowledge`` is registered
on the root CLI, which also runs where the ``db`` extra is not installed.
"""
