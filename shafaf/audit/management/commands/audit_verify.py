import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shafaf.audit.chain import verify_against_checkpoint, verify_everything


class Command(BaseCommand):
    help = (
        "Verifies the audit hash chain. Exits 0 when it is whole; otherwise names the first bad event and "
        "exits 1. With --checkpoint FILE (written by audit_checkpoint), also proves that no event the "
        "checkpoint saw was cut or rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", type=Path, help="a checkpoint file written by audit_checkpoint --output")

    def handle(self, *args, checkpoint=None, **options):
        if checkpoint is not None:
            try:
                data = json.loads(checkpoint.read_text(encoding="utf-8"))
                count, head_hash = int(data["count"]), str(data["head_hash"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"cannot read checkpoint {checkpoint}: {exc}") from exc
            result = verify_against_checkpoint(count, head_hash)
            if result.ok:
                result = verify_everything()
        else:
            result = verify_everything()
        if not result.ok:
            self.stderr.write(f"audit chain BROKEN at {result.problem}")
            raise SystemExit(1)
        self.stdout.write(f"audit chain OK: {result.count} events, head {result.head_hash}")
