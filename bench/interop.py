"""IATI import and export at volume (issue 9, part 6).

    .venv/bin/python bench/interop.py                      # 10,000 then 100,000 activities
    .venv/bin/python bench/interop.py --count 2000         # quick: 200 then 2,000
    scripts/with_postgres.sh .venv/bin/python bench/interop.py --count 20000

For each size N (N/10, then N, so that the two show whether memory grows with the file):

1. Generates an IATI 2.03 file of N activities by replicating the 2,441 real activities of
   ../shared/data/iati_activities/dportal_covid_humanitarian_mena_africa_asia.xml, each copy with a new
   iati-identifier (``<original>-B<k>``), into a temporary file (streamed; not timed).
2. Imports it in a child process on a fresh database (``shafaf.interop.iati.importer.import_file`` for a charity
   with the ministry's shipped exchange rates loaded): activities/s and the child's peak resident memory.
3. Exports every imported project in another child process (``shafaf.interop.iati.writer.write_activities``
   to a file): activities/s and peak memory. With ``--check`` the exported file is then validated (XSD and
   codelists, streamed; not timed).

The database work of the children runs in their own process (SQLite), so their CPU time is the whole cost: on a
shared machine the rate per CPU-second is the figure that does not depend on the neighbours. Peak memory is the
child's maximum resident set (``resource.getrusage``), printed with what the process held before the timed step
(Django, the schemas, the rates) so that the growth is visible. Targets on 2 cores:
>= 500 activities/s each way, memory not growing with N.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

SOURCE = ROOT.parent / "shared" / "data" / "iati_activities" / "dportal_covid_humanitarian_mena_africa_asia.xml"
TOKEN = "@@BENCH-IDENTIFIER@@"


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- generating the file (parent) -------------------------------------------------------------------------------


def templates() -> list[tuple[str, bytes]]:
    """Each real activity serialised once, its identifier replaced by a token: (identifier, bytes)."""
    from lxml import etree

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from shafaf.interop.xmlsafe import iterparse_safe

    found = []
    for _event, element in iterparse_safe(SOURCE, tag="iati-activity"):
        if element.getparent() is None or element.getparent().getparent() is not None:
            continue
        identifier = element.find("iati-identifier")
        if identifier is None or not (identifier.text or "").strip():
            continue
        original = identifier.text.strip()
        identifier.text = TOKEN
        if element.get("{http://www.w3.org/XML/1998/namespace}lang") is None:
            element.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        found.append((original, etree.tostring(element, encoding="utf-8")))
        element.clear(keep_tail=False)
        element.getparent().remove(element)
    return found


def generate(path: Path, count: int, sources: list[tuple[str, bytes]]) -> None:
    from xml.sax.saxutils import escape

    with path.open("wb") as out:
        out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n')
        for number in range(count):
            original, body = sources[number % len(sources)]
            copy = number // len(sources)
            identifier = escape(f"{original}-B{copy}").encode()
            out.write(body.replace(TOKEN.encode(), identifier, 1))
            out.write(b"\n")
        out.write(b"</iati-activities>\n")


# --- the children -------------------------------------------------------------------------------------------------


def child_setup(database: str, *, fresh: bool) -> None:
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    if fresh:
        # A new SQLite file per size, or PostgreSQL's database migrated once; each size imports as its own charity
        # (the audit chain is append-only: nothing is flushed).
        call_command("migrate", verbosity=0)


def child_import(path: Path, slug: str) -> dict:
    from shafaf.accounts.choices import OrganizationKind, Role
    from shafaf.accounts.models import Membership, Organization, User
    from shafaf.finance.models import ExchangeRate
    from shafaf.finance.tests.helpers_iati import load_rates_quickly
    from shafaf.interop.iati import importer, schema

    if not ExchangeRate.objects.exists():
        load_rates_quickly()
    charity = Organization.objects.create(
        kind=OrganizationKind.CHARITY, slug=slug, name_ar="جمعية القياس", name_en=f"Bench Charity {slug}", country="KW"
    )
    user = User.objects.create_user(username=f"{slug}-admin", password="unused-password-123")
    Membership.objects.create(user=user, organization=charity, role=Role.CHARITY_ADMIN)
    schema.activities_schema()  # loaded before the clock as a long-running process would have it
    before = rss_mb()
    started, cpu = time.perf_counter(), cpu_seconds()
    report = importer.import_file(actor=user, charity=charity, path=path)
    seconds = time.perf_counter() - started
    return {
        "cpu": cpu_seconds() - cpu,
        "read": report.read,
        "created": report.created,
        "problems": len(report.problems),
        "seconds": seconds,
        "rss_before_mb": before,
        "peak_mb": peak_mb(),
    }


def child_export(out_path: Path, check: bool, slug: str) -> dict:
    from shafaf.accounts.models import Organization
    from shafaf.interop.iati import codelists, schema, writer
    from shafaf.projects.models import Project

    charity = Organization.objects.get(slug=slug)
    codelists.active_codes("Sector")
    before = rss_mb()
    started, cpu = time.perf_counter(), cpu_seconds()
    with out_path.open("wb") as handle:
        written = writer.write_activities(
            charity=charity, out=handle, projects=Project.objects.filter(charity=charity, iati__isnull=False)
        )
    seconds = time.perf_counter() - started
    result = {
        "written": written,
        "seconds": seconds,
        "cpu": cpu_seconds() - cpu,
        "rss_before_mb": before,
        "peak_mb": peak_mb(),
    }
    result["bytes"] = out_path.stat().st_size
    if check:
        started = time.perf_counter()
        result["xsd_problems"] = len(schema.validate_activities(out_path))
        result["code_problems"] = len(codelists.check_codes_file(out_path))
        result["check_seconds"] = time.perf_counter() - started
    return result


def run_child(args: list[str]) -> dict:
    process = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, env=os.environ.copy()
    )
    if process.returncode != 0:
        sys.stderr.write(process.stdout[-4000:] + process.stderr[-4000:])
        raise SystemExit(f"child {args[:2]} failed ({process.returncode})")
    return json.loads(process.stdout.strip().splitlines()[-1])


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="the larger size (the smaller is a tenth)")
    parser.add_argument("--sizes", help="comma-separated sizes instead (e.g. 5000,50000)")
    parser.add_argument("--check", action="store_true", help="validate each exported file (XSD, codelists)")
    parser.add_argument("--keep", action="store_true", help="keep the generated and exported files")
    parser.add_argument("--child", choices=("import", "export"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--slug", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        child_setup(args.database, fresh=args.child == "import")
        path = Path(args.file)
        run = child_import if args.child == "import" else (lambda p, s: child_export(p, args.check, s))
        result = run(path, args.slug)
        print(json.dumps(result))
        return

    if not SOURCE.is_file():
        raise SystemExit(f"{SOURCE} is missing (the shared data must be beside the project)")
    sizes = [int(size) for size in args.sizes.split(",")] if args.sizes else [max(100, args.count // 10), args.count]
    work = Path(tempfile.mkdtemp(prefix="shafaf-bench-interop-"))
    shared_database = os.environ.get("DATABASE_URL")
    import platform

    print(
        f"IATI import/export bench: {platform.python_version()}, {os.cpu_count()} cores, "
        f"database {'PostgreSQL (DATABASE_URL)' if shared_database else 'SQLite (temporary file)'}, "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    sources = templates()
    print(f"templates: {len(sources):,} real activities from {SOURCE.name}", flush=True)
    rows = []
    for size in sizes:
        source_file = work / f"activities-{size}.xml"
        started = time.perf_counter()
        generate(source_file, size, sources)
        print(
            f"\n[{size:,}] generated {source_file.stat().st_size / 1e6:,.0f} MB in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        database = shared_database or f"sqlite:///{work}/bench-{size}.sqlite3"
        slug = f"bench-{size}-{os.getpid()}"
        imported = run_child(["--child", "import", "--file", str(source_file), "--database", database, "--slug", slug])
        rate = imported["read"] / imported["seconds"]
        print(
            f"[{size:,}] import: {imported['read']:,} read, {imported['created']:,} created, "
            f"{imported['problems']:,} problems, {imported['seconds']:.1f} s = {rate:,.0f} activities/s "
            f"(CPU {imported['cpu']:.1f} s: {imported['read'] / imported['cpu']:,.0f}/CPU-s); "
            f"peak RSS {imported['peak_mb']:,.0f} MB (held before: {imported['rss_before_mb']:,.0f} MB)",
            flush=True,
        )
        out_file = work / f"exported-{size}.xml"
        extra = ["--check"] if args.check else []
        exported = run_child(
            ["--child", "export", "--file", str(out_file), "--database", database, "--slug", slug, *extra]
        )
        export_rate = exported["written"] / exported["seconds"]
        line = (
            f"[{size:,}] export: {exported['written']:,} activities, {exported['bytes'] / 1e6:,.0f} MB, "
            f"{exported['seconds']:.1f} s = {export_rate:,.0f} activities/s "
            f"(CPU {exported['cpu']:.1f} s: {exported['written'] / exported['cpu']:,.0f}/CPU-s); "
            f"peak RSS {exported['peak_mb']:,.0f} MB "
            f"(held before: {exported['rss_before_mb']:,.0f} MB)"
        )
        if args.check:
            line += (
                f"; check: {exported['xsd_problems']} XSD and {exported['code_problems']} codelist problems "
                f"({exported['check_seconds']:.1f} s)"
            )
        print(line, flush=True)
        rows.append((size, rate, imported["peak_mb"], export_rate, exported["peak_mb"]))
        if not args.keep:
            source_file.unlink(missing_ok=True)
            out_file.unlink(missing_ok=True)
            for leftover in work.glob(f"bench-{size}.sqlite3*"):
                leftover.unlink()

    print("\nsize        import/s  import peak MB   export/s  export peak MB")
    for size, rate, import_peak, export_rate, export_peak in rows:
        print(f"{size:>9,}  {rate:>9,.0f}  {import_peak:>14,.0f}  {export_rate:>9,.0f}  {export_peak:>14,.0f}")
    slowest = min(min(r[1], r[3]) for r in rows)
    growth = rows[-1][2] - rows[0][2], rows[-1][4] - rows[0][4]
    print(
        f"target >= 500 activities/s each way: {'met' if slowest >= 500 else 'NOT met'} (slowest {slowest:,.0f}/s); "
        f"peak memory from {sizes[0]:,} to {sizes[-1]:,}: import {growth[0]:+,.0f} MB, export {growth[1]:+,.0f} MB"
    )
    if args.keep:
        print(f"files kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
