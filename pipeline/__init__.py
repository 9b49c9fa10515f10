"""newsvault's processing side: extraction and cleaning (:mod:`pipeline.extract` is the one
entry point), the extraction worker processes, and the Scrapy item pipelines
(Extract -> Dedupe -> Store). It sits above crawler/ and storage/; the application
(``newsvault``) sits above it.

Importing this package is cheap; heavy modules (Scrapy, trafilatura) load only where used.
"""

__all__: list[str] = []
