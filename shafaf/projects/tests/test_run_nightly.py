"""`manage.py run_nightly`: the nightly jobs in order, and when the next night comes."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command

from shafaf.partners.models import Accreditation
from shafaf.projects.management.commands.run_nightly import next_run
from shafaf.projects.models import Project
from shafaf.projects.oversight.models import Alert


def test_next_run_is_today_before_the_hour_and_tomorrow_after_it():
    at = dt.time(2, 0)
    assert next_run(dt.datetime(2027, 3, 1, 1, 59), at) == dt.datetime(2027, 3, 1, 2, 0)
    assert next_run(dt.datetime(2027, 3, 1, 2, 0), at) == dt.datetime(2027, 3, 2, 2, 0)
    assert next_run(dt.datetime(2027, 12, 31, 23, 0), at) == dt.datetime(2028, 1, 1, 2, 0)


def test_one_night_expires_lapsed_accreditations_and_raises_the_alert(world):
    Project.objects.filter(pk=world.project_a.pk).update(
        status="in_execution", licence_number="LIC-2027-000009", licence_date=dt.date(2027, 1, 1)
    )
    Accreditation.objects.filter(partner=world.partner, authority="MOSA").update(valid_until=dt.date(2021, 6, 30))
    out = io.StringIO()
    call_command("run_nightly", stdout=out)
    text = out.getvalue()
    assert text.index("accreditations:") < text.index("rulebook:") < text.index("alerts:")
    assert Accreditation.objects.get(partner=world.partner, authority="MOSA").status == "expired"
    alert = Alert.objects.get(project=world.project_a, rule="partner_not_accredited")
    assert "2021-06-30" in alert.message_en
    call_command("run_nightly", stdout=io.StringIO())  # a second night changes nothing
    assert Alert.objects.filter(project=world.project_a, rule="partner_not_accredited").count() == 1
