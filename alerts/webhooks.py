"""Webhook messages per Standard Webhooks (https://www.standardwebhooks.com): body, headers, signature (pure).

The signature is ``v1,`` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")) with the key
decoded from the receiver's ``whsec_<base64>`` secret. It is computed here with ``hmac`` over the exact body
bytes; the tests verify it with the reference ``standardwebhooks`` library. (That library's ``sign`` takes the
body as text and re-labels the timestamp's zone as UTC, which is easy to misuse; the bytes-in form is not.)
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from settings import WebhookReceiver

ALERT_FIELDS = ("id", "rule_id", "subject", "severity", "status", "summary", "labels", "value", "threshold",
                "annotations", "assignee", "fired_at", "acknowledged_at", "acknowledged_by", "resolved_at",
                "resolved_by", "predicted", "forecast_at", "expected_at", "expected_earliest",
                "expected_latest")  # fmt: skip


class ReceiverRefused(ValueError):
    """A receiver whose URL is not on the allow-list (IOC_ALERT_WEBHOOK_ALLOWED_HOSTS)."""


def new_message_id() -> str:
    """A fresh webhook-id: no '.', since the id is part of the signed content's dot-separated layout."""
    return f"msg_{uuid.uuid4().hex}"


def body(event_type: str, alert: Mapping[str, Any], change: Mapping[str, Any], link: str, at: datetime,
         text: str = "", language: str = "en") -> str:  # fmt: skip
    """The JSON body (compact, UTF-8): the alert as it is now, the change that caused the message, a link, and
    ``text``, a line for people in ``language`` (i18n/webhook_text.py)."""
    payload = {
        "type": event_type,
        "timestamp": at.isoformat(),
        "data": {"alert": {k: _plain(alert.get(k)) for k in ALERT_FIELDS},
                 "change": {k: _plain(v) for k, v in change.items()}, "link": link,
                 **({"text": text, "language": language} if text else {})},
    }  # fmt: skip
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def incident_body(event_type: str, incident: Mapping[str, Any], change: Mapping[str, Any], link: str, at: datetime,
                  text: str = "", language: str = "en") -> str:  # fmt: skip
    """The JSON body of an ``incident.opened`` / ``incident.closed`` message: the incident as it is now, the change,
    a link and the human line, laid out like an alert's (docs/ALERTS.md, "Webhooks")."""
    payload = {
        "type": event_type,
        "timestamp": at.isoformat(),
        "data": {"incident": {k: _plain(v) for k, v in incident.items()},
                 "change": {k: _plain(v) for k, v in change.items()}, "link": link,
                 **({"text": text, "language": language} if text else {})},
    }  # fmt: skip
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (validated by ``settings.WebhookReceiver``)."""
    return base64.b64decode(secret.removeprefix("whsec_"))


def signature(key: bytes, message_id: str, timestamp: int, payload: bytes) -> str:
    """The ``webhook-signature`` value for one attempt."""
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + payload
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(key: bytes, message_id: str, timestamp: int, payload: bytes) -> dict[str, str]:
    """The request headers of one attempt: the same webhook-id on every retry, a fresh timestamp and signature."""
    return {
        "content-type": "application/json; charset=utf-8",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, payload),
    }


def host_allowed(url: str, allowed_hosts: Iterable[str]) -> bool:
    """Whether the URL is http(s) and its host is on the allow-list (``*.example.org`` covers subdomains)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == entry or (entry.startswith("*.") and fnmatch.fnmatchcase(host, entry))
               for entry in allowed_hosts)  # fmt: skip


def check_receivers(receivers: Iterable[WebhookReceiver], allowed_hosts: Iterable[str]) -> None:
    """Refuse, with one clear message, every receiver whose host is not allowed (SSRF guard)."""
    allowed = tuple(allowed_hosts)
    refused = [f"receiver {r.name!r}: host {urlsplit(r.url).hostname!r} is not on the allow-list"
               for r in receivers if not host_allowed(r.url, allowed)]  # fmt: skip
    if refused:
        shown = ", ".join(allowed) or "(empty)"
        raise ReceiverRefused("; ".join(refused) + f". IOC_ALERT_WEBHOOK_ALLOWED_HOSTS is {shown}; add the host "
                              "there if this receiver is wanted.")  # fmt: skip
