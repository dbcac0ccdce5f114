"""Background work of the accounts app, enqueued after the transaction that asks for it commits."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from .models import Organization, User


def set_password_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SHAFAF_BASE_URL.rstrip("/") + reverse("accounts:set_password", args=[uid, token])


@task()
def send_invitation(user_id: int, organization_id: int, role_label: str) -> None:
    """E-mails a new member a link to choose their password, in their language."""
    user = User.objects.get(pk=user_id)
    organization = Organization.objects.get(pk=organization_id)
    with translation.override(user.language):
        context = {
            "user": user,
            "organization": organization.display_name(user.language),
            "role": role_label,
            "url": set_password_url(user),
        }
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
