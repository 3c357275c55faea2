"""The advisor service: no analyzer runs beside the engine, so there are no reports, as on a self-hosted server."""

from __future__ import annotations

import pytest

from tests.engine.conftest import error_of, q


def test_the_report_list_is_empty_and_its_queries_are_checked(call):
    assert call("advisor.listReports") == {"total": 0, "reports": []}
    assert call("advisor.listReports", queries=[q("equal", "type", ["performance"])], total=False) == {
        "total": 0,
        "reports": [],
    }
    error = error_of(call, "advisor.listReports", queries=[q("equal", "secret", ["x"])])
    assert (error.type, error.code) == ("general_query_invalid", 400)
    assert "secret" in error.message


@pytest.mark.parametrize(
    ("operation_id", "params"),
    [
        ("advisor.getReport", {"reportId": "r1"}),
        ("advisor.deleteReport", {"reportId": "r1"}),
        ("advisor.listInsights", {"reportId": "r1"}),
        ("advisor.getInsight", {"reportId": "r1", "insightId": "i1"}),
    ],
)
def test_a_report_asked_for_by_id_is_not_found(call, operation_id, params):
    error = error_of(call, operation_id, **params)
    assert (error.type, error.code) == ("report_not_found", 404)
    assert "r1" in error.message
