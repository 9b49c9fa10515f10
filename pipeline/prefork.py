"""Imported by the extraction forkserver only, last of its preloads: warm up, then freeze.

Extraction workers are forked from the forkserver and share its memory until they write to it.
CPython writes to every object it scans for garbage collection, so within a minute of a crawl
each worker had copied most of the forkserver's heap (all processes together: 239 MiB of PSS
after 2,000 articles, 285 MiB after 4,000, flat after that). One extraction here loads what
the first page would (lazily imported modules, compiled patterns), and ``gc.freeze()`` moves
everything into the permanent generation that collections never scan, so it stays shared.
(Python's gc documentation recommends exactly this before forking.)

First of all, the forkserver asks to die with the crawl (:func:`common.procs.die_with_parent`).
"""

from __future__ import annotations

import gc

from common.procs import die_with_parent
from pipeline.extract_worker import warm_up

die_with_parent()  # the crawl may be SIGKILLed: the forkserver (and so its workers) goes with it
warm_up()
gc.collect()
gc.freeze()
