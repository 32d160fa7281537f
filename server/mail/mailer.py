"""Mailers: how an outbox row leaves the server. ``SesMailer`` (AWS SES v2 through boto3)
in production, ``EmlFileMailer`` (an .eml file per message) when nothing is configured.

Every mailer answers with the message id, or raises one of three errors that tell the
dispatcher what it may do next:

* ``MailTransient`` — certainly not sent (throttled, no connection): try again later.
* ``MailPermanent`` — refused for good (rejected address, unverified sender): record it.
* ``MailUnclear``   — SES may have taken it (timeout after sending, 5xx): never resend on
  its own; the row becomes ``unknown`` for a manager.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    outbox_id: int
    to: str
    subject: str
    text: str
    html: str


class MailError(Exception):
    pass


class MailTransient(MailError):
    pass


class MailPermanent(MailError):
    pass


class MailUnclear(MailError):
    pass


class Mailer(Protocol):
    def send(self, mail: OutgoingMail) -> str:
        """Hand the message over; returns the transport's message id."""
        ...


THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "LimitExceededException",
    "SendingPausedException",
    "RequestTimeout",
}


class SesMailer:
    """``sesv2.send_email`` with a simple (subject, text, html) message."""

    def __init__(self, client: Any, sender: str, configuration_set: str = "") -> None:
        self.client = client
        self.sender = sender
        self.configuration_set = configuration_set

    @classmethod
    def from_config(cls, config: Any) -> SesMailer:
        import boto3
        from botocore.config import Config as BotoConfig

        kwargs: dict[str, Any] = {
            "region_name": config.ses_region,
            # one try per call: the dispatcher owns retries, and must know what was sent
            "config": BotoConfig(
                retries={"max_attempts": 1, "mode": "standard"},
                connect_timeout=5,
                read_timeout=20,
            ),
        }
        if config.ses_endpoint_url:
            kwargs["endpoint_url"] = config.ses_endpoint_url
        return cls(boto3.client("sesv2", **kwargs), config.mail_from, config.ses_configuration_set)

    def send(self, mail: OutgoingMail) -> str:
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        params: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [mail.to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": mail.text, "Charset": "UTF-8"},
                        "Html": {"Data": mail.html, "Charset": "UTF-8"},
                    },
                }
            },
            "EmailTags": [{"Name": "outbox_id", "Value": str(mail.outbox_id)}],
        }
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            answer = self.client.send_email(**params)
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            raise MailTransient(f"SES unreachable: {exc}") from exc
        except BotoConnectionError as exc:  # read timeout, connection closed: maybe sent
            raise MailUnclear(f"SES connection broke: {exc}") from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            message = exc.response.get("Error", {}).get("Message", "") or str(exc)
            if code in THROTTLING or status == 429:
                raise MailTransient(f"{code}: {message}") from exc
            if status >= 500:
                raise MailUnclear(f"SES answered {status} {code}: {message}") from exc
            raise MailPermanent(f"{code}: {message}") from exc
        return str(answer["MessageId"])


class EmlFileMailer:
    """Writes each message as ``<outbox id>.eml`` into a folder (the embedded default), so
    `make run` shows what would have been sent. Writing is atomic (temp file + rename)."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder = folder
        self.sender = sender

    def send(self, mail: OutgoingMail) -> str:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message_id = make_msgid(domain="shopsmart.invalid")
        message["Message-ID"] = message_id
        message["X-ShopSmart-Outbox-Id"] = str(mail.outbox_id)
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype="html")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{mail.outbox_id:08d}.eml"
            temp = self.folder / f".{mail.outbox_id}.{uuid.uuid4().hex}.tmp"
            temp.write_bytes(bytes(message))
            os.replace(temp, target)
        except OSError as exc:
            raise MailTransient(f"cannot write {self.folder}: {exc.strerror}") from exc
        return message_id.strip("<>")


def mailer_from_config(config: Any) -> Mailer:
    if config.mail_backend == "ses":
        return SesMailer.from_config(config)
    if config.mail_backend == "eml":
        return EmlFileMailer(config.mail_dir, config.mail_from)
    raise ValueError(f"SHOPSMART_MAIL_BACKEND must be 'eml' or 'ses', not {config.mail_backend!r}")
