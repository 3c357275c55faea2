"""Operations the embedded engine does not run answer general_not_implemented, naming what is missing."""

from __future__ import annotations

import pytest

from mcp_server.engine.registry import HANDLERS
from mcp_server.engine.unimplemented import MISSING_FEATURES
from tests.engine.conftest import error_of

# One operation per service the engine lacks, with parameters that pass validation.
CALLS = {
    "functions": ("functions.createVcsDeployment", {"functionId": "f", "type": "branch", "reference": "main"}),
    "sites": ("sites.createVcsDeployment", {"siteId": "s", "type": "branch", "reference": "main"}),
}


def test_every_operation_without_a_handler_belongs_to_a_service_whose_missing_feature_is_named(catalog):
    lacking = {op.service for op in catalog.operations if op.id not in HANDLERS}
    assert lacking <= set(MISSING_FEATURES), lacking - set(MISSING_FEATURES)
    assert set(CALLS) == set(MISSING_FEATURES)


@pytest.mark.parametrize("service", sorted(CALLS))
def test_an_operation_the_engine_lacks_names_the_missing_feature_and_where_it_runs(engine, service):
    operation_id, params = CALLS[service]
    error = error_of(engine.call, operation_id, params)
    assert (error.type, error.code) == ("general_not_implemented", 405)
    assert operation_id in error.message and MISSING_FEATURES[service] in error.message, error.message
    assert "--endpoint" in error.message
