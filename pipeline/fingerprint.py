"""What counts as "the same text": the one normalisation behind dedupe and the revision test.

- :func:`normalise_text` folds case, punctuation and white space away and drops the parts of a
  page that change without the article changing: relative times ("5 minutes ago", "updated
  2 hours ago", "just now") and counters ("123 comments", "4 shares", "1.2k views").
- :func:`text_fingerprint` is the sha256 of that: equal fingerprints mean the same article text,
  and a re-fetch whose fingerprint (or title, by :func:`normalise_title`) differs is a revision.
- :func:`simhash` is a 64-bit similarity hash over word shingles of the normalised text; two
  texts whose simhashes differ in at most a few bits (:func:`hamming`) are near-duplicates.
  :func:`simhash_bands` cuts it into 4 bands of 16 bits: texts within Hamming distance 3 share at
  least one band (pigeonhole), so candidates can be found with an index lookup per band.

Example::

    text_fingerprint("Updated 5 minutes ago. Rain!") == text_fingerprint("rain")  # True
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "MAX_BAND_DISTANCE",
    "MIN_SIMHASH_WORDS",
    "hamming",
    "normalise_text",
    "normalise_title",
    "simhash",
    "simhash_bands",
    "text_fingerprint",
]

#: texts shorter than this (in words) get no simhash: too few shingles to compare safely.
MIN_SIMHASH_WORDS = 40
#: the largest Hamming distance the 4x16-bit band index is guaranteed to find.
MAX_BAND_DISTANCE = 3
_SHINGLE = 3
_MASK64 = (1 << 64) - 1

_NUM = r"(?:\d+(?:[.,]\d+)*\s*[kKmM]?|a|an|one|a\s+few)"
_UNIT = r"(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|weeks?|months?|years?)"
_RELATIVE = re.compile(
    rf"\b(?:(?:updated|posted|published|edited)\s+)?{_NUM}\s+{_UNIT}\s+ago\b"
    r"|\b(?:(?:updated|posted|published|edited)\s+)?just\s+now\b",
    re.IGNORECASE,
)
_COUNTER = re.compile(  # digits only: "a share of the profits" is text, not a counter
    r"\b\d+(?:[.,]\d+)*\s*[kKmM]?\s+(?:comments?|shares?|likes?|views?|reads?|reactions?|replies|reply|votes?"
    r"|retweets?|reposts?)\b",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(text: str) -> str:
    """Case-folded words separated by single spaces, without relative times and counters."""
    text = _RELATIVE.sub(" ", text)
    text = _COUNTER.sub(" ", text)
    return _NON_WORD.sub(" ", text.casefold()).strip()


def normalise_title(title: str | None) -> str:
    """A title compared for the revision test: white space collapsed, nothing else changed."""
    return " ".join((title or "").split())


def text_fingerprint(text: str) -> str:
    """sha256 (hex) of :func:`normalise_text`."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def simhash(text: str) -> int | None:
    """64-bit simhash of the word 3-shingles of the normalised text, as a signed 64-bit integer
    (so it fits a database BIGINT); None when the text has fewer than MIN_SIMHASH_WORDS words."""
    words = normalise_text(text).split()
    if len(words) < MIN_SIMHASH_WORDS:
        return None
    n = len(words) - _SHINGLE + 1
    bits = [f"{_hash64(' '.join(words[i : i + _SHINGLE])):064b}" for i in range(n)]
    # column i of the bit strings is bit 63-i of every shingle hash: a bit is set in the
    # simhash when more than half of the shingles have it
    columns = zip(*bits, strict=True)
    value = int("".join("1" if col.count("1") * 2 > n else "0" for col in columns), 2)
    return value - (1 << 64) if value >= 1 << 63 else value


def _hash64(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big")


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit simhashes."""
    return ((a ^ b) & _MASK64).bit_count()


def simhash_bands(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of a simhash, low to high."""
    u = value & _MASK64
    return (u & 0xFFFF, u >> 16 & 0xFFFF, u >> 32 & 0xFFFF, u >> 48 & 0xFFFF)
