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
    "text_hashes",
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
# Every match of _RELATIVE contains one of these: texts without them skip its costly scan.
_RELATIVE_HINT = re.compile(r"ago\b|just\s+now\b", re.IGNORECASE)
_COUNTER_HINT = re.compile(r"\d")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_text(text: str) -> str:
    """Case-folded words separated by single spaces, without relative times and counters."""
    if _RELATIVE_HINT.search(text):
        text = _RELATIVE.sub(" ", text)
    if _COUNTER_HINT.search(text):
        text = _COUNTER.sub(" ", text)
    return _NON_WORD.sub(" ", text.casefold()).strip()


def normalise_title(title: str | None) -> str:
    """A title compared for the revision test: white space collapsed, nothing else changed."""
    return " ".join((title or "").split())


def text_fingerprint(text: str) -> str:
    """sha256 (hex) of :func:`normalise_text`."""
    return _sha256(normalise_text(text))


def simhash(text: str) -> int | None:
    """64-bit simhash of the word 3-shingles of the normalised text, as a signed 64-bit integer
    (so it fits a database BIGINT); None when the text has fewer than MIN_SIMHASH_WORDS words.

    Bit k is set when more than half of the shingles' 64-bit blake2b hashes have bit k set."""
    return _simhash(normalise_text(text))


def text_hashes(text: str) -> tuple[str, int | None]:
    """(:func:`text_fingerprint`, :func:`simhash`) of ``text``, normalising it once."""
    norm = normalise_text(text)
    return _sha256(norm), _simhash(norm)


def _sha256(norm: str) -> str:
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


# byte value -> its 8 bits spread into 8 counters of 32 bits each (bit t at 32*t), so adding
# these numbers counts, for each bit position of a byte, how many bytes had it set
_SPREAD = tuple(sum(((b >> t) & 1) << (32 * t) for t in range(8)) for b in range(256))
_FIELD = (1 << 32) - 1


def _simhash(norm: str) -> int | None:
    words = norm.split()
    if len(words) < MIN_SIMHASH_WORDS:
        return None
    n = len(words) - _SHINGLE + 1
    if n >= _FIELD:  # cannot happen below 4 billion words; keeps the counters exact
        raise ValueError("text too long for a simhash")
    spread, blake2b = _SPREAD, hashlib.blake2b
    # c0 counts the bits of each hash's first (most significant) byte, ..., c7 of its last
    c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = 0
    for shingle in map(" ".join, zip(words, words[1:], words[2:], strict=False)):
        d = blake2b(shingle.encode("utf-8"), digest_size=8).digest()
        c0 += spread[d[0]]
        c1 += spread[d[1]]
        c2 += spread[d[2]]
        c3 += spread[d[3]]
        c4 += spread[d[4]]
        c5 += spread[d[5]]
        c6 += spread[d[6]]
        c7 += spread[d[7]]
    value = 0
    for j, counts in enumerate((c0, c1, c2, c3, c4, c5, c6, c7)):
        for t in range(8):
            if (counts >> (32 * t) & _FIELD) * 2 > n:
                value |= 1 << (8 * (7 - j) + t)
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit simhashes."""
    return ((a ^ b) & _MASK64).bit_count()


def simhash_bands(value: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of a simhash, low to high."""
    u = value & _MASK64
    return (u & 0xFFFF, u >> 16 & 0xFFFF, u >> 32 & 0xFFFF, u >> 48 & 0xFFFF)
