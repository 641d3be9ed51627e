"""The local stack's own AWS calls answered by moto in-process, without the HTTP round trip.

The stack's functions, poller and sampler call DynamoDB, DynamoDB Streams and SQS at the moto server's URL. Each
call would cross a socket to werkzeug and Flask in the same process (a thread started per connection), which costs
several times what moto's own work does, and every function invocation makes a few of them. Here a botocore
`before-send` hook hands a request for that URL straight to moto's dispatch, the code the server runs for it,
so the answer is the same; the server still serves anyone else (the AWS CLI, a test) from the same backends.
`lock` is the lock the server answers under: moto's backends have no locks of their own.
"""

from __future__ import annotations

import threading

# botocore's service id (as in its event names) -> the AWS host whose URL patterns moto's dispatch knows.
HOSTS = {
    "dynamodb": "https://dynamodb.{region}.amazonaws.com",
    "dynamodb-streams": "https://streams.dynamodb.{region}.amazonaws.com",
    "sqs": "https://sqs.{region}.amazonaws.com",
}

_installed: list = []


def install(endpoint: str, lock: threading.Lock, region: str = "us-east-1") -> None:
    """Answer requests for `endpoint` in-process, for every botocore session created from now on."""
    import botocore.handlers

    uninstall()
    handler = _Direct(endpoint.rstrip("/"), lock, region)
    botocore.handlers.BUILTIN_HANDLERS.append(("before-send", handler))
    _installed.append(handler)


def uninstall() -> None:
    import botocore.handlers

    for handler in _installed:
        handler.enabled = False
        botocore.handlers.BUILTIN_HANDLERS[:] = [h for h in botocore.handlers.BUILTIN_HANDLERS if h[1] is not handler]
    _installed.clear()


class _Direct:
    def __init__(self, endpoint: str, lock: threading.Lock, region: str):
        from moto.core.botocore_stubber import BotocoreStubber

        self.endpoint = endpoint
        self.lock = lock
        self.region = region
        self.enabled = True
        self._stubber = BotocoreStubber()  # only its request routing is used; never registered or enabled
        self.answered = 0

    def __call__(self, request, event_name: str = "", **kwargs):
        if not self.enabled or not request.url.startswith(self.endpoint + "/"):
            return None
        service = event_name.split(".")[1] if event_name.count(".") >= 1 else ""
        host = HOSTS.get(service)
        if host is None:
            return None  # another service: over HTTP, as before
        from botocore.awsrequest import AWSPreparedRequest, AWSResponse
        from moto.core.botocore_stubber import MockRawResponse

        aws_request = AWSPreparedRequest(
            method=request.method,
            url=host.format(region=self.region) + request.url[len(self.endpoint) :],
            headers=request.headers,
            body=request.body,
            stream_output=False,
        )
        with self.lock:
            answer = self._stubber.process_request(aws_request)
            self.answered += 1
        if answer is None:
            return None
        status, headers, body = answer
        return AWSResponse(request.url, status, headers, MockRawResponse(body))
