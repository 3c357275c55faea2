"""Regular expressions for the `regex` query, on RE2: matching takes time linear in the value's length.

A pattern is compiled once (into a bounded cache shared by every query) within a memory budget;
one that RE2 cannot run — backreferences, lookaround, atomic groups, possessive quantifiers — or
whose program outgrows the budget is refused with the reason, before any row is read. Patterns are
case-sensitive and match anywhere in the value (add `^`/`$` to anchor, `(?i)` to ignore case).
"""

from __future__ import annotations

import re
from functools import lru_cache

import re2
from re2 import _re2

# What one compiled pattern may use (its program and its matching caches), and how many are kept.
MAX_MEMORY = 2 << 20
CACHE_SIZE = 64
_OPTIONS = re2.Options()
_OPTIONS.max_mem = MAX_MEMORY
_OPTIONS.log_errors = False
_OPTIONS.never_capture = True
_UNANCHORED = _re2.RE2.Anchor.UNANCHORED
# RE2's complaint -> what the pattern asked for, in the words a user knows.
_UNSUPPORTED = (
    # (?P=name) is a backreference; RE2 names it by its first three characters.
    (re.compile(r"invalid escape sequence: \\([1-9]|k|g)|invalid perl operator: \(\?P$"), "backreferences"),
    (re.compile(r"invalid perl operator: \(\?<?[=!]"), "lookahead or lookbehind"),
    (re.compile(r"invalid perl operator: \(\?>"), "atomic groups"),
    (re.compile(r"invalid perl operator: \(\?\("), "conditionals"),
    (re.compile(r"invalid perl operator: \(\?(R|\d|&)"), "recursion"),
    (re.compile(r"bad repetition operator: .\+"), "possessive quantifiers"),
)


class PatternError(ValueError):
    """A pattern that the regex query cannot run; the message says why."""


@lru_cache(maxsize=CACHE_SIZE)
def compiled(pattern: str) -> _re2.RE2:
    """The pattern, compiled; PatternError when RE2 cannot run it within the memory budget."""
    try:
        program = _re2.RE2(pattern.encode("utf-8"), _OPTIONS)
    except UnicodeEncodeError:
        raise PatternError("the pattern is not valid Unicode text") from None
    if program.ok():
        return program
    complaint = program.error().decode("utf-8", "replace")
    if complaint.startswith("pattern too large"):
        raise PatternError(f"the pattern needs more than the {MAX_MEMORY >> 20} MB of memory a pattern may use")
    feature = next((feature for test, feature in _UNSUPPORTED if test.search(complaint)), None)
    if feature is not None:
        raise PatternError(f"the pattern uses {feature}, which RE2 does not support (it matches in linear time)")
    raise PatternError(f"the pattern is not valid: {complaint}")


def search(pattern: str, value: object) -> bool:
    """Whether the pattern matches anywhere in the value (NULL matches nothing)."""
    if value is None:
        return False
    text = (value if isinstance(value, str) else str(value)).encode("utf-8", "surrogatepass")
    return compiled(pattern).Match(_UNANCHORED, text, 0, len(text))[0][0] >= 0
