"""An article's Markdown as HTML for the web view, with nothing of the page's own markup.

markdown-it-py in CommonMark mode with raw HTML off: any ``<tag>`` in the archived Markdown is
shown as text, never passed through; images are not rendered (the view loads nothing from
elsewhere); links are kept only for http(s) targets and open with ``rel="nofollow noopener
noreferrer"``.

Example::

    html = markdown_html(article["markdown"])
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

__all__ = ["markdown_html"]

_REL = "nofollow noopener noreferrer"


def _http_only(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _parser() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.enable("table")
    md.disable("image")
    md.validateLink = _http_only  # type: ignore[method-assign]
    renderer: Any = md.renderer

    def link_open(_self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", _REL)
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


def markdown_html(text: str) -> Markup:
    """``text`` (Markdown from the archive) as safe HTML."""
    return Markup(_parser().render(text))  # noqa: S704 - markdown-it escapes, raw HTML is off
