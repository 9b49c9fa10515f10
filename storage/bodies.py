"""How raw page bodies are stored: content-addressed by sha256, zlib-compressed.

Pure functions, no SQL: an extraction worker packs a body with :func:`pack_body` and hands it
over as a :class:`PackedBody`, so the writer does not compress in the crawling process.
"""

from __future__ import annotations

import hashlib
import zlib

__all__ = ["ZLIB_LEVEL", "PackedBody", "pack_body"]

# Level 3 costs half the CPU of the default 6 for bodies about 7% larger (news pages, 55 KiB raw:
# 11.5 KiB against 10.7 KiB); reading back is the same at any level.
ZLIB_LEVEL = 3


def pack_body(body: bytes) -> tuple[str, bytes]:
    """The sha256 hex digest and the zlib-compressed form of ``body``, as the archive keeps it."""
    return hashlib.sha256(body).hexdigest(), zlib.compress(body, ZLIB_LEVEL)


class PackedBody(bytes):
    """Raw body bytes that carry their :func:`pack_body` result, computed elsewhere.

    Example::

        digest, zdata = pack_body(raw)          # in a worker process
        body = PackedBody(raw, digest, zdata)   # FetchRecord(body=body, ...)
    """

    sha256: str
    zdata: bytes

    def __new__(cls, raw: bytes, sha256: str, zdata: bytes) -> PackedBody:
        obj = super().__new__(cls, raw)
        obj.sha256 = sha256
        obj.zdata = zdata
        return obj

    def packed(self) -> tuple[str, bytes]:
        return self.sha256, self.zdata
