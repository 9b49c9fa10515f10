"""The read-only web view of the archive (``newsvault serve``): see :mod:`newsvault.web.app`."""

from newsvault.web.app import ArchiveApp, make_server

__all__ = ["ArchiveApp", "make_server"]
