"""config.yaml, parsed once at CLI entry into a frozen, typed :class:`Config`.

Unknown keys are errors. Every problem is reported as one :class:`ConfigError` whose message names
the file, the key and the problem. ``${VAR}`` in a string value is replaced by that environment
variable, so secrets need not live in the file.

Example::

    config = load_config(Path("config.yaml"))
    for source in config.sources:
        print(source.name, source.feeds)
"""

from __future__ import annotations

import os
import re
import typing
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from common.dburl import check_database_url
from common.errors import ConfigError

__all__ = [
    "CleanRules",
    "Config",
    "CrawlSettings",
    "DEFAULT_CONFIG_PATH",
    "DaemonSettings",
    "DedupeSettings",
    "IncrementalSettings",
    "RecheckRule",
    "Source",
    "config_path_from_env",
    "config_schema",
    "load_config",
    "parse_config",
    "read_config_text",
]

DEFAULT_CONFIG_PATH = Path("config.yaml")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


class CrawlSettings(_Frozen):
    """How newsvault fetches: politeness, limits, safety."""

    user_agent: str = "newsvault/0.1 (+https://github.com/newsvault/newsvault)"
    obey_robots: bool = True
    concurrency_per_domain: int = Field(4, ge=1, le=64)
    download_delay: float = Field(0.25, ge=0, le=600)
    max_pages_per_run: int = Field(5000, ge=1)
    allow_private_networks: bool = False
    timeout: float = Field(30.0, gt=0, le=600)
    max_page_bytes: int = Field(5_000_000, ge=10_000)
    extract_timeout: float = Field(60.0, gt=0, le=3600)
    # headless Chromium for sources with ``render: auto|always``: its path, a page's time limit
    chromium: str = "/usr/bin/chromium"
    render_timeout: float = Field(20.0, gt=0, le=600)


def _parse_duration(value: Any) -> Any:
    """``90``, ``"45s"``, ``"30m"``, ``"6h"``, ``"2d"``, ``"1w"`` -> a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return timedelta(seconds=value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(
            f"not a duration: {value!r} (give seconds, or a number with s, m, h, d or w: '2d')"
        )
    return timedelta(seconds=float(m.group(1)) * _UNIT_SECONDS[m.group(2)])


Duration = Annotated[
    timedelta,
    BeforeValidator(_parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*[smhdw]?\s*$"},
            ],
            "description": "seconds, or a number with s, m, h, d or w: '2d'",
        }
    ),
]


class RecheckRule(_Frozen):
    """Articles published less than ``younger_than`` ago are fetched again once ``every`` has
    passed since their last fetch (``0``: every run)."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_timedelta="float")

    younger_than: Duration
    every: Duration = timedelta(0)


_DEFAULT_RECHECK = (
    RecheckRule(younger_than=timedelta(days=2), every=timedelta(0)),
    RecheckRule(younger_than=timedelta(days=14), every=timedelta(days=1)),
)


class IncrementalSettings(_Frozen):
    """What second and later runs fetch again (see docs/config.md, "incremental")."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_timedelta="float")

    enabled: bool = True
    recheck: tuple[RecheckRule, ...] = _DEFAULT_RECHECK

    @field_validator("recheck")
    @classmethod
    def _ordered(cls, rules: tuple[RecheckRule, ...]) -> tuple[RecheckRule, ...]:
        ages = [r.younger_than for r in rules]
        if ages != sorted(set(ages)):
            raise ValueError("rules must be in increasing order of younger_than, each different")
        return rules


class DedupeSettings(_Frozen):
    """When two URLs of a source are one article."""

    near_duplicate_distance: int | None = Field(3, ge=0, le=3)


class DaemonSettings(_Frozen):
    """How ``newsvault daemon`` schedules runs."""

    timezone: str = "UTC"
    default_schedule: str = "0 * * * *"
    jitter: int = Field(0, ge=0, le=3600)
    run_timeout: int = Field(1800, ge=1)
    misfire_grace: int = Field(3600, ge=1)
    unhealthy_after: int = Field(86400, ge=60)
    kill_after: int = Field(60, ge=1, le=3600)
    progress_interval: float = Field(60.0, ge=0)
    # crawl processes running at once; more due runs wait in a queue (None: half the cores, >= 1)
    max_parallel_runs: int | None = Field(None, ge=1, le=64)

    @property
    def parallel_runs(self) -> int:
        """How many crawl processes may run at once: ``max_parallel_runs``, or by default half
        the cores (each crawl's extraction pool already uses them all), at least one."""
        import os

        return self.max_parallel_runs or max(1, (os.cpu_count() or 1) // 2)

    @field_validator("default_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from common.cron import parse_cron

        parse_cron(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class CleanRules(_Frozen):
    """A source's own boilerplate rules, applied on top of the built-in ones."""

    drop_xpaths: tuple[str, ...] = ()
    drop_css: tuple[str, ...] = ()
    drop_lines: tuple[str, ...] = ()

    @field_validator("drop_lines")
    @classmethod
    def _regexes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for v in values:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"bad regular expression {v!r}: {exc}") from exc
        return values

    @field_validator("drop_xpaths")
    @classmethod
    def _xpaths(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        from lxml import etree

        for v in values:
            try:
                etree.XPath(v)
            except etree.XPathSyntaxError as exc:
                raise ValueError(f"bad XPath {v!r}: {exc}") from exc
        return values

    @field_validator("drop_css")
    @classmethod
    def _css(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        from cssselect import GenericTranslator, SelectorError

        for v in values:
            try:
                GenericTranslator().css_to_xpath(v)
            except SelectorError as exc:
                raise ValueError(f"bad CSS selector {v!r}: {exc}") from exc
        return values


class Source(_Frozen):
    """One news site to archive."""

    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_urls: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    article_urls: tuple[str, ...] = ()
    schedule: str | None = None
    clean: CleanRules = CleanRules()
    # run the page's scripts in headless Chromium: never; auto (only a page whose static HTML
    # yields no article); always (every article page)
    render: Literal["never", "auto", "always"] = "never"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):  # fullmatch: "$" alone lets a final newline through
            raise ValueError("a name is 1-64 letters, digits, '.', '_' or '-'")
        return value

    @field_validator("feeds", "sitemaps", "start_urls")
    @classmethod
    def _urls(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_url(v) for v in values)

    @field_validator("article_urls")
    @classmethod
    def _patterns(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for v in values:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"bad regular expression {v!r}: {exc}") from exc
        return values

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            from common.cron import parse_cron

            parse_cron(value)
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        import ipaddress

        out = []
        for v in values:
            host = v.strip().lower().strip("[]")
            bad = not host or "/" in host or " " in host
            if ":" in host:
                try:
                    ipaddress.IPv6Address(host)
                except ValueError:
                    bad = True
            if bad:
                raise ValueError(f"not a domain name: {v!r} (give a host such as example.com)")
            out.append(host)
        return tuple(out)

    @model_validator(mode="after")
    def _has_entry(self) -> Source:
        if not (self.feeds or self.sitemaps or self.start_urls):
            raise ValueError("a source needs at least one of feeds, sitemaps, start_urls")
        return self

    @property
    def domains(self) -> tuple[str, ...]:
        """The hosts this source may fetch from: allowed_domains, else the hosts of its URLs."""
        if self.allowed_domains:
            return self.allowed_domains
        hosts = (urlsplit(u).hostname for u in (*self.feeds, *self.sitemaps, *self.start_urls))
        return tuple(dict.fromkeys(h.lower() for h in hosts if h))


class Config(_Frozen):
    """The whole configuration. ``path`` is the file it came from (None when built in code)."""

    database: str = "sqlite:///newsvault.db"
    crawl: CrawlSettings = CrawlSettings()
    daemon: DaemonSettings = DaemonSettings()
    sources: tuple[Source, ...] = ()
    incremental: IncrementalSettings = IncrementalSettings()
    dedupe: DedupeSettings = DedupeSettings()
    #: redis://host:port/db of a shared crawl frontier (scale-out); None: one machine, no Redis
    frontier: str | None = None
    path: Path | None = None

    @field_validator("frontier")
    @classmethod
    def _redis_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://host:port/db URL")
        for kv in parts.query.split("&"):
            key, _, value = kv.partition("=")
            if key == "visibility" and not re.fullmatch(r"\d+(\.\d+)?", value):
                raise ValueError("visibility= must be a number of seconds")
        return v

    @field_validator("database")
    @classmethod
    def _database_url(cls, v: str) -> str:
        check_database_url(v)  # one line with the password masked; a bad URL exits 2
        return v

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"two sources are named {s.name!r}")
            seen.add(s.name)
        return self

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named {name!r} (known: {', '.join(self.source_names)})")

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of config.yaml, as published in docs/config.schema.json (editors complete
    and check keys with it). Regenerate that file with ``make schema``."""
    schema = Config.model_json_schema(mode="validation")
    schema["properties"].pop("path", None)
    schema["title"] = "newsvault config.yaml"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def config_path_from_env() -> Path:
    """``NEWSVAULT_CONFIG`` if set, else ./config.yaml."""
    return Path(os.environ.get("NEWSVAULT_CONFIG") or DEFAULT_CONFIG_PATH)


def _expand_env(value: Any, where: str) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(f"{where}: environment variable {name} is not set")
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _loc(loc: tuple[int | str, ...], data: Any) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int):
        try:
            name = data["sources"][loc[1]]["name"]
        except (KeyError, IndexError, TypeError):
            name = None
        if isinstance(name, str):
            out += f" (source {name!r})"
    return out or "(top level)"


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The config model that holds the key at ``loc`` (None when the path leaves the models)."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        inner = [field.annotation, *typing.get_args(field.annotation)]
        found = [t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)]
        if not found:
            return None
        model = found[0]
    return model


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    """``"; did you mean 'x'?"`` for an unknown key close to a known one, else ``""``."""
    import difflib

    model = _model_at(loc[:-1])
    key = loc[-1] if loc else None
    if model is None or not isinstance(key, str):
        return ""
    known = [k for k in model.model_fields if k != "path"]
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _resolve_database(url: str, base: Path | None) -> str:
    prefix = "sqlite:///"
    if base is None or not url.startswith(prefix):
        return url
    rest = url[len(prefix) :]
    if not rest or rest == ":memory:" or rest.startswith("/"):
        return url
    return prefix + str((base / rest).resolve())


def parse_config(data: Any, path: Path | None = None) -> Config:
    """Validate already-loaded YAML data. Raises ConfigError naming the key and the problem."""
    label = str(path) if path else "config"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{label}: the top level must be a mapping of keys, not {type(data).__name__}"
        )
    data = _expand_env(data, label)
    try:
        config = Config.model_validate({**data, "path": path})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _loc(tuple(err["loc"]), data)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key" + _did_you_mean(tuple(err["loc"]))
            problems.append(f"{label}: {where}: {msg}")
        raise ConfigError("\n".join(problems)) from None
    if path is not None:
        config = config.model_copy(
            update={"database": _resolve_database(config.database, path.parent.resolve())}
        )
    return config


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases (``*name``): a config never needs them, and
    nested aliases ("billion laughs") expand a few hundred bytes into gigabytes."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a config", mark
            )
        return super().compose_node(parent, index)


def read_config_text(
    path: Path, missing: str = "give --config PATH or set NEWSVAULT_CONFIG"
) -> str:
    """The text of the config file ``path``; a :class:`ConfigError` of one line when it is
    missing (``missing`` says what to do), unreadable or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file ({missing})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start} "
            "cannot be decoded (save the file as UTF-8)"
        ) from None


def load_config(path: Path) -> Config:
    """Read and validate a config file."""
    text = read_config_text(path)
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader without aliases
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{path}:{where}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    return parse_config(data, path)
