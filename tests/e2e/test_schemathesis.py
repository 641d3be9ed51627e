"""A bounded schemathesis run against a local stack: the document the stack serves at /openapi.json drives
generated requests (valid ones and, per operation, some that break the document's rules) to every operation,
and every answer must be no 5xx, of a status the document lists for the operation, of a content type it lists
for that status, with a body its schema accepts.

Bounded and deterministic: a fixed number of cases per operation and generation mode, hypothesis derandomized,
no example database, no shrinking; requests go to 127.0.0.1 only. The stack is its own (with the demo loaded),
so the random surveys, accounts and erasures the run makes never meet the other e2e tests' data.
"""

from __future__ import annotations

import requests
import schemathesis  # pinned in requirements-dev.txt, beside the hypothesis it runs on
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.api.openapi.assembler import operations as document_operations

CASES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 4}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def run_operation(operation, mode, base_url, session, headers, cases: list, failures: list) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=CASES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case):
        cases.append(operation.label)
        try:
            case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=CHECKS, timeout=30)
        except (Exception, FailureGroup) as failure:  # every failure is recorded with its request; the run goes on
            failures.append(f"{operation.label} [{mode.value}]\n  {case.as_curl_command()}\n  {failure}")

    try:
        one()
    except Unsatisfiable:
        # Nothing in the operation can be broken on the wire (only free-form strings): no negative case exists.
        assert mode is GenerationMode.NEGATIVE, f"no valid request could be made for {operation.label}"


def test_generated_requests_get_documented_answers(start_local_stack):
    stack = start_local_stack(demo=True)
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/openapi.json", timeout=30)
    operations = [result.ok() for result in schema.get_all_operations()]
    # The stack serves the whole document; schemathesis leaves out the operation that serves the document itself
    # (tests/functional/test_openapi.py checks that answer).
    called = {tuple(op.label.split(" ", 1)[::-1]) for op in operations}
    assert document_operations() - called == {("/openapi.json", "GET")} and len(called) > 30
    headers = {"Authorization": f"Bearer {stack.admin_token}"}
    cases: list = []
    failures: list = []
    with requests.Session() as session:
        session.trust_env = False  # loopback only: no proxy from the environment
        for operation in operations:
            for mode in CASES:
                run_operation(operation, mode, stack.base_url, session, headers, cases, failures)
    # Every operation was called, a few hundred times in all.
    assert {op.label for op in operations} <= set(cases)
    assert 200 <= len(cases) <= 400, len(cases)
    print(f"schemathesis: {len(cases)} cases over {len(operations)} operations, {len(failures)} failed")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures[:20])
