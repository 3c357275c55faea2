"""Spatial values of point, line and polygon columns, and the predicates spatial queries use.

Coordinates are [longitude, latitude]. A point is [x, y]; a line is [[x, y], ...] (two or more
points); a polygon is a list of closed rings [[[x, y], ...], ...] (a single ring may be given bare).
Distances in meters are great-circle distances on a 6,371,008.8 m sphere; otherwise they are in
degrees. Predicates treat shapes as planar, like a geometry without a curved-earth model.
"""

from __future__ import annotations

import itertools
import math

EARTH_RADIUS_M = 6_371_008.8
Point = tuple[float, float]


class GeometryError(ValueError):
    """A value is not a valid point, line or polygon; the message says what is wrong."""


def _point(value: object, what: str) -> Point:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
    ):
        raise GeometryError(f"{what} must be an array of two numbers [longitude, latitude]")
    x, y = float(value[0]), float(value[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GeometryError(f"{what} coordinates must be finite numbers")
    return (x, y)


def parse_point(value: object) -> list[float]:
    return list(_point(value, "Point"))


def parse_line(value: object) -> list[list[float]]:
    if not isinstance(value, list) or len(value) < 2:
        raise GeometryError("Line must be an array of two or more points [[x, y], [x, y], ...]")
    return [list(_point(point, f"Line point {i}")) for i, point in enumerate(value)]


def parse_polygon(value: object) -> list[list[list[float]]]:
    if not isinstance(value, list) or not value:
        raise GeometryError("Polygon must be an array of rings [[[x, y], ...], ...]")
    rings = (
        [value] if value and isinstance(value[0], list) and value[0] and not isinstance(value[0][0], list) else value
    )
    parsed = []
    for index, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) < 4:
            raise GeometryError(f"Polygon ring {index} must have at least four points, the last equal to the first")
        points = [list(_point(point, f"Polygon ring {index} point {i}")) for i, point in enumerate(ring)]
        if points[0] != points[-1]:
            raise GeometryError(f"Polygon ring {index} must be closed: its last point must equal its first")
        parsed.append(points)
    return parsed


PARSERS = {"point": parse_point, "line": parse_line, "polygon": parse_polygon}


def parse_shape(value: object) -> tuple[str, object]:
    """Recognise any geometry value by its nesting: point, line or polygon."""
    depth = 0
    probe = value
    while isinstance(probe, list) and probe:
        depth += 1
        probe = probe[0]
    kind = {1: "point", 2: "line", 3: "polygon"}.get(depth)
    if kind is None:
        raise GeometryError("Geometry must be a point [x, y], a line [[x, y], ...] or a polygon [[[x, y], ...]]")
    return kind, PARSERS[kind](value)


def vertices(kind: str, shape: object) -> list[Point]:
    if kind == "point":
        return [tuple(shape)]  # type: ignore[list-item]
    if kind == "line":
        return [tuple(p) for p in shape]  # type: ignore[union-attr]
    return [tuple(p) for ring in shape for p in ring]  # type: ignore[union-attr]


def segments(kind: str, shape: object) -> list[tuple[Point, Point]]:
    if kind == "point":
        return []
    lines = [shape] if kind == "line" else shape
    return [(tuple(a), tuple(b)) for line in lines for a, b in itertools.pairwise(line)]  # type: ignore[union-attr]


def haversine(a: Point, b: Point) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _orientation(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return (
        abs(_orientation(a, b, p)) < 1e-12
        and min(a[0], b[0]) - 1e-12 <= p[0] <= max(a[0], b[0]) + 1e-12
        and min(a[1], b[1]) - 1e-12 <= p[1] <= max(a[1], b[1]) + 1e-12
    )


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    o1, o2, o3, o4 = _orientation(a, b, c), _orientation(a, b, d), _orientation(c, d, a), _orientation(c, d, b)
    if (o1 > 0) != (o2 > 0) and (o3 > 0) != (o4 > 0) and 0 not in (o1, o2, o3, o4):
        return True
    return _on_segment(a, b, c) or _on_segment(a, b, d) or _on_segment(c, d, a) or _on_segment(c, d, b)


def point_in_ring(point: Point, ring: list[list[float]]) -> bool:
    inside = False
    x, y = point
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def point_in_polygon(point: Point, polygon: list) -> bool:
    """Inside the outer ring and outside every hole (points on an edge count as inside)."""
    outer, *holes = polygon
    on_edge = any(_on_segment(tuple(a), tuple(b), point) for a, b in itertools.pairwise(outer))
    return (on_edge or point_in_ring(point, outer)) and not any(point_in_ring(point, hole) for hole in holes)


def contains(kind_a: str, a: object, kind_b: str, b: object) -> bool:
    """Whether shape a contains shape b."""
    if kind_a == "polygon":
        return all(point_in_polygon(p, a) for p in vertices(kind_b, b))  # type: ignore[arg-type]
    if kind_a == "line":
        return all(any(_on_segment(s, e, p) for s, e in segments("line", a)) for p in vertices(kind_b, b))
    return kind_b == "point" and tuple(a) == tuple(b)  # type: ignore[arg-type]


def intersects(kind_a: str, a: object, kind_b: str, b: object) -> bool:
    """Whether the shapes share at least one point: edges cross, or a vertex of one lies in the other."""
    if any(segments_intersect(*s, *t) for s in segments(kind_a, a) for t in segments(kind_b, b)):
        return True
    return any(contains(kind_a, a, "point", list(p)) for p in vertices(kind_b, b)) or any(
        contains(kind_b, b, "point", list(p)) for p in vertices(kind_a, a)
    )


def strictly_inside(kind: str, shape: object, point: Point) -> bool:
    """A point in a polygon's interior, not on its boundary."""
    if kind != "polygon":
        return False
    on_edge = any(_on_segment(s, e, point) for s, e in segments("polygon", shape))
    return not on_edge and point_in_polygon(point, shape)  # type: ignore[arg-type]


def touches(kind_a: str, a: object, kind_b: str, b: object) -> bool:
    """They meet only on boundaries: they intersect, and no vertex of one lies strictly inside the other."""
    if not intersects(kind_a, a, kind_b, b):
        return False
    return not any(strictly_inside(kind_a, a, p) for p in vertices(kind_b, b)) and not any(
        strictly_inside(kind_b, b, p) for p in vertices(kind_a, a)
    )


def crosses(kind_a: str, a: object, kind_b: str, b: object) -> bool:
    """They intersect without either containing the other (a line passing through a polygon's edge)."""
    return (
        intersects(kind_a, a, kind_b, b) and not contains(kind_a, a, kind_b, b) and not contains(kind_b, b, kind_a, a)
    )


def overlaps(kind_a: str, a: object, kind_b: str, b: object) -> bool:
    """Same-dimension shapes sharing part of their interior, neither containing the other."""
    return (
        kind_a == kind_b and kind_a != "point" and crosses(kind_a, a, kind_b, b) and not touches(kind_a, a, kind_b, b)
    )


def distance(kind_a: str, a: object, kind_b: str, b: object, meters: bool) -> float:
    """Smallest distance between the vertices of two shapes (0 when they intersect)."""
    if intersects(kind_a, a, kind_b, b):
        return 0.0
    measure = haversine if meters else math.dist
    return min(measure(p, q) for p in vertices(kind_a, a) for q in vertices(kind_b, b))


PREDICATES = {
    "intersects": intersects,
    "crosses": crosses,
    "overlaps": overlaps,
    "touches": touches,
    "contains": contains,
}
