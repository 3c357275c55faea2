"""What the query property tests share: drawing a list of queries around a drawer of single filters, and
checking that cursor pages join into the whole ordered list.

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


def assert_cursor_pages_concatenate(
    page_of: Callable[[list[dict]], list[str]], queries: list[dict], size: int, expected: list[str]
) -> None:
    """Pages of `size` fetched with cursorAfter from the start, then with cursorBefore from the last id, each join
    into `expected` (the ids the queries list, in order); `page_of` lists the ids of one page of queries."""
    forward: list[str] = []
    cursor = None
    for _ in range(len(expected) + 1):
        paging = [{"method": "limit", "values": [size]}]
        if cursor is not None:
            paging.append({"method": "cursorAfter", "values": [cursor]})
        page = page_of(queries + paging)
        forward += page
        if len(page) < size:
            break
        cursor = page[-1]
    assert forward == expected
    if expected:
        backward = [expected[-1]]
        for _ in range(len(expected) + 1):
            paging = [{"method": "limit", "values": [size]}, {"method": "cursorBefore", "values": [backward[0]]}]
            page = page_of(queries + paging)
            backward = page + backward
            if len(page) < size:
                break
        assert backward == expected
