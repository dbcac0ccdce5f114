"""The public open-data page: what each active charity publishes (IATI activity and organisation files, its
360Giving grants), under which licence, and the audit chain's published checkpoints, so that anyone can download
the data and check that the platform's history was not rewritten."""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from . import selectors


@login_not_required
@require_safe
def open_data_index(request, **kwargs):
    catalogue = selectors.open_data_catalogue(absolute=request.build_absolute_uri)
    return render(request, "interop/open_data.html", {"catalogue": catalogue})
