"""Donations for the demo: each charity with a running project gets an approved bank account; the demo donor gives
to those projects (restricted) and to one charity's general fund, which the charity then allocates across its
running projects by share. All through the services the pages and the API use (receipts signed, ledger posted)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from shafaf.core.exceptions import DomainError
from shafaf.projects.choices import ACTIVE_STATUSES

from . import services


def seed_donations(*, projects, admin_of: Callable, ministry_admin, donor_user, say: Callable[[str], None]) -> dict:
    summary = {"donations": 0, "allocations": 0}
    if ministry_admin is None or donor_user is None:
        return summary
    running = [p for p in projects if p.status in ACTIVE_STATUSES and p.currency == "KWD"]
    by_charity: dict[int, list] = {}
    for project in running:
        by_charity.setdefault(project.charity_id, []).append(project)
    received = timezone.now() - dt.timedelta(hours=2)
    for number, (_charity_id, charity_projects) in enumerate(sorted(by_charity.items()), start=1):
        charity = charity_projects[0].charity
        admin = admin_of(charity_projects[0])
        try:
            account = services.bank_account_register(
                actor=admin, charity=charity, bank_name="بيت التمويل الكويتي", iban=_iban(number)
            )
            account = services.bank_account_approve(actor=ministry_admin, account=account)
            donor = services.donor_create(
                actor=admin,
                charity=charity,
                name_ar="يوسف البدر",
                name_en="Yousef Al-Badr",
                email="donor@example.com",
                consent_to_contact=True,
                user=donor_user,
            )
            for index, project in enumerate(charity_projects):
                services.donation_record(
                    actor=admin,
                    charity=charity,
                    donor=donor,
                    amount=f"{250 * (index + 1)}.500",
                    currency="KWD",
                    received_at=received,
                    channel="knet",
                    bank_account=account,
                    purpose="project",
                    project=project,
                )
                summary["donations"] += 1
                summary["allocations"] += 1
            general = services.donation_record(
                actor=admin,
                charity=charity,
                donor=donor,
                amount="100.000",
                currency="KWD",
                received_at=received,
                channel="bank_transfer",
                bank_account=account,
                purpose="general",
            )
            summary["donations"] += 1
            parts = services.allocate(
                actor=admin, donation=general, shares=[(project, 1) for project in charity_projects]
            )
            summary["allocations"] += len(parts)
        except DomainError as error:
            say(f"  {charity.slug}: no donations ({error.message})")
    return summary


def _iban(number: int) -> str:
    """A valid Kuwaiti IBAN (ISO 13616 check digits) for the demo's bank accounts."""
    bban = f"KFHO{number:022d}"
    digits = "".join(str(int(ch, 36)) for ch in bban + "KW00")
    check = 98 - int(digits) % 97
    return f"KW{check:02d}{bban}"
