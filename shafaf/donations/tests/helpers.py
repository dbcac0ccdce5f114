"""Shared by the donations tests: the API's client, body and POST; a settlement file's import."""

from __future__ import annotations

import datetime as dt
import io

from django.test import Client
from django.utils import timezone, translation

from shafaf.accounts.services import api_token_create
from shafaf.donations import imports


def import_text(world, account, text: str | bytes, *, channel="knet", actor=None, progress=None):
    """Imports a settlement file's text (str as UTF-8, or bytes as they are) for charity A, in English."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    with translation.override("en"):
        return imports.import_start(
            actor=actor or world.najat,
            charity=world.charity_a,
            channel=channel,
            bank_account=account,
            file=io.BytesIO(data),
            file_name="knet.csv",
            progress=progress,
        )


def bearer(user) -> Client:
    _token, key = api_token_create(actor=user, user=user, name="api")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_ACCEPT_LANGUAGE="en")


def body(account_, donor_, **overrides) -> dict:
    data = {
        "donor": donor_.pk,
        "amount": "12.500",
        "currency": "KWD",
        "received_at": (timezone.now() - dt.timedelta(hours=1)).replace(microsecond=0).isoformat(),
        "channel": "knet",
        "bank_account": account_.pk,
        "purpose": "general",
    }
    data.update(overrides)
    return data


def post(client, data, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/donations/", data, content_type="application/json", **headers)
