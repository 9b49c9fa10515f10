"""The read-only web view of the archive (``newsvault serve``): see :mod:`pipeline.web.app`."""

from pipeline.web.app import ArchiveApp, make_server

__all__ = ["ArchiveApp", "make_server"]
