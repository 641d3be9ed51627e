"""The service's one JSON logger, configured once per process whichever function imports it first.

Every `nps.*` standard logger propagates to it, so request lines, stream record lines and sweep lines all come
out as structured JSON with the keys a function appends (correlation ids). Libraries that echo request bodies
at DEBUG (botocore, PynamoDB) are held above that level so a person's data can never reach the log through them.
"""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger

logger = Logger(service="nps")

logging.getLogger("botocore").setLevel(logging.WARNING)
logging.getLogger("pynamodb").setLevel(logging.INFO)
