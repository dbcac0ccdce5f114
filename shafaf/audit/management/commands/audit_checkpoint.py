import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shafaf.audit.services import checkpoint_create


class Command(BaseCommand):
    help = (
        "Stores and prints the audit chain's length and head hash. Keep the printed line (or --output file) "
        "outside the database: `audit_verify --checkpoint FILE` later proves the history before it was not "
        "cut or rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="also write the checkpoint to this JSON file")

    def handle(self, *args, output=None, **options):
        try:
            checkpoint = checkpoint_create(actor=None)
        except ValueError as exc:
            raise CommandError(f"the audit chain is not whole, no checkpoint taken: {exc}") from exc
        data = {
            "count": checkpoint.count,
            "head_hash": checkpoint.head_hash,
            "created_at": checkpoint.created_at.isoformat(),
        }
        line = json.dumps(data, sort_keys=True)
        if output is not None:
            output.write_text(line + "\n", encoding="utf-8")
        self.stdout.write(line)
