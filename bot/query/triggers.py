"""Which words of a query the automaton waits for, and under which keys.

Triggers are query words such that no post can match the query unless at least one of them
occurs. The automaton looks only for triggers, so a post that mentions no brand costs one
scan and nothing more. Of an AND the engine needs only one child's triggers and takes the
rarest (the brand name rather than "support"); of an OR it needs every branch's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

from .ast import And, Field, Near, Node, Not, Or, Phrase, Term
from .fold import fold_accents, normalise

# What stands before a word in a scan string (see scan.py): a space, or a real hashtag or
# handle sign, which always has two spaces before it.
LEADS = {"": " ", "#": "  # ", "@": "  @ "}

# Words so frequent in English and German posts that a query should not wait for them when
# it has a rarer word to wait for.
_COMMON = frozenset(
    fold_accents(normalise(w))
    for w in """a about after all also am an and any app are as at back be because been but
    by can could day do does down get go good got great had has have he help her here him his
    how i if in into is it its just know like love make me more my new no not now of off on
    one only or our out over people please really see service she so some support than that
    the their them then there they this time to today too up us was way we well were what
    when which who why will with work would year you your aber alle als am an auch auf aus bei
    bin bis da das dass dem den der des die doch du ein eine einen einer er es für gibt hab
    habe hat heute ich ihr im in ist ja jetzt kann kein keine mal man mehr mein mit nach nicht
    noch nur oder schon sehr sich sie sind so über um und uns von vor war was wie wieder wir
    wird zu zum zur""".split()
)

Rate = Callable[[Term], float]


def literal_prefix(pattern: str) -> str:
    """The part of a (folded) word pattern before its first wildcard."""
    cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return pattern[:cut]


def static_rate(term: Term) -> float:
    """Rough share of posts containing the term, judged from its spelling alone."""
    literal = _pieces(term.folds[0])[_anchor(term)] if term.wildcard else term.folds[0]
    rate = 0.3 if literal in _COMMON else 0.02 * 0.6 ** max(0, len(literal) - 4)
    if term.wildcard:
        rate *= 5
    if term.marker:
        rate *= 0.1
    return min(rate, 1.0)


def leaf_terms(node: Node) -> Iterator[Term]:
    """Every Term in the query, positive or negated."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, Phrase):
        yield from node.terms
    elif isinstance(node, Near):
        yield from leaf_terms(node.left)
        yield from leaf_terms(node.right)
    elif isinstance(node, Not):
        yield from leaf_terms(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from leaf_terms(child)


def shared_rate(nodes: Iterable[Node]) -> Rate:
    """`static_rate` weighted by how many queries use the term.

    A word that many brands' queries share ("support", "kaputt", "review") is context
    vocabulary and likely common in posts; a word only one query uses is usually the brand
    itself. Waiting for the brand keeps automaton hits, and so checks, rare.
    """
    users: Counter[tuple[str, str]] = Counter()
    for node in nodes:
        users.update({(t.marker, t.folds[0]) for t in leaf_terms(node)})
    rates: dict[Term, float] = {}

    def rate(term: Term) -> float:
        found = rates.get(term)
        if found is None:
            found = rates[term] = static_rate(term) * max(1, users[(term.marker, term.folds[0])])
        return found

    return rate


def _cost(terms: Sequence[Term], rate: Rate) -> float:
    return sum(rate(t) for t in terms)


def _best(options: list[list[Term] | None], rate: Rate) -> list[Term] | None:
    usable = [o for o in options if o is not None]
    # min() keeps the first of equals: the word written first (usually the brand) wins ties.
    return min(usable, key=lambda o: _cost(o, rate)) if usable else None


def triggers(node: Node, rate: Rate = static_rate) -> list[Term] | None:
    """Terms of which at least one occurs in every post the node matches (None: no such set).

    Where there is a choice (children of an AND, sides of a NEAR, words of a phrase) the set
    with the lowest summed `rate` is taken.
    """
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Phrase):
        return [min(node.terms, key=rate)]
    if isinstance(node, Near):
        return _best([triggers(node.left, rate), triggers(node.right, rate)], rate)
    if isinstance(node, Field):
        return None
    if isinstance(node, Not):
        return _false_triggers(node.child, rate)
    if isinstance(node, And):
        return _best([triggers(c, rate) for c in node.children], rate)
    if isinstance(node, Or):
        parts = [triggers(c, rate) for c in node.children]
        if any(p is None for p in parts):
            return None
        return [t for p in parts if p is not None for t in p]
    raise TypeError(f"not a query node: {node!r}")


def _false_triggers(node: Node, rate: Rate) -> list[Term] | None:
    """Terms of which one occurs in every post where the node is false (NOT NOT x)."""
    if isinstance(node, Not):
        return triggers(node.child, rate)
    if isinstance(node, And):
        parts = [_false_triggers(c, rate) for c in node.children]
        if any(p is None for p in parts):
            return None
        return [t for p in parts if p is not None for t in p]
    if isinstance(node, Or):
        return _best([_false_triggers(c, rate) for c in node.children], rate)
    return None


def trigger_is_exact(term: Term) -> bool:
    """True when an automaton hit for the term proves that the term occurs.

    Literal words, hashtags and handles are whole keys; a wildcard whose only wildcard is a
    final `*` is found by its prefix alone.
    """
    stem = term.text[:-1] if term.text.endswith("*") else term.text
    return "*" not in stem and "?" not in stem


def is_exact(node: Node) -> bool:
    """True when a trigger hit alone decides the query (a word, or an OR of words)."""
    if isinstance(node, Term):
        return trigger_is_exact(node)
    if isinstance(node, Or):
        return all(isinstance(c, Term) and trigger_is_exact(c) for c in node.children)
    return False


def _pieces(pattern: str) -> list[str]:
    """The literal runs of a folded word pattern, between its wildcards."""
    out: list[str] = []
    current: list[str] = []
    for ch in pattern:
        if ch in "*?":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
    out.append("".join(current))
    return out


def _anchor(term: Term) -> int:
    """Which literal piece of a wildcard term to index: 0 is the prefix, -1 the suffix.

    The prefix (two letters at least, usually more) is the natural key. Only when it is a
    single letter, as in `a?me`, a longer piece does better: the suffix anchored at the
    word's end ("me "), or an inner piece.
    """
    pieces = _pieces(term.folds[0])
    if len(pieces[0]) >= 2:
        return 0
    ends_literal = term.text[-1] not in "*?"
    scores = [
        (len(p) + (1 if i == 0 or (i == len(pieces) - 1 and ends_literal) else 0), -i)
        for i, p in enumerate(pieces)
    ]
    best = max(range(len(pieces)), key=lambda i: scores[i])
    return -1 if best == len(pieces) - 1 and ends_literal else best


def trigger_keys(term: Term) -> tuple[str, str]:
    """Automaton keys for the term in the accent-folded and the German-folded scan string.

    A literal word is a whole key (" acme "). A wildcard is indexed by a literal piece:
    normally its prefix (" acme" for acme*); the check verifies the rest of the pattern
    unless `trigger_is_exact`.
    """
    lead = LEADS[term.marker]
    fold_a, fold_g = term.folds
    if not term.wildcard:
        return lead + fold_a + " ", lead + fold_g + " "
    at = _anchor(term)
    keys = []
    for folded in (fold_a, fold_g):
        piece = _pieces(folded)[at]
        if at == 0:
            keys.append(lead + piece)  # at the start of a word
        elif at == -1:
            keys.append(piece + " ")  # at the end of a word
        else:
            keys.append(piece)  # somewhere inside a word
    return keys[0], keys[1]
