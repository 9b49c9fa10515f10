"""``newsvault serve``: the read-only web view of the archive (see :mod:`newsvault.web.app`)."""

from __future__ import annotations

import ipaddress
import logging
import sys
from typing import TYPE_CHECKING

import click

from common.dburl import mask_url
from common.errors import StorageError
from newsvault.cli.common import EXIT_CONFIG, EXIT_STORAGE, config_option, fail

if TYPE_CHECKING:
    from common.config import Config

__all__ = ["serve"]


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may well resolve to a public address


@click.command()
@config_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="ADDRESS",
    help="address to listen on (anything but loopback publishes the archive: a warning says so)",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    metavar="PORT",
    help="port (0: any free port)",
)
def serve(config: Config, host: str, port: int) -> None:
    """Serve a read-only web view of the archive: search, reading pages, revisions, runs.

    Pages work without JavaScript; JSON for the same data is under /api/. The archive is opened
    read-only. The server is waitress; one access log line per request goes to stderr. Any
    --host but a loopback address publishes the archive to whoever can reach it (a warning
    says so). Stop with Ctrl-C.

    Example:

        newsvault serve --port 8080
    """
    from newsvault.web.app import ArchiveApp, make_server
    from storage.repository import Archive

    if not _is_loopback(host):
        click.echo(
            f"newsvault: warning: --host {host} is not a loopback address: the archive is "
            "published to every network that can reach it, with no login",
            err=True,
        )
    access = logging.getLogger("newsvault.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    try:
        archive = Archive.open(config.database, readonly=True)
    except StorageError as exc:
        fail(str(exc), EXIT_STORAGE)
    try:
        server = make_server(ArchiveApp(archive.engine), host, port, access)
    except OSError as exc:
        archive.close()
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", EXIT_CONFIG)
    where = f"http://{host}:{server.server_port}/"
    click.echo(f"newsvault: serving {mask_url(config.database)} on {where}", err=False)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        archive.close()
