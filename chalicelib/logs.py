"""The service's one JSON logger, configured once per process whichever function imports it first.

Every `nps.*` standard logger propagates to it, so request lines, stream record lines and sweep lines all come
out as structured JSON with the keys a function appends (correlation ids). Libraries that echo request bodies
at DEBUG (botocore, PynamoDB) are held above that level so a person's data can never reach the log through them.

Each Lambda handler is decorated with Powertools' `inject_lambda_context` (the function's name, request id and
cold start on every line). A correlation id that belongs to one request or one stream record is held with
`log_keys`, per thread: the chalice test client and the local stack serve several requests at once in one
process, and each request's lines must carry its own id, set when it starts and gone when it ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger

logger = Logger(service="nps")

# What `inject_lambda_context` appends for an invocation (with its correlation id): removed when it ends.
INVOCATION_KEYS = (
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "correlation_id",
)

logging.getLogger("botocore").setLevel(logging.WARNING)
logging.getLogger("pynamodb").setLevel(logging.INFO)


@contextmanager
def log_keys(**keys: object) -> Iterator[None]:
    """Every line this thread logs inside the block carries `keys` (None values are left out); the thread's
    keys of before come back when it ends, so blocks nest (a stream record's id inside its batch's)."""
    before = logger.thread_safe_get_current_keys()
    logger.thread_safe_append_keys(**{name: value for name, value in keys.items() if value is not None})
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        if before:
            logger.thread_safe_append_keys(**before)


def function_keys(context) -> dict[str, object]:
    """The keys `inject_lambda_context` logs for a Lambda context (none without one), for the API's requests,
    which the chalice app's own handler serves (app.py registers no decorator of ours around it)."""
    if context is None:
        return {}
    return {
        "function_name": getattr(context, "function_name", None),
        "function_memory_size": getattr(context, "memory_limit_in_mb", None),
        "function_arn": getattr(context, "invoked_function_arn", None) or None,
        "function_request_id": getattr(context, "aws_request_id", None),
    }


def end_invocation() -> None:
    """Remove the keys `inject_lambda_context` appended, once the invocation is done: a process that serves
    more than Lambda's one invocation (the local stack, tests) must not print them on unrelated lines."""
    logger.remove_keys(INVOCATION_KEYS)
