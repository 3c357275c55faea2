"""Fuzzy search over the operation catalog.

The index is built once per catalog: every operation becomes a bag of stemmed terms, each with the
weight of the strongest field it appears in (method name, summary, keywords, description, ...), plus
its verb class and whether it acts on many things at once. A query is normalised the same way,
expanded with synonyms and typo corrections, weighted by where each word stands (the object of the
request counts more than the place it lives in, quoted names and values count little), and scored
against the posting lists. Structural agreement (same verb class, same plurality) then reorders,
and deprecated operations fall below their replacements.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from .catalog import Catalog, Operation, allowed, load_catalog
from .vocabulary import (
    _CAMEL,
    CLAUSE_MARKERS,
    DETERMINERS,
    LEGACY_MARKERS,
    PREPOSITIONS,
    QUANTIFIERS,
    RETRIEVAL,
    SINGULAR_MARKERS,
    STOPWORDS,
    SYNONYM_WEIGHT,
    SYNONYMS,
    UPDATE_MARKERS,
    VERB_OF_STEM,
    compounds,
    is_plural,
    split_camel,
    stem,
    words,
)

MAX_QUERY_LENGTH = 1000
# The verb classes themselves ("delete" names no object, "upload" names a file).
CLASS_VERBS = frozenset(
    stem(verb) for verb in ("create", "list", "get", "update", "delete", "upsert", "increment", "decrement")
)
# What operations named only by a verb (tablesDB.create, account.get) act on.
SERVICE_OBJECTS = {"tablesDB": ("database",), "databases": ("database",), "account": ("account", "user")}

# Field weights: how much a term tells about an operation, by where it appears.
NAME_WEIGHT = 3.0
SUMMARY_WEIGHT = 2.0
KEYWORD_WEIGHT = 2.0
GROUP_WEIGHT = 1.5
SERVICE_WEIGHT = 1.5
DESCRIPTION_WEIGHT = 0.7
PARAM_WEIGHT = 0.6
SERVICE_TEXT_WEIGHT = 0.6

# Query word weights by role.
CONTAINER_WEIGHT = 0.7
CLAUSE_WEIGHT = 0.5
# Quoted text names values; bracketed asides explain. Either shares its weight between its words.
LITERAL_WEIGHTS = {"quoted": 0.35, "aside": 0.7, "phrase": 0.8}
LITERAL_WORDS = 2
IDENTIFIER_WEIGHT = 0.35
TYPO_WEIGHT = 0.85
# An unknown word counts as a moderately informative mention of a row.
DATA_EXPANSIONS = (("row", 1.0),)
# Typos are one edit (a transposition counts as one) away in words up to this length, two beyond.
MIN_TYPO_LENGTH = 5
TYPO_SHORT_WORD = 8

# Structural agreement multipliers.
VERB_MATCH = 1.35
RETRIEVAL_NEAR_MATCH = 1.1
PLURALITY_MATCH = 1.15
DEPRECATED_FACTOR = 0.85
EXACT_NAME_BOOST = 3.0
OBJECT_MATCH = 1.4


class SearchError(ValueError):
    """The query or a filter is not acceptable; the message says why."""


@dataclass(frozen=True)
class Hit:
    op: Operation
    score: float


@dataclass(frozen=True)
class QueryTerm:
    """One query word: its expansions (term, weight) and how much the word counts."""

    word: str
    expansions: tuple[tuple[str, float], ...]
    weight: float


@dataclass(frozen=True)
class Token:
    """A query word.

    `kind` is plain, quoted, phrase or aside; `value` marks a number or id after a word; `initial`
    marks the first word of a sentence or clause, where a command verb stands.
    """

    word: str
    kind: str
    identifier: bool = False
    value: bool = False
    share: float = 1.0
    initial: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[QueryTerm, ...]
    verbs: frozenset[str]
    objects: frozenset[str]
    plural: bool
    singular: bool
    legacy: bool
    names: frozenset[str]


def validate_query(query: str) -> str:
    """The query with surrounding space removed, or SearchError saying what is wrong with it."""
    if not isinstance(query, str):
        raise SearchError("query must be a string")
    for position, char in enumerate(query):
        if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
            raise SearchError(f"query contains a control character (U+{ord(char):04X}) at position {position}")
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchError(f"query is {len(query)} characters long; the limit is {MAX_QUERY_LENGTH}")
    stripped = query.strip()
    if not stripped:
        raise SearchError("query is empty; describe what you want to do, e.g. 'create a table'")
    return stripped


def operation_verb(method: str) -> str | None:
    first = split_camel(method)[0].lower()
    return first if first in {"create", "list", "get", "update", "delete", "upsert", "increment", "decrement"} else None


def acts_on_many(operations: list[Operation]) -> list[bool]:
    """For each operation: does it list, or act in bulk beside a single-item sibling (createRows/createRow)?"""
    shapes = [(op.service, split_camel(op.method)) for op in operations]
    singles = {
        (service, tuple(parts[:-1]), stem(parts[-1].lower()))
        for service, parts in shapes
        if not is_plural(parts[-1].lower())
    }
    return [
        operation_verb(op.method) == "list"
        or (is_plural(parts[-1].lower()) and (service, tuple(parts[:-1]), stem(parts[-1].lower())) in singles)
        for op, (service, parts) in zip(operations, shapes, strict=True)
    ]


def operation_verbs(op: Operation) -> frozenset[str]:
    """Verb classes an operation answers to; a GET that renders an image or file also "makes" it."""
    verb = operation_verb(op.method)
    if verb is None:
        return frozenset()
    return frozenset({verb, "create"}) if "media" in op.returns else frozenset({verb})


def operation_heads(op: Operation) -> frozenset[str]:
    """What an operation acts on: the last word of its method name, or its service's resource."""
    parts = split_camel(op.method)
    if len(parts) > 1:
        return frozenset({stem(parts[-1].lower())})
    return frozenset(stem(word) for word in service_objects(op.service))


def service_objects(service: str) -> tuple[str, ...]:
    return SERVICE_OBJECTS.get(service, (service.lower(),))


def related_terms(term: str) -> list[str]:
    related = list(SYNONYMS.get(term, ()))
    related.extend(stem(verb) for verb in VERB_OF_STEM.get(term, ()))
    return related


def operation_fields(op: Operation, catalog: Catalog) -> list[tuple[str, float]]:
    service = catalog.services.get(op.service)
    fields = [
        (op.method, NAME_WEIGHT),
        (op.service.lower(), SERVICE_WEIGHT),
        (op.summary, SUMMARY_WEIGHT),
        (" ".join(op.keywords), KEYWORD_WEIGHT),
        (op.group or "", GROUP_WEIGHT),
        (op.description, DESCRIPTION_WEIGHT),
        (" ".join(op.params), PARAM_WEIGHT),
    ]
    if service:
        fields.append((service.summary + " " + " ".join(service.keywords), SERVICE_TEXT_WEIGHT))
    return fields


class SearchIndex:
    """An inverted index over the catalog, built once; `search` only reads it."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.operations = catalog.operations
        self.postings: dict[str, list[tuple[int, float]]] = {}
        self.verbs: list[frozenset[str]] = []
        self.acts_on_many: list[bool] = []
        self.position_of: dict[str, int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        bags: list[dict[str, float]] = []
        surface: set[str] = set()
        for position, op in enumerate(self.operations):
            bag: dict[str, float] = {}
            for text, weight in operation_fields(op, catalog):
                for word in words(text) + compounds(text):
                    surface.add(word)
                    term = stem(word)
                    if bag.get(term, 0.0) < weight:
                        bag[term] = weight
            bags.append(bag)
            self.verbs.append(operation_verbs(op))
            self.position_of[op.id] = position
            self.by_name[op.method.lower()].append(position)
            self.by_name[op.id.lower()].append(position)
        self.acts_on_many = acts_on_many(self.operations)
        self.heads = [operation_heads(op) for op in self.operations]
        self.all_heads = frozenset().union(*self.heads)
        self.resource_terms = {stem(part.lower()) for op in self.operations for part in split_camel(op.method)[1:]} | {
            stem(op.service.lower()) for op in self.operations
        }
        count = len(self.operations)
        frequency: dict[str, int] = defaultdict(int)
        for bag in bags:
            for term in bag:
                frequency[term] += 1
        self.idf = {term: math.log(1 + count / df) for term, df in frequency.items()}
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, bag in enumerate(bags):
            for term, weight in bag.items():
                postings[term].append((position, weight))
        self.postings = dict(postings)
        # Typos are corrected towards words the catalog itself uses, never towards a mere synonym.
        self.surface_by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(surface):
            if word.isalpha():
                self.surface_by_initial[word[0]].append(word)

    @cache  # noqa: B019 - one index per catalog lives for the whole process
    def correct(self, word: str) -> str | None:
        """The known word closest to an unknown one (same first letter), if it is close enough."""
        if len(word) < MIN_TYPO_LENGTH or not word.isalpha():
            return None
        candidates = self.surface_by_initial.get(word[0], [])
        edits = 1 if len(word) <= TYPO_SHORT_WORD else 2
        hit = process.extractOne(word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=edits)
        return hit[0] if hit else None

    def known(self, term: str) -> bool:
        return term in self.postings or term in SYNONYMS or term in VERB_OF_STEM

    def resolve(self, word: str) -> tuple[str, float] | None:
        """The known term a word stands for, and how sure that is (lower for a typo correction)."""
        term = stem(word)
        if self.known(term):
            return term, 1.0
        corrected = self.correct(word)
        return (stem(corrected), TYPO_WEIGHT) if corrected else None

    def expansions(self, term: str, factor: float) -> tuple[tuple[str, float], ...]:
        """(term, value) pairs a query term stands for: itself, its synonyms, its verb class."""
        # A word is as informative as it is rare; a synonym cannot make it rarer than it is.
        related = [other for other in related_terms(term) if other in self.idf]
        ceiling = self.idf.get(term) or min((self.idf[other] for other in related), default=0.0)
        found = {term: factor * self.idf.get(term, 0.0)}
        for other in related:
            found.setdefault(other, SYNONYM_WEIGHT * factor * min(ceiling, self.idf[other]))
        return tuple((other, value) for other, value in found.items() if value > 0)

    def tokens(self, query: str) -> list[Token]:
        """The query's words in order, phrases joined, each with where it stands."""
        out: list[Token] = []
        for segment, kind in segments(query):
            # Punctuation ends a clause; the word after it may start a new command.
            pieces = _BOUNDARY.split(segment) if kind == "plain" else [segment]
            for number, piece in enumerate(pieces):
                found = self.segment_tokens(piece, kind)
                if kind == "quoted" and len(found) <= 2 and re.search(r"[0-9_-]", piece):
                    found.append(Token("", kind, value=True))  # a quoted id such as 'T-881'
                # A quoted value or bracketed list shares one weight between its words.
                words_in = sum(1 for token in found if token.word)
                share = min(1.0, LITERAL_WORDS / max(1, words_in)) if kind in ("quoted", "aside") else 1.0
                starts = kind == "plain" and (number > 0 or not out)
                out.extend(
                    Token(t.word, t.kind, t.identifier, t.value, share, initial=starts and i == 0)
                    for i, t in enumerate(found)
                )
        return out

    def segment_tokens(self, segment: str, kind: str) -> list[Token]:
        """Words of one piece of the query; numbers and ids like u_55 or is_archived become values."""
        found: list[Token] = []
        plain: list[str] = []
        for raw in _RAW_TOKEN.findall(segment):
            if raw.isdigit():
                special = [Token("", kind, value=True)]
            elif "_" in raw or (any(c.isdigit() for c in raw) and not self.known(stem(raw.lower()))):
                parts = [part for part in words(raw.replace("_", " ")) if not part.isdigit()]
                special = [Token(part, kind, identifier=True) for part in parts] + [Token("", kind, value=True)]
            else:
                # Keep a known mixed-case word whole (WordPress) rather than split (word press).
                plain.append(raw.lower() if _CAMEL.search(raw) and self.known(stem(raw.lower())) else raw)
                continue
            found += [Token(word, kind) for word in words(" ".join(plain))] + special
            plain = []
        return found + [Token(word, kind) for word in words(" ".join(plain))]

    def parse(self, query: str) -> ParsedQuery:
        terms: list[QueryTerm] = []
        verbs: frozenset[str] = frozenset()
        updating = False
        objects: set[str] = set()
        plural = singular = singular_noun = legacy = False
        names = self.names_in(query)
        # A preposition opens a container phrase; "that/which/so ..." after the verb opens a clause
        # that describes the object rather than the action. Both count less. The object phrase is
        # the words right after the verb, up to a preposition or stopword.
        container = clause = phrase_open = commanded = False
        phrase_nouns = 0
        sequence = [token for token in self.tokens(query) if token.word or token.value]
        for position, token in enumerate(sequence):
            word = token.word
            if token.initial:
                container = clause = phrase_open = False
            if not word:
                continue
            literal = token.kind != "plain" or token.identifier
            # A noun right before an id or number names one record: "order ord_789", "article 42".
            named = not literal and position + 1 < len(sequence) and sequence[position + 1].value
            plural = plural or word in QUANTIFIERS
            legacy = legacy or word in LEGACY_MARKERS
            singular = singular or word in SINGULAR_MARKERS or named
            # "that" right after the verb points at the object ("delete that row"); after a noun it
            # opens a clause ("a topic that users can subscribe to").
            clause = clause or (bool(verbs) and word in CLAUSE_MARKERS and not (phrase_open and not phrase_nouns))
            updating = updating or word in UPDATE_MARKERS
            if word in PREPOSITIONS or word in STOPWORDS or len(word) < 2:
                container = container or word in PREPOSITIONS
                phrase_open = phrase_open and word in DETERMINERS and not clause
                continue
            weight = role_weight(token, container, clause)
            resolved = self.resolve(word)
            if resolved is None or (named and resolved[0] not in self.resource_terms | VERB_OF_STEM.keys()):
                # A word the API does not know names the app's own data: orders, tickets, invoices.
                terms.append(QueryTerm(word, DATA_EXPANSIONS, weight))
                phrase_open = False
                continue
            term, factor = resolved
            # The first verb sets the action, unless a later clause starts with a command verb
            # ("the writes are staged - commit the transaction").
            if not literal and term in VERB_OF_STEM and (not verbs or (token.initial and not commanded)):
                verbs = VERB_OF_STEM[term]
                objects = {term, *SYNONYMS.get(term, ())}
                # A verb that names its own object (upload a file, invite a member, trigger an
                # execution) keeps it; the words after it say what goes in, not what is made.
                implied = term not in CLASS_VERBS and not objects.isdisjoint(self.all_heads)
                container, phrase_open, commanded, phrase_nouns = False, not implied, token.initial, 0
            elif phrase_open and not literal and not container:
                objects |= {term, *SYNONYMS.get(term, ())}
                phrase_nouns += 1
            if not (literal or container or clause):
                if is_plural(word):
                    plural = True
                elif term in self.resource_terms:
                    singular_noun = True
            found = self.expansions(term, factor)
            if found:
                terms.append(QueryTerm(word, found, weight))
        singular = (singular or singular_noun) and not plural
        if "get" in verbs and plural and not singular:
            verbs = verbs - {"get"} | {"list"}
        if updating:
            verbs |= {"update"}
        return ParsedQuery(tuple(terms), verbs, frozenset(objects), plural, singular, legacy, frozenset(names))

    def names_in(self, segment: str) -> set[str]:
        """Operation ids and method names written out in the query (tablesDB.createRow, createRow)."""
        found = set()
        for raw in re.findall(r"[A-Za-z0-9_.]+", segment):
            key = raw.strip(".")
            if ("." in key or len(split_camel(key)) > 1) and key.lower() in self.by_name:
                found.add(key.lower())
        return found

    def search(
        self,
        query: str,
        limit: int = 5,
        service: str | None = None,
        scopes: frozenset[str] | None = None,
        read_only: bool = False,
    ) -> list[Hit]:
        """The operations that best serve `query`, best first."""
        query = validate_query(query)
        if limit < 1:
            raise SearchError(f"limit must be at least 1, got {limit}")
        if service is not None and service not in self.catalog.services:
            hint = self.catalog.suggest_services(service)
            raise SearchError(
                f"unknown service {service!r}"
                + (f"; did you mean {', '.join(hint)}?" if hint else "")
                + f" Services: {', '.join(sorted(self.catalog.services))}"
            )
        parsed = self.parse(query)
        eligible = {
            position: score
            for position, score in self.score(parsed).items()
            if (service is None or self.operations[position].service == service)
            and allowed(self.operations[position], scopes, read_only)
        }
        ranked = sorted(eligible, key=lambda position: (-eligible[position], position))
        if not parsed.legacy:
            ranked = self.replacements_first(ranked, eligible, limit)
        return [Hit(self.operations[position], eligible[position]) for position in ranked[:limit]]

    def replacements_first(self, ranked: list[int], eligible: dict[int, float], limit: int) -> list[int]:
        """Put each deprecated operation's replacement (when it may be shown) just above it.

        Replacements can themselves be deprecated (createStringAttribute -> createStringColumn ->
        createTextColumn); the whole chain is placed, newest first.
        """
        out: list[int] = []
        placed: set[int] = set()

        def place(position: int) -> None:
            placed.add(position)
            replacement = self.operations[position].replacement
            substitute = self.position_of.get(replacement) if replacement else None
            if substitute is not None and substitute in eligible and substitute not in placed:
                place(substitute)
            out.append(position)

        for position in ranked:
            if len(out) >= limit:
                break
            if position not in placed:
                place(position)
        return out

    def score(self, parsed: ParsedQuery) -> dict[int, float]:
        totals: dict[int, float] = defaultdict(float)
        for term in parsed.terms:
            best: dict[int, float] = {}
            for expansion, factor in term.expansions:
                for position, value in self.postings.get(expansion, ()):
                    value *= factor
                    if best.get(position, 0.0) < value:
                        best[position] = value
            for position, value in best.items():
                totals[position] += term.weight * value
        for name in parsed.names:
            for position in self.by_name[name]:
                totals[position] = (totals.get(position, 0.0) + 1.0) * EXACT_NAME_BOOST
        for position in list(totals):
            totals[position] *= self.agreement(position, parsed)
        return totals

    def agreement(self, position: int, parsed: ParsedQuery) -> float:
        """Multiplier for how well the operation's verb class and plurality fit the query."""
        factor = 1.0
        verbs = self.verbs[position]
        if not verbs.isdisjoint(parsed.verbs):
            factor *= VERB_MATCH
        elif not parsed.verbs.isdisjoint(RETRIEVAL) and not verbs.isdisjoint(RETRIEVAL):
            factor *= RETRIEVAL_NEAR_MATCH
        if parsed.objects and not self.heads[position].isdisjoint(parsed.objects):
            factor *= OBJECT_MATCH
        many = self.acts_on_many[position]
        if (parsed.plural and not parsed.singular) == many and (many or parsed.singular):
            factor *= PLURALITY_MATCH
        op = self.operations[position]
        if op.deprecated and not parsed.legacy:
            factor *= DEPRECATED_FACTOR
        return factor


def role_weight(token: Token, container: bool, clause: bool) -> float:
    """How much a query word counts, from where it stands."""
    if token.kind != "plain":
        weight = LITERAL_WEIGHTS[token.kind] * token.share
    elif token.identifier:
        weight = IDENTIFIER_WEIGHT
    else:
        weight = CONTAINER_WEIGHT if container else 1.0
    return weight * CLAUSE_WEIGHT if clause else weight


_BOUNDARY = re.compile(r"[.;:!?,\u2014\u2013]+|\s-\s")
_RAW_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:['\u2019][A-Za-z]+)?")
_LITERAL = re.compile(r"""((?<![A-Za-z0-9])(?:"[^"]*"|'[^']*'|`[^`]*`)(?![A-Za-z0-9])|\([^)]*\)|\[[^\]]*\])""")


def segments(query: str) -> list[tuple[str, str]]:
    """The query cut into (text, kind) pieces: plain, quoted value, quoted phrase, bracketed aside."""
    out = []
    for piece in _LITERAL.split(query):
        if not piece:
            continue
        if piece[0] in "\"'`":
            # Several quoted words are a phrase (a button label, a feature); one is a value or name.
            kind = "phrase" if len(piece[1:-1].split()) > 1 else "quoted"
        else:
            kind = "aside" if piece[0] in "([" else "plain"
        out.append((piece if kind == "plain" else piece[1:-1], kind))
    return out


@cache
def default_index() -> SearchIndex:
    """The index over the shipped catalog, built on first use."""
    return SearchIndex(load_catalog())


def search(query: str, **options) -> list[Hit]:
    return default_index().search(query, **options)
