"""Shared primitives of every newsvault package: errors, URL canonicalisation, dates, the typed
config, text fingerprints and page decoding.

This is the leaf: it imports no other newsvault package, and every other package may import it.
"""

__all__: list[str] = []
