"""Writing config.yaml: the starter file of ``newsvault init``, and adding or removing a source
with its comments and layout kept (ruamel.yaml's round trip, not a rewrite).

Reading and validating stays with :func:`common.config.load_config`; every change here is
validated by :func:`common.config.parse_config` before the file is replaced (atomically).

Example::

    add_source(Path("config.yaml"), {"name": "gazette", "feeds": ["https://example.com/feed"]})
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from common.config import parse_config, read_config_text
from common.errors import ConfigError

__all__ = ["STARTER_CONFIG", "add_source", "remove_source", "write_starter"]

STARTER_CONFIG = """\
# newsvault configuration. Every key is documented in docs/config.md; unknown keys are errors.
# A relative sqlite path is relative to this file. ${VAR} takes a value from the environment.
# Editors can complete keys from docs/config.schema.json.

# Where the archive lives: a SQLite file, or postgresql+psycopg://user@host/db
database: sqlite:///newsvault.db

crawl:
  user_agent: "newsvault/0.1 (+https://github.com/newsvault/newsvault)"
  obey_robots: true
  concurrency_per_domain: 4
  download_delay: 0.25          # seconds between requests to one domain
  max_pages_per_run: 5000       # article pages per source per run
  allow_private_networks: false # loopback/private/link-local targets are refused unless true

daemon:
  timezone: UTC
  default_schedule: "0 * * * *" # cron: for sources without their own schedule
  jitter: 60                    # seconds of random delay so sources do not all fire at once

# The sites to archive. Add one by its home page (feeds and sitemaps are found for you):
#   newsvault sources add https://www.example.com --schedule "*/30 * * * *"
# or by hand:
#   - name: example-news
#     feeds: [https://www.example.com/rss.xml]
#     sitemaps: [https://www.example.com/sitemap_index.xml]
#     start_urls: [https://www.example.com/]
#     schedule: "*/30 * * * *"
sources: []
"""


def write_starter(path: Path) -> None:
    """Write the starter config to ``path``; raises ConfigError if the file exists."""
    try:
        with path.open("x", encoding="utf-8") as f:
            f.write(STARTER_CONFIG)
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; not overwritten") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None


def _yaml(text: str) -> tuple[Any, Any]:
    """A round-trip YAML instance set to the file's own indentation, and the loaded document."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        _, sequence, offset = load_yaml_guess_indent(text)
    except YAMLError:
        sequence, offset = 4, 2
    if sequence is None or offset is None:  # no block sequence to learn from: the starter's
        sequence, offset = 4, 2
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 100
    yaml.indent(
        mapping=max(sequence - offset, 2), sequence=max(sequence, offset + 2), offset=offset
    )
    try:
        doc = yaml.load(text)
    except YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}") from None
    return yaml, doc


def _read(path: Path) -> tuple[Any, Any]:
    text = read_config_text(path, "run `newsvault init` first, or give --config PATH")
    try:
        return _yaml(text)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _write(path: Path, yaml: Any, doc: Any) -> None:
    buf = io.StringIO()
    yaml.dump(doc, buf)
    text = buf.getvalue()
    from ruamel.yaml import YAML

    parse_config(YAML(typ="safe").load(text), path)  # raises ConfigError: nothing written
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_source(path: Path, source: dict[str, Any]) -> None:
    """Append ``source`` to the ``sources:`` list of the config file at ``path``, keeping the
    rest of the file as it is. Raises ConfigError if a source of that name exists or the result
    would not be a valid config (the file is then unchanged)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml, doc = _read(path)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    sources = doc.get("sources")
    if sources is None:
        sources = doc["sources"] = CommentedSeq()
    if not isinstance(sources, list):
        raise ConfigError(f"{path}: sources: must be a list")
    if any(isinstance(s, dict) and s.get("name") == source["name"] for s in sources):
        raise ConfigError(f"{path}: a source named {source['name']!r} exists already")
    item = CommentedMap()
    for key, value in source.items():
        if isinstance(value, list | tuple):
            seq = CommentedSeq(value)
            seq.fa.set_flow_style()
            item[key] = seq
        else:
            item[key] = value
    if isinstance(sources, CommentedSeq):
        sources.fa.set_block_style()
    sources.append(item)
    _write(path, yaml, doc)


def remove_source(path: Path, name: str) -> None:
    """Remove the source ``name`` from the config file at ``path``; raises ConfigError when
    there is none."""
    yaml, doc = _read(path)
    sources = doc.get("sources") if isinstance(doc, dict) else None
    if isinstance(sources, list):
        for i, s in enumerate(sources):
            if isinstance(s, dict) and s.get("name") == name:
                del sources[i]
                _write(path, yaml, doc)
                return
    raise ConfigError(f"{path}: no source named {name!r}")
