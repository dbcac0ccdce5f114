"""Receipts: the public verification page and form, the published public key (no login), and the PDFs (a
donation's receipt, a donor's annual statement) for those who may see them (404 for anyone else)."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from . import receipts, selectors

CODE_SHAPE = re.compile(r"^[A-Z2-7]+-[A-Z2-7]+(-[A-Z2-7]{8})?$")
FIRST_YEAR = 2000


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr", "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("The code printed under the QR code of the receipt, or the address the QR code opens."),
    )

    def clean_code(self):
        code = receipts.normalise_code(self.cleaned_data["code"])
        if not CODE_SHAPE.match(code):
            raise forms.ValidationError(_("This is not a receipt verification code."), code="not_a_code")
        return code


def _public(response: HttpResponse) -> HttpResponse:
    """Public pages about receipts are not indexed, not cached by shared caches and leak no referrer."""
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
@require_safe
def verify_form_view(request):
    """The form to paste a code (GET, so the result has its own address to share)."""
    form = VerifyForm(request.GET) if "code" in request.GET else VerifyForm()
    if form.is_bound and form.is_valid():
        return redirect("donations:verify", code=form.cleaned_data["code"])
    return _public(render(request, "donations/verify_form.html", {"form": form}))


@login_not_required
@require_safe
def verify_view(request, code: str):
    """What a receipt code vouches for, checked with the platform's key and against the record."""
    verification = receipts.verify_code(code)
    context = {
        "verification": verification,
        "facts": verification.facts,
        "code": receipts.normalise_code(code),
        "form": VerifyForm(),
    }
    return _public(render(request, "donations/verify.html", context))


@login_not_required
@require_safe
def public_key_view(request):
    """The platform's public keys: the current one, in PEM and in base64, and the retired ones (receipts they
    signed still verify), each with its id and dates; and how to check a receipt with them."""
    ring = receipts.all_keys()
    context = {
        "pem": receipts.public_key_pem(),
        "base64": receipts.public_key_base64(),
        "fingerprint": receipts.public_key_fingerprint(),
        "current_id": receipts.current_key_id(),
        "keys": list(reversed(ring)),
        "first_id": ring[0].id,
    }
    return render(request, "donations/public_key.html", context)


@login_not_required
@require_safe
def public_key_pem_view(request):
    """The current public key as a PEM file, or the ring's key named by ``?key=<id>`` (404 if none)."""
    key_id = request.GET.get("key", "").strip().upper()
    if key_id:
        key = receipts.key_for(key_id)
        if key is None:
            raise Http404
        pem, name = key.public_key_pem, f"shafaf-receipts-ed25519-{key.id}.pub.pem"
    else:
        pem, name = receipts.public_key_pem(), "shafaf-receipts-ed25519.pub.pem"
    response = HttpResponse(pem, content_type="application/x-pem-file; charset=ascii")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _language(request) -> str:
    requested = request.GET.get("lang", "")
    if requested in ("ar", "en"):
        return requested
    return "en" if (get_language() or "ar").startswith("en") else "ar"


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
def receipt_pdf_view(request, pk: int):
    """A donation's bilingual receipt: for its charity, the ministry (and auditors), and the donor's account."""
    donation = selectors.donation_get(request.user, pk)
    safe_number = re.sub(r"[^A-Za-z0-9_-]", "_", donation.receipt_number)
    return _pdf(receipts.receipt_pdf(donation, _language(request)), f"receipt-{safe_number}.pdf")


@require_safe
def annual_statement_view(request, pk: int, year: int):
    """A donor's annual statement: for the donor's charity, the ministry (and auditors), and the donor's account."""
    donor = selectors.donor_get(request.user, pk)
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise Http404
    return _pdf(receipts.annual_statement_pdf(donor, year, _language(request)), f"statement-{donor.pk}-{year}.pdf")
