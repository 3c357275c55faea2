"""What the query property tests share: drawing a list of queries around a drawer of single filters.

A list holds up to three filters (nested in `and`/`or` up to two levels), up to two orders over the attributes
given, and maybe a limit and an offset, in any order, as the SDKs may send them.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st


def query_list(draw: Callable, leaf: Callable[[], dict], orderable: list[str]) -> list[dict]:
    """A random list of queries whose filters come from `leaf`, ordered by some of `orderable`."""

    def node(depth: int) -> dict:
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            children = [node(depth + 1) for _ in range(draw(st.integers(2, 3)))]
            return {"method": draw(st.sampled_from(["and", "or"])), "values": children}
        return leaf()

    queries = [node(0) for _ in range(draw(st.integers(0, 3)))]
    for _ in range(draw(st.integers(0, 2))):
        attribute = draw(st.sampled_from(orderable))
        queries.append({"method": draw(st.sampled_from(["orderAsc", "orderDesc"])), "attribute": attribute})
    if draw(st.booleans()):
        queries.append({"method": "limit", "values": [draw(st.integers(1, 12))]})
    if draw(st.booleans()):
        queries.append({"method": "offset", "values": [draw(st.integers(0, 6))]})
    return draw(st.permutations(queries))
