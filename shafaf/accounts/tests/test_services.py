"""Organisations, memberships and the user's language: who may write what, and what is refused."""

from __future__ import annotations

import pytest

from shafaf.accounts import services
from shafaf.accounts.choices import Authority, OrganizationKind, Role
from shafaf.accounts.models import Membership, Organization, User
from shafaf.core.exceptions import DomainError, NotAllowed
from tests.factories import PASSWORD, UserFactory, verified_login

# --- organisations ------------------------------------------------------------------------------------------


def new_charity(actor, **overrides):
    data = {"kind": OrganizationKind.CHARITY, "slug": "al-amal", "name_ar": "جمعية الأمل", "name_en": "Al-Amal"}
    data.update(overrides)
    return services.organization_create(actor=actor, **data)


def test_only_a_ministry_admin_registers_organisations(world):
    for actor in (world.reviewer, world.najat, world.auditor, world.donor):
        with pytest.raises(NotAllowed):
            new_charity(actor)
    assert not Organization.objects.filter(slug="al-amal").exists()
    organization = new_charity(world.ministry_admin)
    assert organization.pk and organization.kind == OrganizationKind.CHARITY
    # An operator's command acts without a user.
    assert new_charity(None, slug="by-command").pk


BAD_ORGANISATIONS = [
    ({"country": "XX"}, "country"),
    ({"slug": "charity-a"}, "slug"),
    ({"authority_code": Authority.MOSA}, "authority_code"),
    ({"kind": OrganizationKind.AUTHORITY}, "authority_code"),
    ({"name_en": ""}, "name_en"),
    ({"iati_org_id": "bad id!"}, "iati_org_id"),
    ({"slug": "not a slug"}, "slug"),
]


def test_organisation_input_is_checked(world):
    count = Organization.objects.count()
    for overrides, field in BAD_ORGANISATIONS:
        with pytest.raises(DomainError) as error:
            new_charity(world.ministry_admin, **overrides)
        assert field in error.value.fields, (overrides, error.value.fields)
        assert error.value.code == "invalid"
    assert Organization.objects.count() == count


def test_a_charity_admin_edits_its_names_but_not_its_standing(world):
    services.organization_update(actor=world.najat, organization=world.charity_a, name_en="Al-Noor Society")
    world.charity_a.refresh_from_db()
    assert world.charity_a.name_en == "Al-Noor Society"
    for field, value in [("is_active", False), ("slug", "x"), ("kind", "partner"), ("mosa_licence_number", "1")]:
        with pytest.raises(NotAllowed):
            services.organization_update(actor=world.najat, organization=world.charity_a, **{field: value})
    with pytest.raises(NotAllowed):
        services.organization_update(actor=world.najat, organization=world.charity_b, name_en="Taken")
    with pytest.raises(NotAllowed):
        services.organization_update(actor=world.staff_a, organization=world.charity_a, name_en="Staff")
    world.charity_b.refresh_from_db()
    assert world.charity_b.name_en == "Al-Rahma Charity"


def test_the_ministry_admin_can_suspend_a_charity(world):
    services.organization_update(actor=world.ministry_admin, organization=world.charity_b, is_active=False)
    world.charity_b.refresh_from_db()
    assert world.charity_b.is_active is False
    # Its members lose their roles with it.
    assert User.objects.get(pk=world.rahma.pk).roles() == set()


# --- memberships -----------------------------------------------------------------------------------------------


def test_a_charity_admin_adds_members_to_its_own_charity_only(world):
    newcomer = UserFactory(username="newcomer")
    membership = services.membership_create(
        actor=world.najat, user=newcomer, organization=world.charity_a, role=Role.CHARITY_STAFF
    )
    assert membership.is_active
    assert User.objects.get(pk=newcomer.pk).roles() == {Role.CHARITY_STAFF}
    with pytest.raises(NotAllowed):
        services.membership_create(
            actor=world.najat, user=newcomer, organization=world.charity_b, role=Role.CHARITY_STAFF
        )
    with pytest.raises(NotAllowed):
        services.membership_create(
            actor=world.staff_a, user=newcomer, organization=world.charity_a, role=Role.CHARITY_FINANCE
        )


def test_a_role_must_fit_the_organisations_kind(world):
    newcomer = UserFactory(username="newcomer")
    for role in (Role.MINISTRY_ADMIN, Role.AUDITOR, Role.DONOR, Role.PARTNER_REPORTER):
        with pytest.raises(DomainError) as error:
            services.membership_create(actor=world.najat, user=newcomer, organization=world.charity_a, role=role)
        assert "role" in error.value.fields
    assert not Membership.objects.filter(user=newcomer).exists()


def test_the_same_role_twice_is_refused(world):
    with pytest.raises(DomainError):
        services.membership_create(
            actor=world.najat, user=world.staff_a, organization=world.charity_a, role=Role.CHARITY_STAFF
        )
    assert Membership.objects.filter(user=world.staff_a).count() == 1


def test_ending_a_membership_ends_the_access(world, login):
    membership = world.staff_a.memberships.get()
    client = login(world.staff_a)
    assert client.get(f"/api/v1/projects/{world.project_a.pk}/").status_code == 200
    services.membership_deactivate(actor=world.najat, membership=membership)
    membership.refresh_from_db()
    assert membership.is_active is False
    assert client.get(f"/api/v1/projects/{world.project_a.pk}/").status_code == 404


def test_nobody_ends_their_own_membership_or_another_charitys(world):
    with pytest.raises(DomainError) as error:
        services.membership_deactivate(actor=world.najat, membership=world.najat.memberships.get())
    assert error.value.code == "self_removal"
    with pytest.raises(NotAllowed):
        services.membership_deactivate(actor=world.najat, membership=world.staff_b.memberships.get())
    assert Membership.objects.filter(is_active=False).count() == 0


# --- language --------------------------------------------------------------------------------------------------


def test_an_unknown_language_is_refused(world):
    with pytest.raises(DomainError) as error:
        services.user_set_language(actor=world.najat, language="fr")
    assert "language" in error.value.fields


def test_the_chosen_language_is_saved_on_the_profile_and_used_on_later_pages(world, login, client):
    client = login(world.najat)
    assert '<html lang="ar" dir="rtl">' in client.get("/").text

    response = client.post("/i18n/language/", {"language": "en", "next": "/projects/"})
    assert response.status_code == 302
    assert response["Location"] == "/projects/"
    world.najat.refresh_from_db()
    assert world.najat.language == "en"

    # The profile, not the cookie, carries the choice: without the cookie the page is still English.
    client.cookies.pop("shafaf_language", None)
    response = client.get("/")
    assert '<html lang="en" dir="ltr">' in response.text
    assert response["Content-Language"] == "en"

    # ... even against a cookie that says Arabic, and on another device.
    client.cookies["shafaf_language"] = "ar"
    assert '<html lang="en" dir="ltr">' in client.get("/projects/").text


def test_the_saved_language_follows_the_user_to_a_new_session(world, client):
    services.user_set_language(actor=world.najat, language="en")
    verified_login(client, world.najat)
    assert '<html lang="en" dir="ltr">' in client.get("/").text


def test_signing_in_sets_the_language_cookie_from_the_profile(world, client):
    services.user_set_language(actor=world.donor, language="en")
    response = client.post("/accounts/login/", {"username": "donor", "password": PASSWORD})
    assert response.status_code == 302
    assert response.cookies["shafaf_language"].value == "en"


def test_a_visitor_can_choose_a_language_before_signing_in(db, client):
    response = client.post("/i18n/language/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["shafaf_language"].value == "en"
    assert '<html lang="en" dir="ltr">' in client.get("/accounts/login/").text


def test_a_bad_language_choice_changes_nothing(world, login):
    client = login(world.najat)
    response = client.post("/i18n/language/", {"language": "fr"})
    assert response.status_code == 302
    world.najat.refresh_from_db()
    assert world.najat.language == "ar"


def test_the_language_switch_needs_a_post(world, login):
    assert login(world.najat).get("/i18n/language/", {"language": "en"}).status_code == 405
    world.najat.refresh_from_db()
    assert world.najat.language == "ar"
