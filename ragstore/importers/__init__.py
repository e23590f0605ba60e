"""Importers: documents from elsewhere into a vector store, idempotently.

Every imported unit (a file, a JSON document, a ChromaDB record, a CSV row) becomes one file of the store, attached
with its attributes, and one row of `imported_files` that names its source (a stable key) and fingerprints what was
imported. Running an import again skips what is unchanged and replaces what changed.

- files.py: a folder of files, through the normal pipeline (jobs, workers).
- jsondocs.py, chroma.py, csvrows.py: records written straight into the store (records.py), their chunks
  embedded here in large batches, or their embeddings reused (ChromaDB, when its model is the store's).
"""
