"""Fuzz the API against its own OpenAPI schema: whatever comes in, never a 5xx.

The schema's bodies are also sent poisoned with what JSON text can spell but strict JSON and
UTF-8 cannot carry: NaN, Infinity and lone surrogates. Error bodies that echo such input
used to fail to encode (a 500 that reset the connection).
"""

from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings

schemathesis = pytest.importorskip("schemathesis")
EXAMPLES_PER_OPERATION = 12
BAD_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf])
LONE_SURROGATES = st.sampled_from(["\ud800", "\udfff", "x\udc80y"])
POISON = re.compile(rb"NaN|Infinity|\\ud[89a-f]", re.IGNORECASE)


def poisoned(value: object) -> st.SearchStrategy:
    """`value`, with numbers replaced at random by NaN or +-Infinity, strings given a lone
    surrogate, and objects an extra member holding both."""
    if isinstance(value, bool) or value is None:
        return st.just(value)
    if isinstance(value, int | float):
        return st.just(value) | BAD_NUMBERS
    if isinstance(value, str):
        return st.just(value) | LONE_SURROGATES.map(value.__add__)
    if isinstance(value, list):
        return st.tuples(*map(poisoned, value)).map(list)
    if isinstance(value, dict):
        members = st.fixed_dictionaries({k: poisoned(v) for k, v in value.items()})
        extra = st.dictionaries(LONE_SURROGATES, BAD_NUMBERS, max_size=1)
        return st.tuples(members, extra).map(lambda parts: {**parts[0], **parts[1]})
    return st.just(value)


def flatmap_body(_context: object, body: object) -> st.SearchStrategy:
    """Schemathesis hook: JSON bodies go out as text that may hold the poison."""
    if not isinstance(body, dict | list):
        return st.just(body)
    return poisoned(body).map(lambda value: json.dumps(value).encode())


@pytest.mark.slow
def test_no_server_errors_on_any_operation(tiny_model_dir, tmp_path):
    from schemathesis.checks import not_a_server_error

    app = create_app(ServiceSettings(tiny_model_dir,
                                     database_url=f"sqlite:///{tmp_path / 'fuzz.db'}"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.hook(flatmap_body)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12  # every endpoint is in the schema
    calls, poison_answers = [], []

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            response = case.call_and_validate(checks=[not_a_server_error])
            calls.append(response.status_code)
            if isinstance(case.body, bytes) and POISON.search(case.body):
                poison_answers.append((response.status_code, response.json()["detail"]))

        fuzz()
    assert len(calls) >= len(operations) and max(calls) < 500
    assert len(poison_answers) >= 20  # the poison really went out, and was answered
    assert all(400 <= status < 500 and detail for status, detail in poison_answers)
