import re

import pytest
from django.core import mail
from django.urls import reverse

from shafaf.accounts.models import Membership, User
from shafaf.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _invite(client, world, **overrides):
    data = {"username": "fatima", "role": "charity_staff", "email": "fatima@example.org", "first_name": "فاطمة"}
    data.update(overrides)
    return client.post(reverse("accounts:organization_detail", args=[world.charity_a.pk]), data)


def test_a_charity_admin_invites_a_new_member_who_chooses_a_password_and_signs_in(world, login, client):
    response = _invite(login(world.najat), world)
    assert response.status_code == 302
    fatima = User.objects.get(username="fatima")
    assert not fatima.has_usable_password()
    assert Membership.objects.filter(user=fatima, organization=world.charity_a, role="charity_staff").exists()
    assert AuditEvent.objects.filter(action="user.create", subject_id=str(fatima.pk), actor=world.najat).exists()
    assert AuditEvent.objects.filter(
        action="membership.create", organization=world.charity_a, actor=world.najat
    ).exists()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["fatima@example.org"]
    assert "جمعية النور الخيرية" in message.subject + message.body  # in the inviter's language (Arabic)
    link = re.search(r"https?://[^/\s]+(/accounts/set-password/\S+)", message.body).group(1)

    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "a-long-and-unusual-password-2026"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    fatima.refresh_from_db()
    assert fatima.check_password(new_password)
    assert AuditEvent.objects.filter(action="user.set_password", subject_id=str(fatima.pk)).exists()
    assert "a-long-and-unusual" not in str(list(AuditEvent.objects.values_list("changes", flat=True)))
    # The link works once.
    assert "set-password" in client.get(link, follow=True).request["PATH_INFO"]
    assert client.get(link, follow=True).context["validlink"] is False


def test_a_new_member_needs_an_email_and_nothing_is_half_written(world, login):
    response = _invite(login(world.najat), world, email="")
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    assert not User.objects.filter(username="fatima").exists()
    assert mail.outbox == []


def test_another_charitys_admin_cannot_add_members_here(world, login):
    response = _invite(login(world.rahma), world)
    assert response.status_code == 403
    assert not User.objects.filter(username="fatima").exists()


def test_an_existing_user_is_added_without_an_invitation(world, login):
    response = _invite(login(world.najat), world, username=world.staff_b.username, email="")
    assert response.status_code == 302
    assert Membership.objects.filter(user=world.staff_b, organization=world.charity_a).exists()
    assert mail.outbox == []
