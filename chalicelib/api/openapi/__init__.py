"""The OpenAPI 3.1 document of every route the app serves, built from the validation rules themselves.

The patterns, enums and limits come from `chalicelib.domain.validation` (and the few route modules that own a
limit), never restated, so a rule that changes changes the document with it. What the code does not hold as a
constant (the length of a survey's name, a list's largest `limit`) is written once, in `fragments`, and checked
against the real app by tests/functional/test_openapi.py, which also requires the document's (path, method) pairs
to equal the Chalice app's route table: a route added without its entry in a `*_paths` module fails the tests.
tests/e2e/test_schemathesis.py then sends a bounded, seeded run of generated requests to the local stack and
checks every answer against this document.

- `fragments`: content types, literal limits, schema builders, the common schemas, the collector of operations;
- `schemas`: the component schemas (the bodies taken and the answers given);
- `public_paths`, `survey_paths`, `account_paths`, `task_paths`, `metrics_paths`, `token_paths`: the operations,
  by group of routes;
- `assembler`: the document itself (`document()`, `operations()`).

Only `GET /openapi.json` (chalicelib/api/docs.py) imports this package, lazily, so no other request pays for it.
The local stack's own `/local/...` routes are tooling, never deployed, and not described here.
"""
