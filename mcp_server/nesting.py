"""How deep a parsed JSON value nests: every face bounds it (the REST app's parameters, MCP messages)
before a reader recurses into it. Kept apart so that checking a message stays light to import."""

from __future__ import annotations


def depth_of(value: object) -> int:
    """How deep arrays and objects nest in a parsed value (without recursing)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest
