"""Search over the operation catalog: the index (index.py), what a query asks for (intent.py), and
the words developers use for operations (vocabulary.py)."""
