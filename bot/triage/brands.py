"""A brand's terms for relevance, read from its name and its query.

The query's words and phrases outside NOT are what the brand is called and what its posts talk
about (`terms`; the first ones are usually its names, the others co-occur); handles (`@acme`)
are its accounts; `site:` values its domains; words under NOT are other senses (`exclude`).
A query that does not parse gives the name alone: relevance then rests on the name.
"""

from __future__ import annotations

from bot.query.ast import And, Field, Near, Node, Not, Or, Phrase, Term
from bot.query.errors import QueryError
from bot.query.parser import parse
from bot.triage.signals import BrandTerms


def brand_terms(name: str, query: str, *, context: tuple[str, ...] = ()) -> BrandTerms:
    terms: list[str] = []
    handles: list[str] = []
    domains: list[str] = []
    exclude: list[str] = []

    def leaf(node: Term | Phrase) -> str | None:
        if isinstance(node, Term):
            if node.wildcard:
                return None
            return node.text
        words = [t.text for t in node.terms if not t.wildcard]
        return " ".join(words) if len(words) == len(node.terms) else None

    def walk(node: Node, negated: bool) -> None:
        match node:
            case Term(marker="@"):
                (exclude if negated else handles).append(node.text)
            case Term() | Phrase():
                text = leaf(node)
                if text:
                    (exclude if negated else terms).append(text)
            case Field(name="site", value=value) if not negated:
                domains.append(value.casefold())
            case Field():
                pass
            case Not(child=child):
                walk(child, not negated)
            case And(children=children) | Or(children=children):
                for c in children:
                    walk(c, negated)
            case Near(left=left, right=right):
                walk(left, negated)
                walk(right, negated)

    try:
        walk(parse(query), False)
    except QueryError:
        pass
    folded = name.casefold().strip()
    handles += [h for h in (folded.replace(" ", ""),) if h]

    def unique(items: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i.casefold() for i in items if i))

    return BrandTerms(name=folded, terms=unique(terms), handles=unique(handles),
                      domains=unique(domains), context=unique(list(context)),
                      exclude=unique(exclude))
