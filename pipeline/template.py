"""Per-source template learning: a line that recurs on many pages of one source is template.

A newsletter box, a standard disclaimer or "Follow us on ..." appears on every page of a site;
article sentences do not. :func:`learn_template` takes the extracted texts of several pages of
one source and returns the normalised lines seen on enough *different* pages. Feed the result to
``ExtractOptions(template_lines=...)``; storing it per source is the caller's business.

A line found on only one page is never template, whatever the thresholds.

Example::

    lines = learn_template([a.text for a in recent_articles_of_source])
    opts = ExtractOptions(template_lines=lines)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pipeline.clean import norm_line

__all__ = ["learn_template"]


def learn_template(
    texts: Iterable[str],
    *,
    min_pages: int = 3,
    min_share: float = 0.3,
    max_words: int = 60,
) -> frozenset[str]:
    """Normalised lines that occur on at least ``min_pages`` pages and at least ``min_share`` of
    the pages given. Lines longer than ``max_words`` words are never template (a long paragraph
    repeated across pages is more likely a syndicated or updated story than site furniture)."""
    counts: Counter[str] = Counter()
    pages = 0
    for text in texts:
        pages += 1
        seen = {norm_line(line) for line in text.splitlines()}
        counts.update(n for n in seen if n and len(n.split()) <= max_words)
    need = max(2, min_pages, int(min_share * pages + 0.999))
    return frozenset(line for line, c in counts.items() if c >= need)
