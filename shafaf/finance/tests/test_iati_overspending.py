"""The real over-spending activities (issue 6, part 7): after importing the 2,441 humanitarian activities, the
deviation list names exactly the activities that spend more than their budgets (thresholds at 0), and exactly
those beyond 105 % with the ministry's default thresholds; none of the others. The expectation comes from a
separate, simple computation (helpers_iati: xml.etree + Decimal + the rate table's CSV).

What this data gives with that definition (the figures for the closing note): 2,325 activities have a budget;
85 of them spend more than it (82 in a single currency, 3 in mixed currencies: GB-COH-1364201-ETH102286,
GB-COH-1364201-SDN100318, NO-BRC-977538319-YEFM2025), 82 of which can be projects (3 have no recipient
country, sector or date); 62 spend more than 105 % (61 importable). The data README's "99" was not reproduced by
any of the definitions tried (revised or original budgets, per period or in total, types 3 and/or 4, with or
without the activities that have no budget, rounding each value or each total). Rounding each transaction on its
own instead of the total would give 194: Sida's transactions spend their budgets exactly, to ten decimals.

The corpus is imported once for the module (about half a minute on 2 cores) and rolled back at its end."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from shafaf.accounts.choices import OrganizationKind, Role
from shafaf.core.money import Money
from shafaf.finance.iati_import import iati_import
from shafaf.finance.models import UNSETTLED_DEVIATION_STATUSES, Deviation, FinanceSettings
from shafaf.finance.rates_import import SHIPPED_TABLE
from shafaf.projects.models import Project
from tests.factories import OrganizationFactory, member

from .helpers_iati import RateTable, activity_figures, load_rates_quickly

CORPUS = (
    Path(settings.BASE_DIR).parent
    / "shared"
    / "data"
    / "iati_activities"
    / "dportal_covid_humanitarian_mena_africa_asia.xml"
)

pytestmark = pytest.mark.skipif(not CORPUS.is_file(), reason="the shared IATI data is not beside the project")


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker):
    """The corpus imported once for charity "corpus", rolled back after the module's tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        charity = OrganizationFactory(kind=OrganizationKind.CHARITY, slug="corpus", name_ar="جمعية", name_en="Corpus")
        admin = member(Role.CHARITY_ADMIN, charity, "corpus_admin")
        load_rates_quickly()
        with translation.override("en"):
            report = iati_import(actor=admin, charity=charity, path=CORPUS)
        imported = dict(Project.objects.filter(charity=charity).values_list("iati_identifier", "pk"))
        yield {"report": report, "imported": imported}
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def expected():
    return activity_figures(CORPUS, RateTable(SHIPPED_TABLE))


def listed(*thresholds) -> dict[str, dict]:
    if thresholds:
        FinanceSettings.objects.update_or_create(
            pk=1, defaults={"line_threshold_bp": thresholds[0], "total_threshold_bp": thresholds[1]}
        )
    out = io.StringIO()
    call_command("deviations", "--jsonl", "-", stdout=out, stderr=io.StringIO())
    records = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return {record["ref"]: record for record in records}


def test_the_import_reads_the_whole_corpus(corpus, db):
    report = corpus["report"]
    assert report.read == 2441
    assert report.imported == len(corpus["imported"]) == 2355
    assert len(report.unusable) == 82
    # Four activities publish a negative budget: refused by name, with the value.
    assert len(report.errors) == 4 and all("is negative" in reason for _id, reason in report.errors)
    assert report.budget_versions >= 2200 and report.transactions > 8000


def test_with_thresholds_at_zero_the_list_is_exactly_the_over_spending_activities(corpus, expected, db):
    imported = corpus["imported"]
    over = {identifier for identifier, figures in expected.items() if figures.over}
    assert len(over) == 85
    # The three over-spending activities that are not projects are the ones the import could not map.
    assert over - set(imported) <= set(corpus["report"].unusable)
    over &= set(imported)
    assert len(over) == 82

    found = listed(0, 0)
    assert set(found) == over
    for identifier, record in found.items():
        figures = expected[identifier]
        assert record["currency"] == figures.currency
        budget, spent = (Money.of(record[name], figures.currency).minor for name in ("budget", "spent"))
        if figures.converted:
            # Each converted amount is rounded once by the importer, once in total here.
            assert abs(budget - figures.budget) + abs(spent - figures.spent) <= figures.converted, identifier
        else:
            assert (budget, spent) == (figures.budget, figures.spent), identifier


def test_with_the_default_thresholds_the_list_is_exactly_those_beyond_105_percent(corpus, expected, db):
    config = FinanceSettings.objects.filter(pk=1).first()
    assert config is None or (config.line_threshold_bp, config.total_threshold_bp) == (1000, 500)
    beyond = {identifier for identifier, figures in expected.items() if figures.beyond(500)} & set(corpus["imported"])
    assert len(beyond) == 61
    assert set(listed()) == beyond
    # The import ran the detection with these thresholds: the deviations awaiting the charity are the same set.
    with_deviations = set(
        Deviation.objects.filter(project_id__in=corpus["imported"].values(), status__in=UNSETTLED_DEVIATION_STATUSES)
        .values_list("project__iati_identifier", flat=True)
        .distinct()
    )
    assert with_deviations == beyond
