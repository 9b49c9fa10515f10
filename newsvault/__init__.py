"""newsvault's application layer: the command line, crawl orchestration, the daemon, the web
view, export and the demo.

It sits on top of everything else and nothing below imports it::

    newsvault  ->  pipeline  ->  crawler | storage  ->  common

Importing this package is cheap; heavy modules (Scrapy, SQLAlchemy) load only where used.
"""

__all__: list[str] = []
