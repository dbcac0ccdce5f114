"""`manage.py coordination_scan --jsonl OUT [--engine duckdb|spark] [--work-dir DIR]`: scans every compared project
of every charity with the active model (shafaf.coordination.batch.scan: Splink on DuckDB, or on Spark's local mode
with `--engine spark` after `pip install pyspark`) and writes each cross-charity pair at or above "possible overlap"
to OUT, one JSON object a line:

    {"a", "b", "a_ref", "b_ref", "charity_a", "charity_b", "score", "level", "reasons"}

(`a` < `b` the projects' ids, `a_ref`/`b_ref` their IATI identifiers when imported, else their references,
`charity_a`/`charity_b` the charities' slugs, `level` "likely" or "possible"). Progress goes to stderr and to the
scan's row (the ministry's page shows it); the summary, with the pairs new since the previous finished scan, to
stdout. New pairs open (or update) their flags in the ministry's queue.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

ENGINES = ("duckdb", "spark")


class Command(BaseCommand):
    help = "Scan every compared project for cross-charity overlaps and write them as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("--jsonl", required=True, help="the output file (one JSON object per pair)")
        parser.add_argument("--engine", choices=ENGINES, default="duckdb", help="the batch engine (default duckdb)")
        parser.add_argument("--work-dir", help="a directory for the engine's temporary files")

    def handle(self, *args, jsonl, engine, work_dir=None, **options):
        from shafaf.coordination.services import scan_run_now

        started = time.monotonic()
        last = [0.0, ""]

        def progress(done: int, total: int, message: str) -> None:
            now = time.monotonic()
            if message == last[1] and now - last[0] < 1.0 and done != total:
                return
            last[0], last[1] = now, message
            share = f" ({done * 100 // total}%)" if total else ""
            self.stderr.write(f"[{now - started:7.1f} s] {message}: {done:,}/{total:,}{share}")

        try:
            run = scan_run_now(jsonl_path=jsonl, engine=engine, progress=progress, work_dir=work_dir)
        except ImportError as error:
            if engine == "spark":
                raise CommandError(f"The Spark engine needs pyspark: pip install pyspark ({error}).") from error
            raise
        self.stdout.write(f"scan {run.pk} ({run.engine}, model v{run.model_version.number}) done")
        self.stdout.write(f"projects scanned: {run.records:,}")
        self.stdout.write(f"cross-charity pairs: {run.pairs:,} (likely duplicates: {run.likely:,})")
        self.stdout.write(f"new since the previous scan: {run.new_pairs:,}")
        self.stdout.write(f"written to {jsonl} in {time.monotonic() - started:.1f} s")
