"""Retires the receipt-signing key and brings in a new one; receipts signed with retired keys still verify."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from shafaf.donations import receipts


class Command(BaseCommand):
    help = (
        "Generates a new Ed25519 receipt key, retires the current one (its public key stays in the key ring, so "
        "the receipts it signed still verify) and lists the ring. Running processes sign with the new key from "
        "their next receipt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="only list the key ring")

    def handle(self, *args, **options):
        if not options["list"]:
            new = receipts.rotate_key()
            self.stdout.write(self.style.SUCCESS(f"New receipt key {new.id} ({new.fingerprint})."))
            self.stdout.write(f"Key ring: {receipts.keyring_path()}")
        for key in receipts.all_keys():
            state = "current" if key.is_current else f"retired {key.retired.isoformat()}"
            created = key.created.isoformat() if key.created else "-"
            self.stdout.write(f"{key.id}  from {created}  {state}  {key.fingerprint}")
