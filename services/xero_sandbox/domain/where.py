"""Xero's `where` filter, the subset the sandbox supports: `Field=="value"` and
`Field!="value"` clauses joined by AND / OR (AND binds tighter), no parentheses.

Xero documents no escape for a double quote inside a string literal, and answers a
backslash-escaped one with `400 QueryParseException` "Syntax error" (XeroAPI/Xero-Java#347,
waynerobinson/xeroizer#160): a literal here is everything between two quotes, and a
backslash before a quote is refused the same way."""

import re
from collections.abc import Callable, Mapping
from typing import Any

_CLAUSE = re.compile(r'^\s*([A-Za-z]+)\s*(==|!=)\s*"([^"]*)"\s*$')
_ESCAPED_QUOTE = re.compile(r'\\"')
SYNTAX_ERROR = "Syntax error"
_OR = re.compile(r"\s+(?:OR|\|\|)\s+", re.IGNORECASE)
_AND = re.compile(r"\s+(?:AND|&&)\s+", re.IGNORECASE)

Predicate = Callable[[Any], bool]


class QueryError(ValueError):
    """A filter the sandbox (or Xero) cannot parse; the message is Xero's style."""


def compile_where(text: str, fields: Mapping[str, Callable[[Any], str]], kind: str) -> Predicate:
    """A predicate over objects, `fields` mapping a field name to its string getter."""
    if _ESCAPED_QUOTE.search(text):
        raise QueryError(SYNTAX_ERROR)
    alternatives = []
    for part in _OR.split(text.strip()):
        clauses = []
        for clause in _AND.split(part):
            match = _CLAUSE.match(clause)
            if not match:
                raise QueryError(f"Unable to parse the where clause: {clause.strip()!r}")
            name, op, value = match.group(1), match.group(2), match.group(3)
            getter = _field(fields, name, kind)
            clauses.append((getter, op == "==", value))
        alternatives.append(clauses)

    def predicate(item: Any) -> bool:
        return any(
            all((getter(item) == value) is equal for getter, equal, value in clauses)
            for clauses in alternatives
        )

    return predicate


def _field(
    fields: Mapping[str, Callable[[Any], str]], name: str, kind: str
) -> Callable[[Any], str]:
    for known, getter in fields.items():
        if known.lower() == name.lower():
            return getter
    raise QueryError(f"No property or field '{name}' exists in type '{kind}'")
