"""Fast evaluation of simple boilerplate XPath rules in one pass over the tree.

libxml2 evaluates each ``//*[contains(@class, ...)]`` rule by walking the whole document and
building strings per element: nine such rules cost about 3 ms on a 50 KB news page, a quarter of
trafilatura's own time. Rules of the simple shapes used for boilerplate (an element test and
``or``-ed tests of ``@id``/``@class``: equality, substring, whole class token) are compiled
here into Python predicates and checked together in a single walk; any other rule is evaluated
as XPath. The result is exactly what evaluating each rule with ``tree.xpath`` gives: for each rule
in order, its matches in document order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

__all__ = ["RuleSet"]

_RULE = re.compile(r"//(\*|[a-z][\w-]*)\[(.*)\]")
_ATOM = re.compile(
    r'@(?P<eq_attr>id|class)\s*=\s*"(?P<eq>[^"]*)"'
    r'|contains\(concat\(" ", normalize-space\(@(?P<tok_attr>id|class)\), " "\), '
    r'" (?P<tok>[^"\s]+) "\)'
    r'|contains\(@(?P<sub_attr>id|class), "(?P<sub>[^"]+)"\)'
)
_XML_SPACE = "[ \t\r\n]"
_WITH_ID_OR_CLASS = etree.XPath("//*[@id or @class]")

Test = Callable[[dict[str, str]], bool]


def _needle(text: str) -> str:
    """The literal that an attribute must contain for the atom to hold."""
    m = _ATOM.fullmatch(text.strip())
    assert m is not None
    return m["eq"] if m["eq_attr"] else (m["tok"] or m["sub"])


def _atom(text: str) -> Test | None:
    m = _ATOM.fullmatch(text.strip())
    if m is None or (m["eq_attr"] and not m["eq"]):
        return None
    if m["eq_attr"]:
        attr, value = m["eq_attr"], m["eq"]
        return lambda a: a.get(attr) == value
    if m["tok_attr"]:
        attr = m["tok_attr"]
        token = re.compile(f"(?:^|{_XML_SPACE}){re.escape(m['tok'])}(?:{_XML_SPACE}|$)")
        return lambda a: (v := a.get(attr)) is not None and token.search(v) is not None
    attr, part = m["sub_attr"], m["sub"]
    return lambda a: part in a.get(attr, "")


def _compile(xpath: str) -> tuple[str | None, list[Test], list[str]] | None:
    """(tag or None for any, tests, needles) for a rule of a simple shape, else None."""
    m = _RULE.fullmatch(xpath.strip())
    if m is None:
        return None
    parts = re.split(r"\s+or\s+", m[2])
    tests = [_atom(part) for part in parts]
    if any(t is None for t in tests):
        return None
    tag = None if m[1] == "*" else m[1]
    return tag, [t for t in tests if t is not None], [_needle(p) for p in parts]


class RuleSet:
    """A sequence of XPath rules, evaluated fast where their shape allows."""

    def __init__(self, xpaths: Sequence[str]) -> None:
        self.rules: list[tuple[str | None, list[Test]] | etree.XPath] = []
        needles: set[str] = set()
        for xp in xpaths:
            compiled = _compile(xp)
            if compiled is None:
                self.rules.append(etree.XPath(xp))
            else:
                self.rules.append(compiled[:2])
                needles.update(compiled[2])
        # An element can only match if its @id or @class contains one of the literals: one C
        # regex search rejects almost every element before any Python test runs.
        alternatives = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
        self._maybe = re.compile(alternatives).search if needles else None

    def matches(self, tree: Any) -> list[Any]:
        """Every element that a rule selects: rule by rule, each in document order."""
        fast = [i for i, r in enumerate(self.rules) if isinstance(r, tuple)]
        found: list[list[Any]] = [[] for _ in self.rules]
        maybe = self._maybe
        if fast and maybe is not None:
            for el in _WITH_ID_OR_CLASS(tree):
                attrib = el.attrib
                cls, ident = attrib.get("class"), attrib.get("id")
                if not ((cls and maybe(cls)) or (ident and maybe(ident))):
                    continue  # every fast test needs one of the literals in @id or @class
                for i in fast:
                    tag, tests = self.rules[i]
                    if (tag is None or el.tag == tag) and any(t(attrib) for t in tests):
                        found[i].append(el)
        for i, rule in enumerate(self.rules):
            if not isinstance(rule, tuple):
                found[i] = list(rule(tree))
        return [el for group in found for el in group]
