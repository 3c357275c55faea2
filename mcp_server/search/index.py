"""Fuzzy search over the operation catalog: the index, scoring and filters.

The index is built once per catalog: every operation becomes a bag of stemmed terms, each with the
weight of the strongest field it appears in (method name, summary, keywords, description, ...), plus
the verb classes it answers to, the thing it acts on, and whether it acts on many things at once.
A query, read by `intent.parse`, brings weighted terms with their synonyms and typo corrections;
they are scored against the posting lists, then structural agreement (verb, object, plurality)
reorders, and deprecated operations fall below their replacements.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from ..catalog import Catalog, Operation, allowed, load_catalog
from ..engine.permissions import IMPLICIT_KEY_SCOPES
from .intent import ParsedQuery, parse
from .vocabulary import (
    RETRIEVAL,
    SYNONYM_WEIGHT,
    SYNONYMS,
    VERB_CLASSES,
    VERB_OF_STEM,
    compounds,
    is_plural,
    split_camel,
    stem,
    words,
)

MAX_QUERY_LENGTH = 1000
# What operations named only by a verb (tablesDB.create, account.get) act on.
SERVICE_OBJECTS = {
    "tablesDB": ("database",),
    "databases": ("database",),
    "documentsDB": ("database", "documentsdb"),
    "vectorsDB": ("database", "vectorsdb"),
    "account": ("account", "user"),
}
# What a service calls the records its document operations act on: a vector database stores vectors
# ("delete every vector whose source is …" acts on documents, not on the database).
RECORD_NAMES = {"vectorsDB": ("vector", "embedding")}
TEMPLATE = stem("template")

# Field weights: how much a term tells about an operation, by where it appears.
NAME_WEIGHT = 3.0
SUMMARY_WEIGHT = 2.0
KEYWORD_WEIGHT = 2.0
GROUP_WEIGHT = 1.5
SERVICE_WEIGHT = 1.5
DESCRIPTION_WEIGHT = 0.7
PARAM_WEIGHT = 0.6
SERVICE_TEXT_WEIGHT = 0.6

# Typos are one edit (a transposition counts as one) away in words up to this length, two beyond.
MIN_TYPO_LENGTH = 5
TYPO_SHORT_WORD = 8
TYPO_WEIGHT = 0.85

# Structural agreement multipliers.
VERB_MATCH = 1.35
RETRIEVAL_NEAR_MATCH = 1.1
OBJECT_MATCH = 1.4
PLURALITY_MATCH = 1.15
DEPRECATED_FACTOR = 0.85
# The server acts with API-key rights: operations only a signed-in user can call rank a little lower.
SESSION_ONLY_FACTOR = 0.97
# The most the fit of verb, object and plurality can multiply a score by.
MAX_AGREEMENT = VERB_MATCH * OBJECT_MATCH * PLURALITY_MATCH
# Each word of a method name between verb and object that the query does not mention (createArgon2User
# for "create a user") makes the operation a more specialised answer than was asked for.
UNASKED_QUALIFIER_FACTOR = 0.8
# An operation of a service Appwrite 1.9 added (project settings, proxy rules, …) when the query does not
# name the service: such services administer what the older ones use, so they answer fewer needs.
NEWER_SERVICE_FACTOR = 0.9
# A create (or update) whose verb the query does not say while a sibling acting on the same thing with the
# other verb exists (createApplePlatform beside updateApplePlatform, for "change the app's bundle id"): the
# sibling is what was asked for. Switching a thing on is either: the create of the thing named (an authenticator
# for "turn on two-factor with an authenticator app") is not the wrong verb.
SIBLING_VERB_FACTOR = 0.8
# An operation whose namesake in another service is what the query names that service for (tablesDB.listIndexes
# when the query speaks of a vector collection, which vectorsDB.listIndexes serves).
NAMESAKE_FACTOR = 0.8
WRITE_VERBS = frozenset({"create", "update"})
CREATE = frozenset({"create"})
EXACT_NAME_BOOST = 3.0
# A word that ends one method name only and that few operations mention at all (Spotify, Kick, Box: the last
# words of updateOAuth2Spotify …) names that operation's object wherever the query says it ("let users log in
# with Spotify" configures the Spotify provider, though the words around it speak of signing in).
PROPER_HEAD_MAX_OPERATIONS = 5


class SearchError(ValueError):
    """The query or a filter is not acceptable; the message says why."""


@dataclass(frozen=True)
class Hit:
    op: Operation
    score: float


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
    return first if first in VERB_CLASSES else None


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
        head = stem(parts[-1].lower())
        records = RECORD_NAMES.get(op.service, ()) if head == "document" else ()
        # A template is a kind of what it shapes: an email template is an email the project sends.
        shaped = (parts[-2].lower(),) if head == TEMPLATE and len(parts) > 2 else ()
        return frozenset({head, *map(stem, (*records, *shaped))})
    return frozenset(stem(word) for word in SERVICE_OBJECTS.get(op.service, (op.service.lower(),)))


def last_compound(op: Operation) -> str | None:
    """The two words after the verb that end a method name, as one term (updateOAuth2WordPress -> wordpress)."""
    parts = split_camel(op.method)
    return stem("".join(parts[-2:]).lower()) if len(parts) > 2 else None


def operation_subjects(op: Operation) -> frozenset[str]:
    """The words that name what an operation is about: its service and the nouns of its method name
    (health.getQueueMails -> health, queue, mail; graphql.query -> graphql)."""
    names = [op.service, *split_camel(op.method)]
    return frozenset(term for term in map(stem, map(str.lower, names)) if term not in VERB_OF_STEM)


def plain_operations(operations: list[Operation]) -> set[tuple[str, str, str]]:
    """(service, verb, object) of every operation named by verb and object alone: users.create, tablesDB.getRow."""
    plain = set()
    for op in operations:
        parts = [part.lower() for part in split_camel(op.method)]
        objects = parts[1:] if len(parts) == 2 else SERVICE_OBJECTS.get(op.service, (op.service.lower(),))
        if len(parts) <= 2:
            plain.update((op.service, parts[0], stem(word)) for word in objects)
    return plain


def name_terms(parts: list[str]) -> frozenset[str]:
    """The terms of a run of method-name words; words that together are one term count as it (Big Int -> bigint)."""
    joined = stem("".join(parts).lower())
    if len(parts) > 1 and joined in SYNONYMS:
        return frozenset({joined})
    return frozenset(stem(part.lower()) for part in parts)


def operation_qualifiers(op: Operation, plain: set[tuple[str, str, str]]) -> frozenset[str]:
    """Words between verb and object in a method name that has a plain sibling: createArgon2User -> {argon2}
    (users.create exists); createMagicURLToken has none, so its words qualify nothing."""
    parts = [part.lower() for part in split_camel(op.method)]
    if len(parts) < 3 or (op.service, parts[0], stem(parts[-1])) not in plain:
        return frozenset()
    return name_terms(parts[1:-1])


def services_before_1_9(operations: list[Operation]) -> set[str]:
    return {op.service for op in operations if op.since == "1.8"}


def newcomer_qualifiers(operations: list[Operation]) -> list[frozenset[str]]:
    """What makes an operation Appwrite 1.9 added a narrower answer than the 1.8 ones beside it.

    - A service 1.9 added (documentsDB, project, proxy, …) is asked for by name, or by a word standing
      for it ("schemaless", "vector store"): its name qualifies each of its operations.
    - An operation 1.9 added to an older service beside one of the same verb and object
      (createBigIntColumn beside createIntegerColumn) is qualified by the words of its name between them.
    """
    older_services = services_before_1_9(operations)
    older_methods = {op.method for op in operations if op.since == "1.8"}
    older_shapes = {
        (op.service, parts[0].lower(), stem(parts[-1].lower()))
        for op in operations
        if op.since == "1.8"
        for parts in [split_camel(op.method)]
    }
    qualifiers = []
    for op in operations:
        parts = split_camel(op.method)
        if op.since == "1.8":
            qualifiers.append(frozenset())
        elif op.service not in older_services:
            qualifiers.append(frozenset({stem(op.service.lower())}) if op.method in older_methods else frozenset())
        elif len(parts) > 2 and (op.service, parts[0].lower(), stem(parts[-1].lower())) in older_shapes:
            qualifiers.append(name_terms(parts[1:-1]))
        else:
            qualifiers.append(frozenset())
    return qualifiers


def namesake_services(operations: list[Operation], qualifiers: list[frozenset[str]]) -> list[frozenset[str]]:
    """For each operation: the names of the services Appwrite 1.9 added that have a method of the same verb and
    object (and so qualify it: vectorsdb and documentsdb for tablesDB.listIndexes). A method named by its verb
    alone (get, delete) acts on each service's own resource: those are no namesakes."""
    by_method: dict[str, set[str]] = defaultdict(set)
    for op, qualifier in zip(operations, qualifiers, strict=True):
        if len(split_camel(op.method)) > 1:
            by_method[op.method] |= qualifier
    return [
        frozenset(by_method[op.method] - {stem(op.service.lower())} - qualifier)
        for op, qualifier in zip(operations, qualifiers, strict=True)
    ]


def sibling_verbs(operations: list[Operation]) -> list[frozenset[str]]:
    """For each operation: the verb classes of the operations of its service named by the same words after the
    verb (createApplePlatform, updateApplePlatform, getApplePlatform ...)."""
    shapes = [(op.service, tuple(split_camel(op.method)[1:])) for op in operations]
    verbs: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    for op, shape in zip(operations, shapes, strict=True):
        verbs[shape] |= operation_verbs(op)
    return [frozenset(verbs[shape]) for shape in shapes]


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


def related_terms(term: str) -> list[str]:
    """Synonyms of a term, and the verb classes it stands for."""
    return [*SYNONYMS.get(term, ()), *(stem(verb) for verb in VERB_OF_STEM.get(term, ()))]


class SearchIndex:
    """An inverted index over the catalog, built once; `search` only reads it."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.operations = catalog.operations
        self.position_of = {op.id: position for position, op in enumerate(self.operations)}
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
            self.by_name[op.method.lower()].append(position)
            self.by_name[op.id.lower()].append(position)
        self.verbs = [operation_verbs(op) for op in self.operations]
        self.heads = [operation_heads(op) for op in self.operations]
        # Operations every key may run without having chosen a scope for them (health checks, GraphQL) are
        # offered to a key only when the query asks for them: it names their service (or a synonym of it: "is
        # the database up" asks for health), or says a word of their name no other operation's name has.
        every_key = [set(op.scopes) <= IMPLICIT_KEY_SCOPES for op in self.operations]
        subjects = [operation_subjects(op) for op in self.operations]
        chosen = [words for words, implicit in zip(subjects, every_key, strict=True) if not implicit]
        shared = frozenset().union(*chosen)
        self.own_words = [words - shared for words in subjects]
        plain = plain_operations(self.operations)
        newcomers = newcomer_qualifiers(self.operations)
        self.qualifiers = [
            operation_qualifiers(op, plain) | newer for op, newer in zip(self.operations, newcomers, strict=True)
        ]
        self.namesakes = namesake_services(self.operations, newcomers)
        self.acts_on_many = acts_on_many(self.operations)
        self.sibling_verbs = sibling_verbs(self.operations)
        older_services = services_before_1_9(self.operations)
        # The service an operation belongs to when Appwrite 1.9 added the service (project, proxy, …).
        self.newer_service = [
            stem(op.service.lower()) if op.service not in older_services else None for op in self.operations
        ]
        self.all_heads = frozenset().union(*self.heads)
        self.resource_terms = frozenset(
            {stem(part.lower()) for op in self.operations for part in split_camel(op.method)[1:]}
            | {stem(op.service.lower()) for op in self.operations}
        )
        frequency: dict[str, int] = defaultdict(int)
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, bag in enumerate(bags):
            for term, weight in bag.items():
                frequency[term] += 1
                postings[term].append((position, weight))
        self.idf = {term: math.log(1 + len(self.operations) / df) for term, df in frequency.items()}
        # A brand written in camel case ends a method name as one word (updateOAuth2WordPress: wordpress, which its
        # prose spells out), not as its last part.
        names = [
            heads | ({brand} if brand in bag else set())
            for heads, bag, brand in zip(self.heads, bags, map(last_compound, self.operations), strict=True)
        ]
        head_count: dict[str, int] = defaultdict(int)
        for heads in names:
            for head in heads:
                head_count[head] += 1
        self.proper_heads = [
            frozenset(
                head for head in heads if head_count[head] == 1 and frequency.get(head, 0) <= PROPER_HEAD_MAX_OPERATIONS
            )
            for heads in names
        ]
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
        """(term, value) pairs a query term stands for: itself, its synonyms, its verb classes."""
        # A word is as informative as it is rare; a synonym cannot make it rarer than it is.
        related = [other for other in related_terms(term) if other in self.idf]
        ceiling = self.idf.get(term) or min((self.idf[other] for other in related), default=0.0)
        found = {term: factor * self.idf.get(term, 0.0)}
        for other in related:
            found.setdefault(other, SYNONYM_WEIGHT * factor * min(ceiling, self.idf[other]))
        return tuple((other, value) for other, value in found.items() if value > 0)

    def names_in(self, query: str) -> set[str]:
        """Operation ids and method names written out in the query (tablesDB.createRow, createRow)."""
        found = set()
        for raw in re.findall(r"[A-Za-z0-9_.]+", query):
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
        parsed = parse(query, self)
        matched = self.matches(parsed)
        if service is not None or scopes is not None or read_only:  # most searches filter nothing: skip the walk
            matched = {
                position: score
                for position, score in matched.items()
                if (service is None or self.operations[position].service == service)
                and allowed(self.operations[position], scopes, read_only)
                and (scopes is None or self.chosen_or_asked(position, parsed, scopes))
            }
        eligible = self.best(matched, parsed, limit)
        ranked = sorted(eligible, key=lambda position: (-eligible[position], position))
        if not parsed.legacy:
            ranked = self.replacements_first(ranked, matched, limit)
        # A replacement placed above its deprecated operation may not have been scored yet.
        return [
            Hit(self.operations[position], eligible.get(position) or self.scored(position, matched, parsed))
            for position in ranked[:limit]
        ]

    def best(self, matched: dict[int, float], parsed: ParsedQuery, limit: int) -> dict[int, float]:
        """The final scores of the operations that can rank among the first `limit`.

        The fit of verb, object and plurality multiplies a match's score by at most MAX_AGREEMENT, so once
        a match's own score times that falls below the limit-th final score, no later one can rank."""
        scores: dict[int, float] = {}
        floor: list[float] = []
        queue = [(-score, position) for position, score in matched.items()]
        heapq.heapify(queue)
        while queue:
            _, position = heapq.heappop(queue)
            if len(floor) >= limit and matched[position] * MAX_AGREEMENT < floor[0]:
                break
            scores[position] = matched[position] * self.agreement(position, parsed)
            heapq.heappush(floor, scores[position])
            if len(floor) > limit:
                heapq.heappop(floor)
        return scores

    def scored(self, position: int, matched: dict[int, float], parsed: ParsedQuery) -> float:
        return matched[position] * self.agreement(position, parsed)

    def chosen_or_asked(self, position: int, parsed: ParsedQuery, scopes: frozenset[str]) -> bool:
        """Whether a key's search shows an operation it may run: one it holds a scope of its own for, or one
        every key may run when the query asks for it; so those never fill a narrow key's results."""
        op = self.operations[position]
        return (
            not scopes.isdisjoint(op.scopes)
            or stem(op.service.lower()) in parsed.mentioned
            or not self.own_words[position].isdisjoint(parsed.said)
            or bool(parsed.names & {op.id.lower(), op.method.lower()})
        )

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

    @lru_cache(maxsize=8192)  # noqa: B019 - one index per catalog lives for the whole process
    def term_matches(self, expansions: tuple[tuple[str, float], ...]) -> dict[int, float]:
        """The operations one query word matches, each with its best value over the word's expansions (shared
        between searches: never changed)."""
        best: dict[int, float] = {}
        for expansion, factor in expansions:
            for position, value in self.postings.get(expansion, ()):
                value *= factor
                if best.get(position, 0.0) < value:
                    best[position] = value
        return best

    def matches(self, parsed: ParsedQuery) -> dict[int, float]:
        """Each matching operation's score from the words alone (before how well its verb and object fit)."""
        totals: dict[int, float] = {}
        for term in parsed.terms:
            weight = term.weight
            found = self.term_matches(term.expansions)
            if not totals:  # the first word's matches are the totals so far: built in one pass
                totals = {position: weight * value for position, value in found.items()}
                continue
            total = totals.get
            for position, value in found.items():
                totals[position] = total(position, 0.0) + weight * value
        for name in parsed.names:
            for position in self.by_name[name]:
                totals[position] = (totals.get(position, 0.0) + 1.0) * EXACT_NAME_BOOST
        return totals

    def agreement(self, position: int, parsed: ParsedQuery) -> float:
        """Multiplier for how well the operation's verb, object and plurality fit the query."""
        factor = 1.0
        verbs = self.verbs[position]
        if not verbs.isdisjoint(parsed.verbs):
            factor *= VERB_MATCH
        elif not parsed.verbs.isdisjoint(RETRIEVAL) and not verbs.isdisjoint(RETRIEVAL):
            factor *= RETRIEVAL_NEAR_MATCH
        elif (
            verbs <= WRITE_VERBS
            and not (verbs == CREATE and parsed.switching and not self.heads[position].isdisjoint(parsed.objects))
            and not (self.sibling_verbs[position] & parsed.verbs).isdisjoint(WRITE_VERBS)
        ):
            factor *= SIBLING_VERB_FACTOR
        if not self.heads[position].isdisjoint(parsed.objects) or not self.proper_heads[position].isdisjoint(
            parsed.said
        ):
            factor *= OBJECT_MATCH
        many = self.acts_on_many[position]
        if (parsed.plural and not parsed.singular) == many and (many or parsed.singular):
            factor *= PLURALITY_MATCH
        if self.operations[position].deprecated and not parsed.legacy:
            factor *= DEPRECATED_FACTOR
        if "key" not in self.operations[position].auth:
            factor *= SESSION_ONLY_FACTOR
        unasked = len(self.qualifiers[position] - parsed.mentioned)
        factor *= UNASKED_QUALIFIER_FACTOR**unasked
        service = self.newer_service[position]
        if service and service not in parsed.mentioned:
            factor *= NEWER_SERVICE_FACTOR
        if not self.namesakes[position].isdisjoint(parsed.mentioned):
            factor *= NAMESAKE_FACTOR
        return factor


@cache
def default_index() -> SearchIndex:
    """The index over the shipped catalog, built on first use."""
    return SearchIndex(load_catalog())
