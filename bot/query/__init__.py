"""The mention query language: parse a brand's query and match posts against all brands.

    >>> from bot.query import Candidate, Matcher, parse, describe
    >>> describe(parse("acme -jobs"))
    '(acme AND (NOT jobs))'
    >>> Matcher.build({1: "acme -jobs", 2: "#rocket"}).match(Candidate("ACME is down #Rocket"))
    [1, 2]

`evaluate` is the slow reference evaluator the engine is tested against. The language is
specified in docs/query.md.
"""

from .ast import And, Field, Near, Node, Not, Or, Phrase, Term, describe, uses_lang
from .candidate import Candidate
from .engine import Matcher
from .errors import QueryError
from .parser import parse
from .reference import evaluate

__all__ = [
    "And",
    "Candidate",
    "Field",
    "Matcher",
    "Near",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "QueryError",
    "Term",
    "describe",
    "evaluate",
    "parse",
    "uses_lang",
]
