"""SES v2, the one way out for email: send one raw MIME message, and tell its failure's code."""

from __future__ import annotations

from typing import Any


class SendFailed(Exception):
    """SES refused or could not take the message; `code` is its error code (domain/sending.py reads it)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class SesMailer:
    """Sends through the SES v2 API (`SendEmail` with raw content), in the configuration set when one is set,
    so bounce and complaint events come back tagged with the invitation."""

    def __init__(self, region: str, configuration_set: str | None = None, client: Any = None) -> None:
        if client is None:
            import boto3  # here: only the sender pays for the client

            client = boto3.client("sesv2", region_name=region)
        self.client = client
        self.configuration_set = configuration_set

    def send(self, *, sender: str, to: str, raw: bytes, tags: dict[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        params: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": raw}},
            "EmailTags": [{"Name": k, "Value": v} for k, v in sorted(tags.items())],
        }
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            answer = self.client.send_email(**params)
        except ClientError as error:
            detail = error.response.get("Error", {})
            raise SendFailed(detail.get("Code") or "ClientError", detail.get("Message") or "") from None
        except BotoCoreError as error:  # no answer at all (connection, timeout): worth another try
            raise SendFailed("ServiceUnavailable", type(error).__name__) from None
        return str(answer["MessageId"])
