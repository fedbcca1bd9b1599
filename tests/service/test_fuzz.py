"""Fuzz the API against its own OpenAPI schema: whatever comes in, never a 5xx."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings

schemathesis = pytest.importorskip("schemathesis")
EXAMPLES_PER_OPERATION = 12


@pytest.mark.slow
def test_no_server_errors_on_any_operation(tiny_model_dir, tmp_path):
    from schemathesis.checks import not_a_server_error

    app = create_app(ServiceSettings(tiny_model_dir,
                                     database_url=f"sqlite:///{tmp_path / 'fuzz.db'}"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12  # every endpoint is in the schema
    calls = []

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            response = case.call_and_validate(checks=[not_a_server_error])
            calls.append(response.status_code)

        fuzz()
    assert len(calls) >= len(operations) and max(calls) < 500
