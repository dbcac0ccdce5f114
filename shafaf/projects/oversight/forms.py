from django import forms
from django.utils.translation import gettext_lazy as _

from .services import COMMENT_MAX_LENGTH


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What you are doing about this alert."),
    )
