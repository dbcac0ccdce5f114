"""The ministry's portfolio: riskiest first (the roll-up's risk), filters, a charity sees only its own projects,
and a bounded number of queries whatever the number of projects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from shafaf.finance.models import ProjectFinance
from shafaf.projects.models import Project
from tests.factories import make_project

from .helpers_insight import budget, deviation, phase, spend

pytestmark = pytest.mark.django_db

D = dt.date
URL = "/finance/portfolio/"


def test_the_url():
    assert reverse("finance:portfolio") == URL


@pytest.fixture
def portfolio(world):
    """Charity A: a project on budget, one over budget on a line with an open deviation, one in Jordan; charity B:
    one project slightly over."""
    on_budget = world.project_a
    budget(on_budget, world.najat, {"PRG-1": 1_000_000})
    spend(on_budget, world.najat, "PRG-1", 300_000)
    phase(on_budget, position=1, weight=1, start=D(2027, 1, 1), end=D(2027, 12, 31), percent=60)

    over = make_project(world.najat, world.charity_a, title_ar="مشروع متجاوز", title_en="Over budget")
    version = budget(over, world.najat, {"PRG-1": 100_000})
    spend(over, world.najat, "PRG-1", 150_000)
    deviation(over, version, code="PRG-1", budget_minor=100_000, spent_minor=150_000, ratio_bp=15_000)

    jordan = make_project(world.najat, world.charity_a, title_ar="الأردن", title_en="Jordan", country="JO")
    budget(jordan, world.najat, {"PRG-1": 100_000})
    spend(jordan, world.najat, "PRG-1", 104_000)

    b = world.project_b
    budget(b, world.rahma, {"PRG-1": 100_000})
    spend(b, world.rahma, "PRG-1", 120_000)
    return {"on_budget": on_budget, "over": over, "jordan": jordan, "b": b}


def _rows(response):
    return [row.project.pk for row in response.context["rows"]]


def test_sorted_by_the_roll_ups_risk(portfolio, world, login):
    client = login(world.reviewer)
    response = client.get(URL)
    assert response.status_code == 200
    ids = _rows(response)
    expected = list(ProjectFinance.objects.order_by("-risk", "project_id").values_list("project_id", flat=True))
    assert ids == expected
    assert ids[0] == portfolio["over"].pk  # the open deviation dominates
    assert ids[-1] == portfolio["on_budget"].pk
    # The page reads the stored risk, it does not recompute it: a changed risk reorders the list.
    ProjectFinance.objects.filter(project=portfolio["on_budget"]).update(risk=10**9)
    assert _rows(client.get(URL))[0] == portfolio["on_budget"].pk


def test_the_row_shows_budget_spent_ratio_cpi_spi_and_deviations(portfolio, world, login):
    response = login(world.reviewer).get(URL)
    rows = {row.project.pk: row for row in response.context["rows"]}
    row = rows[portfolio["on_budget"].pk]
    assert row.budget.minor == 1_000_000 and row.spent.minor == 300_000
    assert row.ratio_percent == "30.00"
    assert row.earned.ev.minor == 600_000  # 60 % of 1,000.000
    assert row.earned.cpi == Decimal("2.00")  # 600 / 300
    assert rows[portfolio["over"].pk].finance.open_deviations == 1
    text = response.content.decode()
    assert "1,000.000 KWD" in text and "30.00 %" in text and "2.00" in text


def test_a_charity_sees_only_its_own_projects(portfolio, world, login):
    ids = _rows(login(world.najat).get(URL))
    assert set(ids) == {portfolio["on_budget"].pk, portfolio["over"].pk, portfolio["jordan"].pk}
    assert _rows(login(world.staff_b).get(URL)) == [portfolio["b"].pk]
    # Asking for the other charity's projects by filter gives an error, not its projects.
    response = login(world.najat).get(URL, {"charity": world.charity_b.pk})
    assert response.status_code == 400 and _rows(response) == []


def test_who_may_see_it(world, login):
    for user in (world.reviewer, world.ministry_admin, world.auditor, world.najat, world.staff_b):
        assert login(user).get(URL).status_code == 200, user
    for user in (world.donor, world.partner_reporter, world.accreditation_officer):
        assert login(user).get(URL).status_code == 403, user


def test_filters(portfolio, world, login):
    client = login(world.reviewer)
    assert set(_rows(client.get(URL, {"charity": world.charity_b.pk}))) == {portfolio["b"].pk}
    assert _rows(client.get(URL, {"country": "jo"})) == sorted(
        [portfolio["jordan"].pk, portfolio["b"].pk],
        key=lambda pk: (-ProjectFinance.objects.get(pk=pk).risk, pk),
    )
    assert _rows(client.get(URL, {"status": "draft"}))
    assert _rows(client.get(URL, {"status": "in_execution"})) == []
    assert client.get(URL, {"status": "nonsense"}).status_code == 400


def test_queries_do_not_grow_with_projects(portfolio, world, login, django_assert_max_num_queries):
    client = login(world.reviewer)
    client.get(URL)  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    baseline = len(few)
    for number in range(25):
        project = make_project(world.najat, world.charity_a, title_en=f"More {number}")
        budget(project, world.najat, {"PRG-1": 10_000 + number})
        phase(project, position=1, weight=1, start=D(2027, 1, 1), end=D(2027, 6, 30), percent=10)
        phase(project, position=2, weight=2, start=D(2027, 7, 1), end=D(2027, 12, 31))
    assert Project.objects.count() > 25
    with django_assert_max_num_queries(baseline):
        response = client.get(URL)
    assert len(response.context["rows"]) == 29
    with django_assert_max_num_queries(baseline):
        client.get(URL, {"page": 2, "country": "SD"})
