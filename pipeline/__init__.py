"""newsvault's processing side: extraction, cleaning, item pipelines, orchestration, CLI, scheduler.

Importing this package is cheap; heavy modules (Scrapy, trafilatura) load only where used.
"""

__all__: list[str] = []
