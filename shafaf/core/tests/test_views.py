"""The helpers every app's views share."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import PermissionDenied

from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.views import refuse_on_form


class ReasonForm(forms.Form):
    reason = forms.CharField()


def test_a_refusal_lands_on_the_form_and_answers_its_status():
    form = ReasonForm({"reason": "x"})
    assert form.is_valid()
    assert refuse_on_form(form, DomainError("Give a reason.", fields={"reason": ["Too short."]})) == 400
    assert form.errors == {"reason": ["Too short."]}
    form = ReasonForm({"reason": "x"})
    form.is_valid()
    assert refuse_on_form(form, Conflict("Someone else decided first.")) == 409
    assert form.non_field_errors() == ["Someone else decided first."]


def test_a_403_stays_a_403():
    form = ReasonForm({"reason": "x"})
    form.is_valid()
    with pytest.raises(PermissionDenied):
        refuse_on_form(form, NotAllowed("Not your charity's project."))
    assert not form.errors
