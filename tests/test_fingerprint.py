"""The fast fingerprint and simhash give exactly the values of their plain definitions.

Archives keep these values (``articles.text_hash``, ``articles.simhash``), so a faster
implementation must never change them: old articles would stop matching new fetches.
"""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from common.fingerprint import (
    _COUNTER,
    _NON_WORD,
    _RELATIVE,
    MIN_SIMHASH_WORDS,
    normalise_text,
    simhash,
    text_fingerprint,
    text_hashes,
)


def plain_normalise(text: str) -> str:
    text = _RELATIVE.sub(" ", text)
    text = _COUNTER.sub(" ", text)
    return _NON_WORD.sub(" ", text.casefold()).strip()


def plain_simhash(text: str) -> int | None:
    """The definition: bit k is the majority of bit k over the shingles' blake2b-64 hashes."""
    words = plain_normalise(text).split()
    if len(words) < MIN_SIMHASH_WORDS:
        return None
    shingles = [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    hashes = [
        int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big")
        for s in shingles
    ]
    value = 0
    for k in range(64):
        if sum(h >> k & 1 for h in hashes) * 2 > len(hashes):
            value |= 1 << k
    return value - (1 << 64) if value >= 1 << 63 else value


VOCAB = (
    "the council said on Tuesday that 4.9 per cent of homes ago now just Updated 5 minutes "
    "ago 12 comments 1.2k views a few hours ago one share of ſtraße Über élan 東京 — 3 likes "
    "JUST NOW posted an hour ago minister budget rain, flood; (quoted) \"words\" it's 2026"
).split()


def texts() -> list[str]:
    rng = random.Random(11)
    out = [
        "Updated 5 minutes ago. Rain! 12 comments",
        "Nothing relative here, and no digits at all in this sentence.",
        "just now",
        "",
    ]
    for n in (10, 39, 40, 41, 120, 900, 3000):
        for _ in range(4):
            out.append(" ".join(rng.choice(VOCAB) for _ in range(n)))
    return out


@pytest.mark.parametrize("text", texts())
def test_values_equal_the_plain_definitions(text: str) -> None:
    assert normalise_text(text) == plain_normalise(text)
    assert simhash(text) == plain_simhash(text)
    assert text_hashes(text) == (text_fingerprint(text), simhash(text))
    assert text_fingerprint(text) == hashlib.sha256(plain_normalise(text).encode()).hexdigest()


def test_hint_skips_only_texts_the_patterns_cannot_match() -> None:
    # the prefilter must be a necessary condition of every match of the full patterns
    for text in ["2 hours AGO", "posted just\tnow.", "JUST\nNOW", "one day ago", "5 shares"]:
        assert normalise_text(text) == plain_normalise(text)
        assert re.sub(r"\s+", " ", normalise_text(text)) != _NON_WORD.sub(
            " ", text.casefold()
        ).strip()
