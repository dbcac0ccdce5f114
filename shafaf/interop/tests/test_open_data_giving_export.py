"""360Giving export: a charity's grants to its partners, validated against the official 1.4.3 schema offline with
format checks running, amounts exact, no donor identity, only published projects of active charities."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from shafaf.finance import services as finance
from shafaf.finance.tests.helpers import english, license_project, register
from shafaf.interop.giving import jsonexact
from shafaf.interop.giving.export import GivingExportError, build_package, decimal_amount, package_json
from shafaf.interop.giving.validation import (
    SCHEMA_DIR,
    format_checker,
    grant_problems,
    package_problems,
    package_validator,
)
from tests.factories import donor_of

SHARED_SCHEMA = Path(__file__).resolve().parents[4] / "shared" / "data" / "360giving" / "schema"
BASE = "https://shafaf.example"


@pytest.fixture
def published(world):
    """Charity A's licensed project with two contracts with its partner, one partly paid."""
    project = license_project(world)
    first = register(world, project, number="C-1", amount="1000.500", signed_on=dt.date(2026, 1, 10))
    second = register(world, project, number="C-2", amount="250.000", signed_on=dt.date(2026, 2, 1))
    with english():
        finance.disbursement_record(
            actor=world.najat, contract=first, amount="400.250", paid_on=dt.date(2026, 2, 1), reference="TR-1"
        )
    return project, first, second


def _package(world):
    return build_package(charity=world.charity_a, base_url=BASE)


# --- the schema, offline, with formats ----------------------------------------------------------------------


def test_vendored_schema_is_the_official_copy():
    if not SHARED_SCHEMA.is_dir():
        pytest.skip("the shared data folder is not on this machine")
    for name in ("360-giving-schema.json", "360-giving-package-schema.json", "COMMIT"):
        assert (SCHEMA_DIR / name).read_bytes() == (SHARED_SCHEMA / name).read_bytes(), name


def test_format_checks_really_run():
    checker = format_checker()
    assert {"date-time", "uri"} <= set(checker.checkers)
    assert not checker.conforms("05/06/2014", "date-time")
    assert checker.conforms("2014-06-05T00:00:00+00:00", "date-time")
    assert not checker.conforms("www.example.org", "uri")
    good = {
        "id": "360G-x-1",
        "title": "t",
        "description": "d",
        "currency": "GBP",
        "amountAwarded": Decimal("10"),
        "awardDate": "2014-06-05",
        "recipientOrganization": [{"id": "GB-CHC-1", "name": "r"}],
        "fundingOrganization": [{"id": "GB-CHC-2", "name": "f"}],
    }
    assert grant_problems(good) == []
    # A date written day-first, a modification time without its zone, a link without a scheme: each caught by a
    # format check (without a FormatChecker all three pass).
    bad = {**good, "awardDate": "05/06/2014", "dateModified": "2015-08-17 00:00", "url": "www.example.org"}
    problems = {(problem.path, problem.code) for problem in grant_problems(bad)}
    assert problems == {("awardDate", "format"), ("dateModified", "format"), ("url", "format")}


def test_package_reference_is_resolved_locally(monkeypatch):
    """The package schema refers to the grant schema by URL: the local registry answers, nothing is fetched."""
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    assert package_problems({"grants": [{"id": "x"}]})  # validated against the referenced grant schema
    assert package_validator().is_valid({"grants": [{"id": "x"}]}) is False


# --- the export ------------------------------------------------------------------------------------------------


def test_export_validates_and_carries_exact_amounts(world, published):
    project, first, _second = published
    package = _package(world)
    assert package_problems(package) == []
    grants = {grant["id"]: grant for grant in package["grants"]}
    assert len(grants) == 2
    grant = grants[f"360G-shafaf-charity-a-{project.reference}-{first.pk}"]
    assert grant["currency"] == "KWD"
    assert grant["amountAwarded"] == Decimal("1000.500")
    assert grant["amountDisbursed"] == Decimal("400.250")
    assert grant["awardDate"] == "2026-01-10"
    assert grant["recipientOrganization"][0]["name"] == "Hope Organisation"
    assert grant["fundingOrganization"][0] == {"id": "XM-SHAFAF-charity-a", "name": "Al-Noor Charity"}
    assert grant["disbursementTransaction"][0]["value"] == Decimal("400.250")
    assert grant["url"] == f"{BASE}/p/{project.reference}/"
    assert grant["beneficiaryLocation"] == [{"name": "Sudan", "countryCode": "SD"}]
    assert package["license"] == "https://creativecommons.org/licenses/by/4.0/"

    text = package_json(package)
    assert '"amountAwarded": 1000.500' in text  # written from minor units, digits kept, no float on the way
    assert '"amountDisbursed": 400.250' in text
    reread = jsonexact.loads(text)
    assert package_problems(reread) == []
    assert json.loads(text)["grants"]  # plain JSON for anyone


def test_exact_decimals_never_through_float():
    # 0.1 + 0.2 in floats is 0.30000000000000004; minor units are exact at any size.
    assert decimal_amount(300, "KWD") == Decimal("0.300")
    assert jsonexact.dumps({"a": decimal_amount(12345678901234567, "KWD")}) == '{"a": 12345678901234.567}'
    assert jsonexact.dumps({"a": decimal_amount(5, "JPY")}) == '{"a": 5}'
    assert jsonexact.dumps({"a": "@dec-not-a-marker:1"}) == '{"a": "@dec-not-a-marker:1"}'


def test_no_donor_identity_in_the_file(world, published, client):
    donor = donor_of(world, name_ar="فاعل خير مجهول", name_en="Secret Benefactor Zeta")
    response = client.get(reverse("interop:360giving", args=["charity-a"]))
    assert response.status_code == 200
    body = response.content.decode("utf-8")
    for secret in (donor.name_en, donor.name_ar, world.donor.username, world.donor_org.name_en):
        assert secret not in body


def test_public_file_validates_and_is_streamed_as_json(world, published, client):
    response = client.get(reverse("interop:360giving", args=["charity-a"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    package = jsonexact.loads(response.content)
    assert package_problems(package) == []
    assert package["downloadURL"].endswith("/open-data/charity-a/360giving.json")


def test_only_published_projects_and_active_charities(world, published, client):
    # Charity B's project is a draft with a contract written directly: never published.
    from shafaf.finance.models import Contract

    Contract.objects.create(
        project=world.project_b,
        partner=world.partner,
        number="B-1",
        signed_on=dt.date(2026, 1, 1),
        amount_minor=5000,
        currency="KWD",
        registered_by=world.rahma,
    )
    assert client.get(reverse("interop:360giving", args=["charity-b"])).status_code == 404
    with pytest.raises(GivingExportError):
        build_package(charity=world.charity_b, base_url=BASE)
    assert client.get(reverse("interop:360giving", args=["no-such-charity"])).status_code == 404
    assert client.get(reverse("interop:360giving", args=["partner"])).status_code == 404  # not a charity
    world.charity_a.is_active = False
    world.charity_a.save(update_fields=["is_active"])
    assert client.get(reverse("interop:360giving", args=["charity-a"])).status_code == 404


def test_an_invalid_package_is_never_published(world, published, monkeypatch):
    from shafaf.interop.giving import export

    monkeypatch.setattr(export, "VERSION", "one point four")
    with pytest.raises(GivingExportError) as refused:
        _package(world)
    assert any("version" in problem for problem in refused.value.problems)


def test_command_writes_a_valid_file(world, published, tmp_path):
    out = tmp_path / "grants.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("export_360giving", "--charity", "charity-a", "--output", str(out), stdout=stdout, stderr=stderr)
    package = jsonexact.loads(out.read_text(encoding="utf-8"))
    assert package_problems(package) == []
    assert len(package["grants"]) == 2
    assert "2 grants written" in stdout.getvalue()
    assert "grants: 2/2" in stderr.getvalue()


def test_linear_package_check_agrees_with_the_official_schema_whole(world, published):
    """package_problems splits the package schema (envelope, each grant, uniqueness by hashing) for speed: on every
    kind of package its verdict is the whole official schema's."""
    package = _package(world)
    first = package["grants"][0]
    same_amount_other_digits = {**first, "amountAwarded": Decimal(str(first["amountAwarded"]) + "00")}
    cases = [
        package,
        {**package, "grants": [*package["grants"], dict(first)]},  # a grant twice
        {**package, "grants": [first, same_amount_other_digits]},  # equal as JSON numbers: still the same grant
        {**package, "grants": [first, {**first, "amountAwarded": first["amountAwarded"] + 1}]},  # different
        {**package, "grants": [{**first, "awardDate": "10/01/2026"}]},  # a bad grant
        {**package, "grants": []},  # at least one grant
        {**package, "version": "1.4.3"},  # major.minor only
        {**package, "license": "not a uri"},
        {"version": "1.4"},  # no grants
        [],  # not an object
    ]
    for case in cases:
        assert (package_problems(case) == []) == package_validator().is_valid(case), case


def test_public_file_is_cached_until_its_data_changes(world, published, client):
    _project, _first, second = published
    url = reverse("interop:360giving", args=["charity-a"])
    response = client.get(url)
    etag = response["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url).content == response.content  # served from the cache, same bytes
    with english():
        finance.disbursement_record(
            actor=world.najat, contract=second, amount="50.000", paid_on=dt.date(2026, 3, 1), reference="TR-2"
        )
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    grants = {grant["id"]: grant for grant in jsonexact.loads(changed.content)["grants"]}
    assert any(grant["amountDisbursed"] == Decimal("50.000") for grant in grants.values())


def test_export_queries_do_not_grow_with_the_grants(world, published, django_assert_max_num_queries):
    project, *_ = published
    for number in range(3, 13):
        register(world, project, number=f"C-{number}", amount="10.000")
    with django_assert_max_num_queries(4):
        package = _package(world)
    assert len(package["grants"]) == 12
