"""What the expenditure tests share: a licensed running project whose dates include today, a budget written
straight to the models (the budget services are tested in their own modules), rates written directly."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from shafaf.finance import rollup
from shafaf.finance.models import BudgetKind, BudgetLine, BudgetVersion, BudgetVersionLine, ExchangeRate
from shafaf.projects.models import Project

from .helpers import english, license_project

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=300)
END = TODAY + dt.timedelta(days=60)
SPENT = TODAY - dt.timedelta(days=10)


def running_project(world, project=None, **dates) -> Project:
    """World's project A (or `project`), licensed, its dates moved to include today (the factories plan it in
    the future), with a budget of lines A (1,000.000), B (500.000) in its currency."""
    project = project or world.project_a
    Project.objects.filter(pk=project.pk).update(
        planned_start=dates.get("start", START), planned_end=dates.get("end", END)
    )
    project.refresh_from_db()
    project = license_project(world, project)
    set_budget(world, project, {"A": 1_000_000, "B": 500_000})
    return project


def set_budget(world, project, lines: dict[str, int]) -> BudgetVersion:
    with transaction.atomic():
        number = BudgetVersion.objects.filter(project=project).count() + 1
        version = BudgetVersion.objects.create(
            project=project,
            number=number,
            kind=BudgetKind.ORIGINAL if number == 1 else BudgetKind.REVISION,
            currency=project.currency,
            total_minor=sum(lines.values()),
            created_by=world.najat,
        )
        for code, amount in lines.items():
            line, _ = BudgetLine.objects.get_or_create(
                project=project, code=code, defaults={"category": "programme", "name_en": f"Line {code}"}
            )
            BudgetVersionLine.objects.create(version=version, line=line, amount_minor=amount)
        rollup.refresh(project)
    return version


def line(project, code: str) -> BudgetLine:
    return BudgetLine.objects.get(project=project, code=code)


def rate(currency: str, on: dt.date, value: str) -> ExchangeRate:
    return ExchangeRate.objects.create(currency=currency, on_date=on, rate=value, source="test")


def csv_upload(text: str, name: str = "expenditures.csv", *, bom: bool = False) -> SimpleUploadedFile:
    data = ("\ufeff" if bom else "") + text
    return SimpleUploadedFile(name, data.encode("utf-8"), content_type="text/csv")


def xlsx_upload(rows: list[list], name: str = "expenditures.xlsx") -> SimpleUploadedFile:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        name, buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


__all__ = ["END", "SPENT", "START", "TODAY", "csv_upload", "english", "line", "rate", "running_project", "xlsx_upload"]
