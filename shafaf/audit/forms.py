import json

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin

MAX_CHECKPOINT_BYTES = 4096


class CheckpointForm(StyledFormMixin, forms.Form):
    """A checkpoint kept outside the platform: the file `audit_checkpoint` wrote, or its line pasted."""

    file = forms.FileField(label=_("Checkpoint file"), required=False)
    text = forms.CharField(
        label=_("…or paste its line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "ltr", "placeholder": '{"count": 1234, "head_hash": "…"}'}),
    )

    def clean(self):
        cleaned = super().clean()
        upload, text = cleaned.get("file"), (cleaned.get("text") or "").strip()
        if upload is not None:
            if upload.size > MAX_CHECKPOINT_BYTES:
                raise forms.ValidationError(_("A checkpoint file is a single short line; this file is too large."))
            text = upload.read().decode("utf-8", errors="replace").strip()
        if not text:
            raise forms.ValidationError(_("Choose the checkpoint file or paste its line."))
        try:
            data = json.loads(text)
            count, head_hash = int(data["count"]), str(data["head_hash"])
        except (ValueError, KeyError, TypeError):
            raise forms.ValidationError(
                _("This is not a checkpoint: expected a count and a head hash, as audit_checkpoint writes them.")
            ) from None
        if count < 0 or len(head_hash) != 64 or any(c not in "0123456789abcdef" for c in head_hash):
            raise forms.ValidationError(_("The count or the head hash of this checkpoint is malformed."))
        cleaned["count"], cleaned["head_hash"] = count, head_hash
        return cleaned
