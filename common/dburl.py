"""The database URL: shown with its password masked, and checked before anything connects.

:func:`mask_url` is the one way any message shows a database URL: well-formed or not, the
password between ``user:`` and ``@`` becomes ``***``. :func:`check_database_url` tells, in one
line that never holds the password, what is wrong with a URL that SQLAlchemy could not open: not
a URL, an unknown kind of database, or a driver that is not installed. The config validates
``database`` with it (a bad URL is a config error, exit status 2), and the archive API checks
it again for URLs that come from code.

Example::

    mask_url("postgresql://news:S3cret@db.example/news")  # 'postgresql://news:***@db.example/news'
"""

from __future__ import annotations

__all__ = ["check_database_url", "mask_url"]

_SUPPORTED = "sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB"


def mask_url(url: str) -> str:
    """``url`` with the password of its user part replaced by ``***`` (any text: a malformed URL
    is masked as well as it can be, hiding too much rather than too little)."""
    at = url.rfind("@")
    if at < 0:
        return url
    start = url.find("//")
    start = start + 2 if 0 <= start < at else 0
    user, sep, _password = url[start:at].partition(":")
    if not sep:
        return url
    return f"{url[:start]}{user}:***{url[at:]}"


def check_database_url(url: str) -> None:
    """Raise ValueError, one line with the URL masked, unless SQLAlchemy can open ``url``: it
    parses, names a known database, and its driver is installed. Connects to nothing."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = mask_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ValueError(f"not a database URL: {shown!r} (expected {_SUPPORTED})") from None
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise ValueError(
            f"unknown database kind {parsed.drivername!r} in {shown!r} (expected {_SUPPORTED})"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        driver = parsed.get_driver_name()
        if parsed.get_backend_name() != "postgresql":
            hint = f"pip install {exc.name or driver}"
        elif driver == "psycopg":
            hint = "pip install newsvault[postgres]"
        else:
            hint = f"pip install {exc.name or driver}, or pip install newsvault[postgres] and use "
            hint += "postgresql+psycopg://"
        raise ValueError(
            f"the database driver {driver} is not installed, needed for {shown!r}: {hint}"
        ) from None
