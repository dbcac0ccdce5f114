"""Donations at speed and under crashes (issue 7, part 6), on PostgreSQL.

    scripts/with_postgres.sh .venv/bin/python bench/donations.py            # full: 1,000,000-row import
    scripts/with_postgres.sh .venv/bin/python bench/donations.py --quick    # a minute or two

What it does, on a throw-away PostgreSQL cluster (scripts/with_postgres.sh):

1. Builds the data: the World personas (tests/factories.py), charity A's project licensed through the workflow,
   a ministry-approved bank account, a donor, and a personal API token of the charity's admin (najat).
2. Starts gunicorn (``config.wsgi``, ``--workers N``, sync workers as scripts/serve.sh does) on a free port
   against the same database, in its own process group.
3. (a) API load: C client threads POST /api/v1/donations/ with a unique Idempotency-Key each (restricted to the
   project, random amounts in fils), one TCP connection per request (gunicorn's sync workers close it); prints
   donations/s and the per-request latency at p50/p95/p99. Target on 2 cores: >= 300/s with p99 <= 300 ms.
4. (b) Crash test: a burst of uniquely keyed donations while a killer repeatedly sends SIGKILL to the whole
   gunicorn process group (master and workers; then starts a new one) or to every worker (the master forks new
   ones). Each client retries the same key and the same body until it gets an answer. Afterwards every key is
   replayed once (it must return the same donation) and a few with another body (they must be refused).
5. (c) Settlement import: a generated CSV of 1,000,000 rows (--import-rows) through
   shafaf.donations.imports, in-process with the server stopped; then the same file again (all duplicates).
6. Reconciliation (SQL): per key exactly one donation (0 lost, 0 duplicated), totals equal to the fils, the
   ledger's trial balance zero in every currency, no unbalanced transaction, the charity's bank account equal to
   the sum of its donations, each restricted donation allocated in full to its project.

Besides latency, (a) prints the CPU time per donation of gunicorn (master and workers) and of PostgreSQL (the
postmaster and its backends, reaped ones included), read from /proc: on a shared machine this is the figure that
does not depend on the neighbours, and 2,000 ms / (CPU ms per donation) is what two dedicated cores could serve.

Options: --workers/--worker-class/--threads (gunicorn), --concurrency, --requests, --crash-keys, --kills,
--import-rows, --skip load|crash|import, --conn-max-age S (how long a worker keeps its database connection;
60 as scripts/serve.sh runs it, 0 for a new connection per request), --profile N (N in-process POSTs: time per
phase, the queries of one POST, cProfile), --profile-import (cProfile of the import), --writers N (threads writing
the import's chunks; shafaf.donations.imports.WRITERS by default). (c) also prints the import's CPU per row, of
this process (the reading and writing threads) and of PostgreSQL.

The process exits 1 when a safety check fails (lost, duplicated, totals, ledger); the speed verdicts are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import http.client
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _django import ROOT, setup

API_PATH = "/api/v1/donations/"
RETRYABLE_STATUS = {409, 423, 425, 429, 500, 502, 503, 504}


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def say(line=""):
    print(line, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fils_text(minor: int) -> str:
    return f"{minor // 1000}.{minor % 1000:03d}"


# --------------------------------------------------------------------------------------------------- the data


@dataclass
class Fixture:
    charity: object
    project: object
    bank_account: object
    donor: object
    user: object
    token: str


def build_fixture() -> Fixture:
    """A charity (charity A of the World) with a licensed project, an approved bank account, a donor and an API
    token of its admin."""
    from django.utils import timezone

    from shafaf.accounts.services import api_token_create
    from shafaf.donations.models import BankAccount, Donor
    from shafaf.finance.tests.helpers import license_project
    from tests.factories import World

    world = World()
    project = license_project(world)
    bank_account = BankAccount.objects.create(
        charity=world.charity_a,
        bank_name="Kuwait Finance House",
        iban="KW81CBKU0000000000001234560101",
        currency="KWD",
        approved_by=world.ministry_admin,
        approved_at=timezone.now(),
    )
    donor = Donor.objects.create(
        charity=world.charity_a,
        name_ar="متبرع المقياس",
        name_en="Bench donor",
        email="bench@example.org",
        consent_to_contact=False,
        created_by=world.najat,
    )
    _token, key = api_token_create(actor=world.najat, user=world.najat, name="bench")
    return Fixture(world.charity_a, project, bank_account, donor, world.najat, key)


def donation_body(fx: Fixture, amount_minor: int, received_at: dt.datetime) -> dict:
    """The JSON body of POST /api/v1/donations/ (shafaf/donations/api.py)."""
    return {
        "donor": fx.donor.pk,
        "amount": fils_text(amount_minor),
        "currency": "KWD",
        "received_at": received_at.isoformat(),
        "channel": "knet",
        "bank_account": fx.bank_account.pk,
        "purpose": "project",
        "project": fx.project.pk,
    }


def donation_id_of(payload: dict):
    return payload.get("id")


# ------------------------------------------------------------------------------------------------- the server


class Server:
    """gunicorn against the bench database, in its own process group (so kill -9 reaches master and workers)."""

    def __init__(
        self, port: int, workers: int, log_path: Path, worker_class: str = "sync", threads: int = 1, conn_max_age=60
    ):
        self.port, self.workers, self.log_path, self.conn_max_age = port, workers, log_path, conn_max_age
        self.worker_class, self.threads = worker_class, threads
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, wait: bool = True) -> None:
        env = dict(os.environ, SHAFAF_DEBUG="0", PYTHONUNBUFFERED="1", SHAFAF_DB_CONN_MAX_AGE=str(self.conn_max_age))
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.starts += 1
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        master = self.process.pid
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:  # ppid
                pids.append(int(entry))
        return pids

    def kill_all(self) -> None:
        """kill -9 of the master and its workers at once (the process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def kill_workers(self) -> int:
        pids = self.worker_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill_all()


def _proc_times(pid: int) -> tuple[int, int, str]:
    """(own CPU ticks, CPU ticks of reaped children, ppid) of a process."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]), fields[1]


def cpu_seconds(root_pid: int) -> float:
    """CPU seconds used so far by a process, its live descendants and its reaped children."""
    children: dict[int, list[int]] = {}
    own: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ticks, reaped, ppid = _proc_times(int(entry))
            except (OSError, IndexError, ValueError):
                continue
            own[int(entry)] = (ticks, reaped)
            children.setdefault(int(ppid), []).append(int(entry))
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        ticks, reaped = own.get(pid, (0, 0))
        total += ticks + reaped
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int | None:
    """The pid of the bench's PostgreSQL server (the one listening on DATABASE_URL's port)."""
    port = os.environ["DATABASE_URL"].rsplit(":", 1)[1].split("/", 1)[0]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and b"-p" in argv and port.encode() in argv:
            return int(entry)
    return None


def post(port: int, token: str, key: str, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            API_PATH,
            body=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Idempotency-Key": key,
            },
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ (a) the API load


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    statuses: dict = field(default_factory=dict)
    latencies_ms: list = field(default_factory=list)
    seconds: float = 0.0
    first_error: str = ""
    cpu: dict = field(default_factory=dict)  # who -> CPU seconds during the run


def run_load(port, fx, *, requests: int, concurrency: int, prefix: str, expected: dict, rng, server=None) -> LoadResult:
    """`requests` POSTs by `concurrency` threads (closed loop), each with a new key; `expected` gets key ->
    amount for every 2xx answer."""
    now = dt.datetime.now(dt.UTC)
    plan = []
    for i in range(requests):
        amount = rng.randrange(1, 500_000)
        plan.append((f"{prefix}-{i:07d}", amount, json.dumps(donation_body(fx, amount, now)).encode()))
    result = LoadResult()
    lock = threading.Lock()
    cursor = iter(plan)

    def worker():
        latencies, statuses, kept = [], {}, {}
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                break
            key, amount, body = item
            began = time.perf_counter()
            try:
                status, payload = post(port, fx.token, key, body)
            except (OSError, http.client.HTTPException) as error:
                status, payload = 0, repr(error).encode()
            latencies.append((time.perf_counter() - began) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            if 200 <= status < 300:
                kept[key] = amount
            elif not result.first_error:
                result.first_error = f"{status}: {payload[:300]!r}"
        with lock:
            result.latencies_ms.extend(latencies)
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count
            expected.update(kept)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    pg = postmaster_pid()
    cpu_before = {
        "gunicorn": cpu_seconds(server.process.pid) if server else 0.0,
        "postgres": cpu_seconds(pg) if pg else 0.0,
        "client": time.process_time(),
    }
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    cpu_after = {
        "gunicorn": cpu_seconds(server.process.pid) if server else 0.0,
        "postgres": cpu_seconds(pg) if pg else 0.0,
        "client": time.process_time(),
    }
    result.cpu = {who: cpu_after[who] - cpu_before[who] for who in cpu_before}
    result.sent = requests
    result.ok = sum(count for status, count in result.statuses.items() if 200 <= status < 300)
    return result


def report_load(label: str, result: LoadResult, *, target_rate=300, target_p99=300) -> bool:
    rate = result.ok / result.seconds if result.seconds else 0
    lat = result.latencies_ms
    p50, p95, p99 = statistics.median(lat), percentile(lat, 0.95), percentile(lat, 0.99)
    meets = rate >= target_rate and p99 <= target_p99
    say(
        f"{label}: {result.ok:,}/{result.sent:,} created in {result.seconds:.1f} s = {rate:,.0f} donations/s;"
        f" latency p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {max(lat):.1f} ms"
        f" ({'meets' if meets else 'MISSES'} the >= {target_rate}/s, p99 <= {target_p99} ms target)"
    )
    if result.cpu and result.ok:
        per = {who: seconds / result.ok * 1000 for who, seconds in result.cpu.items()}
        server_ms = per["gunicorn"] + per["postgres"]
        say(
            f"  CPU per donation: gunicorn {per['gunicorn']:.2f} ms + PostgreSQL {per['postgres']:.2f} ms"
            f" = {server_ms:.2f} ms (the load generator {per['client']:.2f} ms);"
            f" two dedicated cores could serve at most {2000 / server_ms:,.0f}/s"
            f" ({2000 / (server_ms + per['client']):,.0f}/s with the load generator on them);"
            f" load average now {os.getloadavg()[0]:.1f}"
        )
    others = {status: count for status, count in result.statuses.items() if not 200 <= status < 300}
    if others:
        say(f"  other answers: {others}; first: {result.first_error}")
    return meets


# -------------------------------------------------------------------------------------------- (b) the crashes


@dataclass
class CrashResult:
    answers: dict = field(default_factory=dict)  # key -> (status, donation id)
    refused: dict = field(default_factory=dict)  # key -> (status, body)
    attempts: int = 0
    retries: int = 0
    kills_all: int = 0
    kills_workers: int = 0
    seconds: float = 0.0
    retry_reasons: dict = field(default_factory=dict)


def run_crash(server: Server, fx, *, keys: int, concurrency: int, kills: int, prefix: str, expected: dict, rng):
    now = dt.datetime.now(dt.UTC)
    plan = []
    for i in range(keys):
        amount = rng.randrange(1, 500_000)
        plan.append((f"{prefix}-{i:07d}", amount, json.dumps(donation_body(fx, amount, now)).encode()))
    bodies = {key: body for key, _amount, body in plan}
    result = CrashResult()
    lock = threading.Lock()
    cursor = iter(plan)
    done = threading.Event()

    def client():
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            key, amount, body = item
            while True:
                with lock:
                    result.attempts += 1
                try:
                    status, payload = post(server.port, fx.token, key, body, timeout=30)
                except (OSError, http.client.HTTPException) as error:
                    reason = type(error).__name__
                else:
                    if 200 <= status < 300:
                        with lock:
                            result.answers[key] = (status, donation_id_of(json.loads(payload)))
                            expected[key] = amount
                        break
                    if status not in RETRYABLE_STATUS:
                        with lock:
                            result.refused[key] = (status, payload[:300])
                        break
                    reason = f"HTTP {status}"
                with lock:
                    result.retries += 1
                    result.retry_reasons[reason] = result.retry_reasons.get(reason, 0) + 1
                time.sleep(0.02 + rng.random() * 0.05)

    def killer():
        mode = 0
        while not done.is_set() and result.kills_all + result.kills_workers < kills:
            time.sleep(0.3 + rng.random() * 0.7)  # let it serve a little
            if done.is_set():
                break
            if mode % 2 == 0:
                server.kill_all()
                result.kills_all += 1
                server.start(wait=False)
            else:
                if server.kill_workers():
                    result.kills_workers += 1
            mode += 1
            # wait for it to answer again before the next kill, so each kill hits a serving server
            try:
                server.wait_ready(timeout=60)
            except RuntimeError:
                if server.process.poll() is not None:
                    server.start(wait=False)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    kill_thread = threading.Thread(target=killer)
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    kill_thread.start()
    for thread in threads:
        thread.join()
    done.set()
    kill_thread.join()
    result.seconds = time.perf_counter() - began
    server.wait_ready()

    # Replay every key with its body: the same donation must come back.
    replay_mismatch = []
    for key, (status, donation_id) in result.answers.items():
        for _attempt in range(20):
            try:
                again_status, again = post(server.port, fx.token, key, bodies[key])
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            break
        if again_status != status or donation_id_of(json.loads(again)) != donation_id:
            replay_mismatch.append((key, status, donation_id, again_status, again[:200]))
    # A few keys with another body: refused, nothing created.
    other_body = []
    for key in list(result.answers)[:5]:
        body = json.loads(bodies[key])
        body["amount"] = fils_text(int(body["amount"].replace(".", "")) + 1)
        status, _payload = post(server.port, fx.token, key, json.dumps(body).encode())
        other_body.append(status)
    return result, replay_mismatch, other_body


# --------------------------------------------------------------------------------------- (c) the settlement file


def write_settlement_csv(path: Path, fx, rows: int, rng) -> int:
    """A K-Net settlement file (the columns shafaf/donations/imports.py documents): restricted to the project,
    donor unidentified; returns its total in fils."""
    total = 0
    start = dt.datetime(2026, 1, 1, 9, 0)
    reference = fx.project.reference
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["channel_ref", "received_at", "amount", "currency", "donor_ref", "project"])
        for i in range(rows):
            amount = rng.randrange(1, 500_000)
            total += amount
            received = (start + dt.timedelta(seconds=i * 7)).strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow([f"KN{i:09d}", received, fils_text(amount), "KWD", "", reference])
    return total


def run_import(fx, path: Path):
    """Imports the file through shafaf.donations.imports.import_start (in-process); returns the DonationImport."""
    from shafaf.donations.imports import import_start

    with open(path, "rb") as handle:
        return import_start(
            actor=fx.user,
            charity=fx.charity,
            channel="knet",
            bank_account=fx.bank_account,
            file=handle,
            file_name=path.name,
        )


# ---------------------------------------------------------------------------------------------- (d) profiling


def _wrap_phases(sql: dict) -> dict:
    """Wraps the functions a POST passes through with timers (inclusive wall time, SQL time and queries)."""
    from shafaf.api import authentication
    from shafaf.donations import api, services
    from shafaf.finance import ledger

    targets = [
        ("DRF authentication: token, user, memberships, organisations", authentication, "token_authenticate"),
        ("api: donation_input (the body checked)", api, "donation_input"),
        ("api: _charity_for (from the memberships loaded)", api, "_charity_for"),
        ("api: donation_lookups (key, donor, account, project, campaign)", api.selectors, "donation_lookups"),
        ("service: donation_record (all of it)", services, "donation_record"),
        ("  validate_donation", services, "validate_donation"),
        ("  _signature (Ed25519, before the INSERT)", services, "_signature"),
        ("  _after_entry (allocation, ledger, audit)", services, "_after_entry"),
        ("    donation_posting (ledger account look-ups)", services, "donation_posting"),
        ("    ledger.post_many", ledger, "post_many"),
        ("    audit record (chain head lock, hash, insert and head move)", services, "record"),
        ("api: DonationSerializer.to_representation", api.DonationSerializer, "to_representation"),
    ]
    phases: dict = {"_undo": []}
    for label, owner, name in targets:
        original = getattr(owner, name)
        phases[label] = [0.0, 0.0, 0]

        def wrapped(*a, __original=original, __label=label, **kw):
            began, sql_before, n_before = time.perf_counter(), sql["seconds"], sql["n"]
            try:
                return __original(*a, **kw)
            finally:
                slot = phases[__label]
                slot[0] += time.perf_counter() - began
                slot[1] += sql["seconds"] - sql_before
                slot[2] += sql["n"] - n_before

        setattr(owner, name, wrapped)
        phases["_undo"].append(lambda owner=owner, name=name, original=original: setattr(owner, name, original))
    return phases


def run_profile(fx, *, requests: int, expected: dict, top: int = 60) -> None:
    """POSTs in-process through Django's test client (middleware, DRF, the service; no network, no gunicorn):
    the time per request split into SQL and Python, the queries of one request, and cProfile's top functions."""
    import cProfile
    import io
    import pstats

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    now = dt.datetime.now(dt.UTC)
    headers = {"Authorization": f"Bearer {fx.token}"}

    def one(i, prefix):
        body = donation_body(fx, 1000 + i, now)
        response = client.post(
            API_PATH, data=json.dumps(body), content_type="application/json",
            headers={**headers, "Idempotency-Key": f"{prefix}-{i:07d}"},
        )  # fmt: skip
        assert 200 <= response.status_code < 300, (response.status_code, response.content[:300])
        expected[f"{prefix}-{i:07d}"] = 1000 + i
        return response

    for i in range(20):  # warm
        one(i, "pwarm")
    sql = {"n": 0, "seconds": 0.0}

    def timer(execute, sql_text, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql_text, params, many, context)
        finally:
            sql["n"] += 1
            sql["seconds"] += time.perf_counter() - began

    phases = _wrap_phases(sql)
    began = time.perf_counter()
    with connection.execute_wrapper(timer):
        for i in range(requests):
            one(i, "ptime")
    total = time.perf_counter() - began
    for undo in phases.pop("_undo"):
        undo()
    say(
        f"(d) in-process profile: {requests} POSTs, {total / requests * 1000:.2f} ms each"
        f" ({requests / total:,.0f}/s on one core): SQL {sql['seconds'] / requests * 1000:.2f} ms in"
        f" {sql['n'] / requests:.1f} queries, Python {(total - sql['seconds']) / requests * 1000:.2f} ms"
    )
    say(f"  {'where the time of one POST goes (inclusive)':58s} {'wall ms':>8s} {'SQL ms':>8s} {'queries':>8s}")
    for label, (seconds, sql_seconds, queries) in phases.items():
        say(
            f"  {label:58s} {seconds / requests * 1000:8.2f} {sql_seconds / requests * 1000:8.2f}"
            f" {queries / requests:8.1f}"
        )
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        one(0, "pshow")
    say(f"  the queries of one POST ({len(captured.captured_queries)}):")
    for query in captured.captured_queries:
        say(f"    {float(query['time']) * 1000:6.2f} ms  {query['sql'][:150]}")
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(requests):
        one(i, "pprof")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    say("  cProfile, by cumulative time:")
    for line in out.getvalue().splitlines():
        if line.strip():
            say("    " + line)


# ----------------------------------------------------------------------------------------- the reconciliation


def reconcile(fx, *, expected: dict, prefixes: list[str], import_total: int | None, import_rows: int | None) -> bool:
    """The safety checks, in SQL. Prints each; True when all hold."""
    from django.db import connection

    from shafaf.donations.models import Allocation, Donation
    from shafaf.finance import ledger

    ok = True

    def check(label, good, detail=""):
        nonlocal ok
        ok &= bool(good)
        say(f"  [{'ok' if good else 'FAIL'}] {label}{': ' + detail if detail else ''}")

    table = Donation._meta.db_table
    with connection.cursor() as cursor:
        where = " OR ".join(["idempotency_key LIKE %s"] * len(prefixes)) or "FALSE"
        params = [f"{p}-%" for p in prefixes]
        cursor.execute(
            f"SELECT idempotency_key, COUNT(*), SUM(amount_minor) FROM {table} WHERE charity_id = %s AND ({where})"
            " GROUP BY idempotency_key",
            [fx.charity.pk, *params],
        )
        found = {key: (count, total) for key, count, total in cursor.fetchall()}
    lost = sorted(set(expected) - set(found))
    duplicated = sorted(key for key, (count, _total) in found.items() if count > 1)
    unexpected = sorted(set(found) - set(expected))
    check("every answered key has a donation (0 lost)", not lost, f"{len(lost)} lost {lost[:5]}")
    check("no key has two donations (0 duplicated)", not duplicated, f"{len(duplicated)} duplicated {duplicated[:5]}")
    check("no donation for a key that got no answer", not unexpected, f"{len(unexpected)} {unexpected[:5]}")
    want = sum(expected.values())
    got = sum(int(total) for _count, total in found.values())
    check("API totals to the fils", want == got, f"sent {fils_text(want)} KWD, recorded {fils_text(got)} KWD")

    if import_total is not None:
        imported = Donation.objects.filter(charity=fx.charity).exclude(channel_ref="")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), COALESCE(SUM(amount_minor), 0), COUNT(DISTINCT channel_ref) FROM {table}"
                " WHERE charity_id = %s AND channel_ref <> ''",
                [fx.charity.pk],
            )
            count, total, distinct = cursor.fetchone()
        check(
            "settlement file: every row once, totals to the fils",
            count == import_rows == distinct and int(total) == import_total,
            f"{count:,} rows ({distinct:,} distinct refs) of {import_rows:,}; {fils_text(int(total))} KWD"
            f" of {fils_text(import_total)} KWD",
        )
        del imported

    balances = ledger.trial_balance()
    check("ledger trial balance zero in every currency", all(v == 0 for v in balances.values()), str(balances))
    unbalanced = ledger.unbalanced_transactions()
    check("no unbalanced ledger transaction", not unbalanced, f"{len(unbalanced)} {unbalanced[:5]}")
    all_donations = Donation.objects.filter(charity=fx.charity, currency="KWD")
    donated = sum(all_donations.values_list("amount_minor", flat=True).iterator(chunk_size=50_000))
    bank = ledger.balance(ledger.charity_bank(fx.charity, "KWD")).minor
    check(
        "the charity's bank account equals its donations",
        bank == donated,
        f"bank {fils_text(bank)} KWD, donations {fils_text(donated)} KWD",
    )
    restricted = all_donations.filter(purpose="project")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(amount_minor), 0) FROM {Allocation._meta.db_table} a"
            f" WHERE a.donation_id IN (SELECT id FROM {table} WHERE charity_id = %s AND purpose = 'project')",
            [fx.charity.pk],
        )
        allocated = int(cursor.fetchone()[0])
    restricted_total = sum(restricted.values_list("amount_minor", flat=True).iterator(chunk_size=50_000))
    check(
        "restricted donations allocated in full to their project",
        allocated == restricted_total,
        f"allocated {fils_text(allocated)} KWD of {fils_text(restricted_total)} KWD",
    )
    return ok


# ------------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer requests, keys, kills and import rows")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2-4)")
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="seconds a worker keeps its database connection (0: per request)"
    )
    parser.add_argument("--profile-import", action="store_true", help="cProfile the settlement import")
    parser.add_argument(
        "--writers", type=int, default=0, help="threads writing the import's chunks (default: imports.WRITERS)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="client threads of the load test")
    parser.add_argument("--requests", type=int, default=6_000, help="POSTs of the load test")
    parser.add_argument("--crash-keys", type=int, default=3_000)
    parser.add_argument("--crash-concurrency", type=int, default=16)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--import-rows", type=int, default=1_000_000)
    parser.add_argument("--skip", action="append", default=[], choices=["load", "crash", "import"])
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile N in-process POSTs")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        args.requests, args.crash_keys, args.kills, args.import_rows = 1_500, 600, 6, 100_000
    if "DATABASE_URL" not in os.environ or not os.environ["DATABASE_URL"].startswith("postgres"):
        sys.exit("bench/donations.py needs PostgreSQL: run it under scripts/with_postgres.sh")
    machine = setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    say(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" PostgreSQL {pg_version}"
    )
    say(f"  ({machine})")
    rng = random.Random(args.seed)
    expected: dict[str, int] = {}
    prefixes: list[str] = []
    fx = build_fixture()
    from shafaf.donations import imports as imports_module

    if args.writers:
        imports_module.WRITERS = args.writers
    if args.profile:
        run_profile(fx, requests=args.profile, expected=expected)
        prefixes += ["pwarm", "ptime", "pshow", "pprof"]
    connection.close()  # the server's workers use the database now
    folder = Path(tempfile.mkdtemp(prefix="shafaf-bench-donations-"))
    server = Server(
        free_port(), args.workers, folder / "gunicorn.log", args.worker_class, args.threads, args.conn_max_age
    )
    say(
        f"gunicorn: {args.workers} {args.worker_class} workers x {args.threads} threads on 127.0.0.1:{server.port}, "
        f"database connections kept {args.conn_max_age} s (log {server.log_path})"
    )
    safe = True
    import_total = import_rows = None
    try:
        server.start()
        if "load" not in args.skip:
            # warm-up: each worker imports the app and opens its caches
            run_load(server.port, fx, requests=50, concurrency=4, prefix="warm", expected=expected, rng=rng)
            prefixes.append("warm")
            result = run_load(
                server.port,
                fx,
                requests=args.requests,
                concurrency=args.concurrency,
                prefix="load",
                expected=expected,
                rng=rng,
                server=server,
            )
            prefixes.append("load")
            report_load(
                f"(a) API POST {API_PATH} ({args.concurrency} clients, unique Idempotency-Keys)",
                result,
            )
        if "crash" not in args.skip:
            crash, mismatch, other_body = run_crash(
                server,
                fx,
                keys=args.crash_keys,
                concurrency=args.crash_concurrency,
                kills=args.kills,
                prefix="crash",
                expected=expected,
                rng=rng,
            )
            prefixes.append("crash")
            say(
                f"(b) crash test: {args.crash_keys:,} keys, {crash.kills_all} kill -9 of master+workers and"
                f" {crash.kills_workers} of the workers in {crash.seconds:.1f} s; {crash.attempts:,} attempts,"
                f" {crash.retries:,} retries {crash.retry_reasons}; {len(crash.answers):,} answered,"
                f" {len(crash.refused)} refused"
            )
            if crash.refused:
                safe = False
                say(f"  [FAIL] refused: {list(crash.refused.items())[:3]}")
            good_replay = not mismatch
            safe &= good_replay
            say(
                f"  [{'ok' if good_replay else 'FAIL'}] replaying every key with its body returns the same donation"
                f" ({len(mismatch)} mismatches{': ' + repr(mismatch[:3]) if mismatch else ''})"
            )
            refused_other = all(status in (409, 422) for status in other_body)
            safe &= refused_other
            say(f"  [{'ok' if refused_other else 'FAIL'}] a key replayed with another body is refused: {other_body}")
        server.stop()
        if "import" not in args.skip:
            path = folder / "settlement.csv"
            began = time.perf_counter()
            import_total = write_settlement_csv(path, fx, args.import_rows, rng)
            import_rows = args.import_rows
            say(f"    (settlement file of {import_rows:,} rows written in {time.perf_counter() - began:.1f} s)")
            if args.profile_import:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            pg = postmaster_pid()
            cpu_before = (time.process_time(), cpu_seconds(pg) if pg else 0.0)
            began = time.perf_counter()
            batch = run_import(fx, path)
            seconds = time.perf_counter() - began
            cpu = (time.process_time() - cpu_before[0], (cpu_seconds(pg) if pg else 0.0) - cpu_before[1])
            if args.profile_import:
                import io
                import pstats

                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
                say("  cProfile of the import, by own time:")
                for line in out.getvalue().splitlines():
                    if line.strip():
                        say("    " + line)
            rate = batch.rows_ok / seconds if seconds else 0
            say(
                f"(c) settlement import: {batch.rows_ok:,} rows kept, {batch.rows_duplicate:,} duplicates,"
                f" {batch.rows_failed:,} refused in {seconds:.1f} s = {rate:,.0f} rows/s"
                f" ({'meets' if rate >= 20_000 else 'MISSES'} the >= 20,000 rows/s target)"
            )
            if batch.rows_ok:
                say(
                    f"  {imports_module.WRITERS if imports_module._Writers.usable() else 1} writer(s);"
                    f" CPU per row: Python {cpu[0] / batch.rows_ok * 1e6:.1f} us (all threads)"
                    f" + PostgreSQL {cpu[1] / batch.rows_ok * 1e6:.1f} us"
                )
            if batch.rows_failed:
                say(f"  first errors: {batch.errors[:3]}")
            began = time.perf_counter()
            again = run_import(fx, path)
            seconds = time.perf_counter() - began
            same = again.rows_ok == 0 and again.rows_duplicate == import_rows
            safe &= same
            say(
                f"  [{'ok' if same else 'FAIL'}] the same file again: {again.rows_ok:,} kept,"
                f" {again.rows_duplicate:,} duplicates, {again.rows_failed:,} refused in {seconds:.1f} s"
            )
        say("reconciliation:")
        safe &= reconcile(fx, expected=expected, prefixes=prefixes, import_total=import_total, import_rows=import_rows)
    finally:
        server.stop()
    say("all safety checks hold" if safe else "SAFETY CHECKS FAILED")
    sys.exit(0 if safe else 1)


if __name__ == "__main__":
    main()
