"""Audit chain: how fast events are appended (one transaction each, as services do) and verified.

.venv/bin/python bench/audit_chain.py [--events 20000]
"""

import argparse
import time

from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    machine = setup()

    from django.db import transaction

    from shafaf.accounts.models import Organization, User
    from shafaf.audit import services as audit
    from shafaf.audit.chain import verify_everything

    user = User.objects.create(username="bench")
    charity = Organization.objects.create(kind="charity", slug="bench", name_ar="جمعية", name_en="Charity")
    started = time.perf_counter()
    for number in range(args.events):
        with transaction.atomic():
            audit.record(
                actor=user,
                action="project.update",
                subject=charity,
                organization=charity,
                changes={"title_ar": ["مشروع", f"مشروع {number}"], "beneficiary_count": [number, number + 1]},
                role="charity_admin",
            )
    append_seconds = time.perf_counter() - started

    started = time.perf_counter()
    result = verify_everything()
    verify_seconds = time.perf_counter() - started
    assert result.ok and result.count == args.events, result

    print(f"machine: {machine}")
    print(f"append: {args.events} events in {append_seconds:.1f} s = {args.events / append_seconds:,.0f} events/s")
    print(f"verify: {result.count} events in {verify_seconds:.2f} s = {result.count / verify_seconds:,.0f} events/s")
    print(f"verify of 1,000,000 events, extrapolated: {1_000_000 / (result.count / verify_seconds):.0f} s")


if __name__ == "__main__":
    main()
