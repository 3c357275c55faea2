"""What a search query asks for: its words with their roles, the action, the object, how many.

A query is read left to right. Quoted values, bracketed asides and ids are told apart from plain
words; punctuation ends a clause. The first verb (or a command verb that starts a later clause)
sets the action, the words right after it name the object, a preposition opens the place the object
lives in, and "that/which/when ..." after the object opens a clause that only describes it. Each
word gets a weight from its role and is expanded into index terms by the lexicon (the search index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from .vocabulary import (
    ADJECTIVE_VERBS,
    AIMED,
    AIMING_TARGETS,
    AIMING_VERBS,
    CLAUSE_MARKERS,
    CONTENT_VERBS,
    DETERMINERS,
    ITEM_TERMS,
    LEGACY_MARKERS,
    ON_OFF_VERBS,
    PHRASE_TERMS,
    PREPOSITIONS,
    PREVENTED,
    PREVENTING_VERBS,
    QUANTIFIERS,
    QUESTION_STARTS,
    SIGN_IN,
    SIGN_IN_METHOD,
    SIGN_IN_TERMS,
    SINGULAR_MARKERS,
    STOPWORDS,
    SUBORDINATORS,
    SWITCH_VERBS,
    SYNONYMS,
    UPDATE_MARKERS,
    UPSERT_MARKERS,
    VERB_CLASSES,
    VERB_OF_STEM,
    has_camel,
    is_plural,
    stem,
    words,
)

# Query word weights by role.
CONTAINER_WEIGHT = 0.7
CLAUSE_WEIGHT = 0.5
# Quoted text names values; bracketed asides explain. Either shares its weight between its words.
LITERAL_WEIGHTS = {"quoted": 0.35, "aside": 0.7, "phrase": 0.8, "address": 0.7}
LITERAL_WORDS = 2
IDENTIFIER_WEIGHT = 0.35
# A word the API does not know counts as a moderately informative mention of a row.
DATA_EXPANSIONS = (("row", 1.0),)
# How much a noun for the app's own records (an order, a blog post) counts, as itself and as a row.
DATA_NOUN_WEIGHT = 0.5
# The verb classes themselves ("delete" names no object; "upload" names a file).
CLASS_VERBS = frozenset(stem(verb) for verb in VERB_CLASSES)
SWITCH_TERMS = frozenset(stem(verb) for verb in SWITCH_VERBS)
ALLOWING = "to"
BOTH_WRITES = frozenset({"create", "update"})
ONE_OF = frozenset("a an this one".split())
PREVENTING_TERMS = frozenset(stem(verb) for verb in PREVENTING_VERBS)
ON_OFF_TERMS = frozenset(stem(verb) for verb in ON_OFF_VERBS) | PREVENTING_TERMS
# Three or more values offered as alternatives ("draft, published or archived", "'low', 'medium' or 'high'") are
# the choices of an enum; the list counts as that word, like a describing clause.
_CHOICES = re.compile(r"[\w'\"`]+\s*,\s*[\w'\"`]+\s*,?\s+or\s+[\w'\"`]+")
CHOICES_TERM = "enum"
CHOICES_WEIGHT = 0.5

# An upper-case name joined by underscores (DATABASE_URL) is how environment variables are named.
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
ENV_NAME_TERM = "variable"
_HEADING = re.compile(r"[A-Za-z][a-z]*(?: [A-Za-z][a-z-]*){0,3}:\s")
_BOUNDARY = re.compile(r"[;:!?,\u2014\u2013]+|\.+(?=\s|$)|\s-\s")
_RAW_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:['\u2019][A-Za-z]+)?")
# Web addresses, host names and email addresses are values; each says what kind of thing the query is about.
_ADDRESS = re.compile(
    r"(https?://\S+)|([\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|((?<![\w.@])(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|app|co|ai|cloud|site|xyz|me|info|biz)\b(?:/\S*)?)",
    re.IGNORECASE,
)
_ADDRESS_WORDS = ("url", "email", "domain")
_LITERAL = re.compile(r"""((?<![A-Za-z0-9])(?:"[^"]*"|'[^']*'|`[^`]*`)(?![A-Za-z0-9])|\([^)]*\)|\[[^\]]*\])""")


class Lexicon(Protocol):
    """What reading a query needs to know about the catalog's words."""

    resource_terms: frozenset[str]
    all_heads: frozenset[str]

    def known(self, term: str) -> bool: ...

    def resolve(self, word: str) -> tuple[str, float] | None: ...

    def expansions(self, term: str, factor: float) -> tuple[tuple[str, float], ...]: ...

    def names_in(self, query: str) -> set[str]: ...


@dataclass(frozen=True)
class QueryTerm:
    """One query word: its expansions (term, value) and how much the word counts."""

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
    switching: bool
    plural: bool
    singular: bool
    legacy: bool
    names: frozenset[str]

    @cached_property
    def mentioned(self) -> frozenset[str]:
        """Every index term the query's words stand for (the words themselves, synonyms, corrections)."""
        return frozenset(term for word in self.terms for term, _ in word.expansions)

    @cached_property
    def said(self) -> frozenset[str]:
        """The terms of the query's own words, without synonyms."""
        return frozenset(stem(word.word) for word in self.terms)


def segments(query: str) -> list[tuple[str, str]]:
    """The query cut into (text, kind) pieces: plain, quoted value, quoted phrase, bracketed aside, and
    addresses, each given as the word for its kind (url, email, domain)."""
    out = []
    for piece in _LITERAL.split(query):
        if not piece:
            continue
        if piece[0] in "\"'`":
            # Several quoted words are a phrase (a button label, a feature); one is a value or name.
            out.append((piece[1:-1], "phrase" if len(piece[1:-1].split()) > 1 else "quoted"))
        elif piece[0] in "([":
            out.append((piece[1:-1], "aside"))
        else:
            out.extend(addresses(piece))
    return out


def host_words(address: str) -> list[str]:
    """The names in an address's host, which may name a service (WordPress.com, hooks.example.com -> hooks)."""
    if "@" in address and "://" not in address:
        return []  # an email address's host is the sender's own domain
    host = address.split("://")[-1].split("/")[0]
    # www names nothing; example.com is the domain reserved for examples (RFC 2606).
    return [label for label in host.split(".")[:-1] if label.lower() not in ("www", "example")]


def addresses(text: str) -> list[tuple[str, str]]:
    """Plain text cut around the web addresses, host names and email addresses in it; each becomes the word for
    its kind and the names in its host."""
    out = []
    start = 0
    for match in _ADDRESS.finditer(text):
        out.append((text[start : match.start()], "plain"))
        out.append((" ".join([_ADDRESS_WORDS[match.lastindex - 1], *host_words(match.group())]), "address"))
        start = match.end()
    out.append((text[start:], "plain"))
    return [(piece, kind) for piece, kind in out if piece.strip()]


def tokens(query: str, lexicon: Lexicon) -> list[Token]:
    """The query's words in order, phrases joined, each with where it stands."""
    out: list[Token] = []
    for segment, kind in segments(query):
        # Punctuation ends a clause; the word after it may start a new command.
        pieces = _BOUNDARY.split(segment) if kind == "plain" else [segment]
        for number, piece in enumerate(pieces):
            found = segment_tokens(piece, kind, lexicon)
            if kind == "address" or (kind == "quoted" and len(found) <= 2 and re.search(r"[0-9_-]", piece)):
                found.append(Token("", kind, value=True))  # an address, or a quoted id such as 'T-881'
            # A quoted value or bracketed list shares one weight between its words.
            words_in = sum(1 for token in found if token.word)
            share = min(1.0, LITERAL_WORDS / max(1, words_in)) if kind in ("quoted", "aside", "address") else 1.0
            starts = kind == "plain" and (number > 0 or not out)
            out.extend(
                Token(t.word, t.kind, t.identifier, t.value, share, initial=starts and i == 0)
                for i, t in enumerate(found)
            )
    return out


def segment_tokens(segment: str, kind: str, lexicon: Lexicon) -> list[Token]:
    """Words of one piece of the query; numbers and ids like u_55 or is_archived become values."""
    found: list[Token] = []
    plain: list[str] = []
    for raw in _RAW_TOKEN.findall(segment):
        if raw.isdigit():
            special = [Token("", kind, value=True)]
        elif "_" in raw or (any(c.isdigit() for c in raw) and not lexicon.known(stem(raw.lower()))):
            parts = [part for part in words(raw.replace("_", " ")) if not part.isdigit()]
            special = [Token(part, kind, identifier=True) for part in parts] + [Token("", kind, value=True)]
            if _ENV_NAME.fullmatch(raw):  # DATABASE_URL, STRIPE_KEY: the name of an environment variable
                special.append(Token(ENV_NAME_TERM, kind, identifier=True))
        else:
            # Keep a known mixed-case word whole (WordPress) rather than split (word press).
            plain.append(raw.lower() if has_camel(raw) and lexicon.known(stem(raw.lower())) else raw)
            continue
        found += [Token(word, kind) for word in words(" ".join(plain))] + special
        plain = []
    return found + [Token(word, kind) for word in words(" ".join(plain))]


def role_weight(token: Token, container: bool, clause: bool) -> float:
    """How much a query word counts, from where it stands."""
    if token.kind != "plain":
        weight = LITERAL_WEIGHTS[token.kind] * token.share
    elif token.identifier:
        weight = IDENTIFIER_WEIGHT
    else:
        weight = CONTAINER_WEIGHT if container else 1.0
    return weight * CLAUSE_WEIGHT if clause else weight


def merged(*expansions: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """Expansions put together, each term at its highest value."""
    best: dict[str, float] = {}
    for term, value in (pair for group in expansions for pair in group):
        best[term] = max(value, best.get(term, 0.0))
    return tuple(best.items())


def phrase_ends(sequence: list[Token], position: int) -> bool:
    """Whether the word at `position` is the last of its phrase, the noun the words before it qualify."""
    if position + 1 == len(sequence):
        return True
    following = sequence[position + 1]
    return following.initial or following.kind != "plain" or following.word in PREPOSITIONS | CLAUSE_MARKERS


def names_data(sequence: list[Token], position: int, objects: set[str], lexicon: Lexicon) -> bool:
    """Whether the object phrase's last word may name the app's records: not after a noun of the API
    ("CREATE TABLE invoices" names a table)."""
    return phrase_ends(sequence, position) and lexicon.resource_terms.isdisjoint(objects)


def app_data(term: str, lexicon: Lexicon) -> bool:
    """Whether a known word names the app's own records rather than anything the API manages: an order, a
    blog post, a payment are rows (or documents), though the catalog's prose mentions them. A word the
    vocabulary joins a phrase into ("my account" -> self) names a concept of the API instead."""
    return term not in PHRASE_TERMS and lexicon.resource_terms.isdisjoint({term, *SYNONYMS.get(term, ())})


def aims(sequence: list[Token], position: int, lexicon: Lexicon) -> bool:
    """Whether the word at `position` aims what follows at a target later in its clause ("point X at Y"); before
    a noun of the API it names a kind of that noun instead ("point column to the table")."""
    following = sequence[position + 1 : position + 2]
    if following and following[0].kind == "plain" and stem(following[0].word) in lexicon.all_heads:
        return False
    for token in sequence[position + 1 :]:
        if token.initial:
            return False
        if token.kind == "plain" and token.word in AIMING_TARGETS:
            return True
    return False


def parse(query: str, lexicon: Lexicon) -> ParsedQuery:
    """Read a (validated) query: weighted terms, verb classes, object terms, plurality, legacy intent."""
    terms: list[QueryTerm] = []
    verbs: frozenset[str] = frozenset()
    objects: set[str] = set()
    plural = singular = singular_noun = legacy = updating = upserting = switching = on_off = preventing = False
    container = clause = phrase_open = commanded = after_noun = False
    phrase_nouns = 0
    data_words = lexicon.resource_terms | VERB_OF_STEM.keys()
    sequence = [token for token in tokens(query, lexicon) if token.word or token.value]
    if sequence and sequence[0].word in QUESTION_STARTS:
        # A yes/no question asks to read a state ("is the limit enabled", "did the transaction commit").
        verbs = frozenset({"get"})
    # A sentence that opens with "after/when/if …," sets the scene (its words count: they say when); the
    # clause after it says what to do.
    scene = bool(sequence) and sequence[0].word in SUBORDINATORS and any(token.initial for token in sequence[1:])
    # So does a heading before a colon ("Passwordless login: email the user a code", "Settings page: …"): it names
    # the topic; the words after it say what to do.
    scene = scene or bool(_HEADING.match(query))
    for position, token in enumerate(sequence):
        word = token.word
        if token.initial:
            scene = scene and position == 0
            container = clause = phrase_open = False
        if not word:
            continue
        literal = token.kind != "plain" or token.identifier
        if not literal and not verbs and word in AIMING_VERBS and aims(sequence, position, lexicon):
            word = AIMED
        # A noun right before an id or number names one record: "order ord_789", "article 42".
        named = not literal and position + 1 < len(sequence) and sequence[position + 1].value
        # A quantifier inside a describing clause counts that clause's nouns, not the object.
        plural = plural or (word in QUANTIFIERS and not clause)
        legacy = legacy or word in LEGACY_MARKERS
        singular = singular or word in SINGULAR_MARKERS or named
        # "that" right after the verb points at the object ("delete that row"); after a noun it
        # opens a clause ("a topic that users can subscribe to").
        clause = clause or (bool(verbs) and word in CLAUSE_MARKERS and not (phrase_open and not phrase_nouns))
        updating = updating or word in UPDATE_MARKERS
        upserting = upserting or word in UPSERT_MARKERS
        if word == PREVENTED and preventing and not clause:
            objects, container, phrase_open, preventing = set(), False, True, False
            continue
        # Keeping one person ("block a spammer from logging in") from an action is about that account, not the
        # project's ways to sign in.
        preventing = preventing and word not in ONE_OF
        if word in PREPOSITIONS or word in STOPWORDS or len(word) < 2:
            after_noun = after_noun and word == ALLOWING
            container = container or word in PREPOSITIONS
            phrase_open = phrase_open and word in DETERMINERS and not clause
            continue
        weight = role_weight(token, container, clause)
        resolved = lexicon.resolve(word)
        if resolved is None or (named and resolved[0] not in data_words):
            # A word the API does not know names the app's own data: orders, tickets, invoices.
            terms.append(QueryTerm(word, DATA_EXPANSIONS, weight))
            if phrase_open and not literal and not container and names_data(sequence, position, objects, lexicon):
                objects |= ITEM_TERMS
            phrase_open = False
            continue
        term, factor = resolved
        data = False
        # The first verb sets the action, unless a later clause starts with a command verb
        # ("the writes are staged - commit the transaction").
        acts = term in VERB_OF_STEM and (token.initial or term not in ADJECTIVE_VERBS)
        # A verb after a noun and "to" says what the noun allows ("a key with permission to write files",
        # "the ability to act for others"), not what to do.
        acts = acts and not (container and after_noun)
        if not literal and not scene and acts and (not verbs or (token.initial and not commanded)):
            verbs = VERB_OF_STEM[term]
            switching = term in SWITCH_TERMS
            on_off = term in ON_OFF_TERMS
            preventing = term in PREVENTING_TERMS
            objects = {term, *SYNONYMS.get(term, ())}
            # A verb that names its own object (upload a file, invite a member, trigger an
            # execution) keeps it; the words after it say what goes in, not what is made.
            implied = term not in CLASS_VERBS and not objects.isdisjoint(lexicon.all_heads)
            container, phrase_open, commanded, phrase_nouns = False, not implied, token.initial, 0
            if term in CONTENT_VERBS:
                objects, container, phrase_open, plural = set(ITEM_TERMS), True, False, True
        elif phrase_open and not literal and not container:
            objects |= {term, *SYNONYMS.get(term, ())}
            phrase_nouns += 1
            if names_data(sequence, position, objects - {term}, lexicon) and app_data(term, lexicon):
                objects |= ITEM_TERMS
                data = True
        if not (literal or container or clause):
            # Only a noun counts things: "exists" or "fails" after the object is a verb.
            if is_plural(word) and (term in lexicon.resource_terms or term in SYNONYMS):
                plural = True
            elif term in lexicon.resource_terms:
                singular_noun = True
        after_noun = term not in VERB_OF_STEM
        found = lexicon.expansions(term, factor)
        if data:
            # A noun for the app's records stands for a row; the catalog's prose names such nouns only as
            # examples, so the word itself tells less about the operation.
            found = merged(*(lexicon.expansions(each, DATA_NOUN_WEIGHT * factor) for each in (term, "row")))
        if found:
            terms.append(QueryTerm(word, found, weight))
    singular = (singular or singular_noun) and not plural
    if on_off and not objects.isdisjoint(SIGN_IN_TERMS):
        objects = objects - SIGN_IN_TERMS - set(SYNONYMS[SIGN_IN]) | {SIGN_IN_METHOD}
    if "get" in verbs and plural and not singular:
        verbs = verbs - {"get"} | {"list"}
    if upserting:
        verbs = frozenset({"upsert"})
    elif verbs >= BOTH_WRITES:
        # A verb that makes a thing or changes it (set, save, keep) is what an upsert does.
        verbs |= {"upsert"}
    elif updating:
        verbs |= {"update"}
    if _CHOICES.search(query):
        terms.append(QueryTerm(CHOICES_TERM, lexicon.expansions(CHOICES_TERM, 1.0), CHOICES_WEIGHT))
    names = frozenset(lexicon.names_in(query))
    return ParsedQuery(tuple(terms), verbs, frozenset(objects), switching, plural, singular, legacy, names)
