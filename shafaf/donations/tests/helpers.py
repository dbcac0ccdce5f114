"""Shared by the settlement import tests."""

from __future__ import annotations

import io

from django.utils import translation

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
