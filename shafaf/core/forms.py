from django import forms

EMPTY_LABEL = "—"


def _dash_empty_choice(field) -> None:
    """One look for "nothing chosen" in every select, whatever kind of field made it."""
    if isinstance(field, forms.ModelChoiceField) or hasattr(field, "empty_label"):  # django-filter's too
        if field.empty_label is not None:
            field.empty_label = EMPTY_LABEL
    elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.MultipleChoiceField):
        choices = list(field.choices)
        if choices and choices[0][0] == "" and choices[0][1] != EMPTY_LABEL:
            field.choices = [("", EMPTY_LABEL), *choices[1:]]


def style_fields(form: forms.BaseForm) -> None:
    """Gives every widget Bootstrap's class and marks the invalid ones."""
    for name, field in form.fields.items():
        _dash_empty_choice(field)
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, (forms.CheckboxInput,)):
            css = "form-check-input"
        elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
            css = "form-select"
        else:
            css = "form-control"
        # `_errors` stays None until the form is validated. Reading `form.errors` here would validate a
        # bound form inside __init__, before a subclass sets its fields' choices (every choice refused).
        if form.is_bound and form._errors is not None and name in form._errors:
            css += " is-invalid"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class StyledFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)

    def full_clean(self):
        super().full_clean()
        style_fields(self)
