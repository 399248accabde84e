"""The `query:` argument: a subset of Shopify's search syntax.

Supported: space- or AND-separated terms `field:value`, comparators `field:>value`,
`>=`, `<`, `<=`, values quoted with ' or ", negation `-field:value`, and a trailing `*`
for prefix matches. Terms are ANDed (OR is not supported). Unknown fields match
everything and produce a search warning, as Shopify does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .formats import parse_datetime

_TERM = re.compile(
    r"""(?P<neg>-)?(?P<field>[a-z_]+):(?P<op>>=|<=|>|<|=)?"""
    r"""(?:'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>\S+))""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Term:
    field: str
    op: str  # one of = > >= < <=
    value: str
    negated: bool = False


@dataclass
class ParsedQuery:
    terms: list[Term]
    free_text: list[str]
    warnings: list[dict[str, str]]


def parse(query: str | None) -> ParsedQuery:
    if not query:
        return ParsedQuery([], [], [])
    terms: list[Term] = []
    position = 0
    free_text: list[str] = []
    for match in _TERM.finditer(query):
        free_text.extend(_words(query[position : match.start()]))
        position = match.end()
        value = match.group("sq")
        if value is None:
            value = match.group("dq")
        if value is None:
            value = match.group("bare")
        terms.append(
            Term(
                field=match.group("field").lower(),
                op=match.group("op") or "=",
                value=value,
                negated=bool(match.group("neg")),
            )
        )
    free_text.extend(_words(query[position:]))
    return ParsedQuery(terms, free_text, [])


def _words(text: str) -> list[str]:
    return [w for w in text.split() if w.upper() not in ("AND", "")]


# A field getter returns the comparable value of a record for that search field.
FieldGetter = Callable[[Any], object]


def _compare(actual: object, term: Term) -> bool:
    if actual is None:
        return False
    if isinstance(actual, list | tuple):
        return any(_compare(item, term) for item in actual)
    if isinstance(actual, datetime):
        try:
            wanted: object = parse_datetime(term.value)
        except ValueError:
            return False
    elif isinstance(actual, int):
        try:
            wanted = int(term.value)
        except ValueError:
            return False
    else:
        text = str(actual).lower()
        pattern = term.value.lower()
        if term.op != "=":
            return False
        if pattern.endswith("*"):
            return text.startswith(pattern[:-1])
        return text == pattern
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    return ops[term.op](actual, wanted)


def build_filter(
    parsed: ParsedQuery, fields: Mapping[str, FieldGetter], free_text: FieldGetter
) -> Callable[[Any], bool]:
    """A predicate for records; unknown fields are recorded as warnings and ignored."""
    usable: list[tuple[Term, FieldGetter]] = []
    for term in parsed.terms:
        getter = fields.get(term.field)
        if getter is None:
            parsed.warnings.append(
                {"field": term.field, "message": "Invalid search field for this query."}
            )
            continue
        usable.append((term, getter))

    def matches(record: Any) -> bool:
        for term, getter in usable:
            if _compare(getter(record), term) == term.negated:
                return False
        haystack = str(free_text(record)).lower()
        return all(word.lower().strip("'\"") in haystack for word in parsed.free_text)

    return matches


def bounds(
    parsed: ParsedQuery, field: str, to_range: Callable[[str], tuple[int, int]]
) -> tuple[int | None, int | None]:
    """Bounds [low, high] (None: open) that every record matching `parsed` lies within,
    for a field whose records sort by an integer value: a superset only, for narrowing a
    scan of a sorted index; the filter itself still decides.

    `to_range(value)` gives the least and greatest sort value a record may have when its
    field equals `value` (raises ValueError for a value that is no number/date, which then
    does not narrow). Negated terms do not narrow.
    """
    low: int | None = None
    high: int | None = None
    for term in parsed.terms:
        if term.field != field or term.negated:
            continue
        try:
            least, greatest = to_range(term.value)
        except ValueError:
            continue
        if term.op in (">", ">=", "="):
            low = least if low is None else max(low, least)
        if term.op in ("<", "<=", "="):
            high = greatest if high is None else min(high, greatest)
    return low, high
