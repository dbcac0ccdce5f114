"""The indicator values that progress reports held as {code: value} become project indicators (unit: number,
named by their code) and indicator values of the report's period, so that nothing is lost when the reports'
JSON field is removed. A value that is not a number is kept as the row's note, with the value 0."""

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.db import migrations

SCALE = 1000
MAX_MILLI = 10**15
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _milli(value):
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).translate(DIGITS).replace("٫", ".").replace(",", "").replace("٬", "").strip()
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    milli = int((number * SCALE).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if not 0 <= milli <= MAX_MILLI:
        return None
    return milli


def forwards(apps, schema_editor):
    ProgressReport = apps.get_model("reports", "ProgressReport")
    Indicator = apps.get_model("strategy", "Indicator")
    IndicatorValue = apps.get_model("strategy", "IndicatorValue")
    reports = ProgressReport.objects.exclude(indicator_values={}).exclude(indicator_values__isnull=True)
    for report in reports.iterator():
        values = report.indicator_values
        if not isinstance(values, dict):
            values = {"value": values}
        for key, raw in values.items():
            code = str(key).strip()[:40] or "indicator"
            indicator = Indicator.objects.filter(project_id=report.project_id, code=code).first()
            if indicator is None:
                indicator = Indicator.objects.create(
                    project_id=report.project_id,
                    code=code,
                    name_ar=str(key)[:300] or code,
                    name_en=str(key)[:300] or code,
                    unit="number",
                    created_by_id=report.created_by_id,
                )
            milli = _milli(raw)
            note = "" if milli is not None else str(raw)
            IndicatorValue.objects.update_or_create(
                indicator=indicator,
                report=report,
                defaults={
                    "period_start": report.period_start,
                    "period_end": report.period_end,
                    "value_milli": milli if milli is not None else 0,
                    "note": note,
                    "recorded_by_id": report.submitted_by_id or report.created_by_id,
                },
            )


def backwards(apps, schema_editor):
    ProgressReport = apps.get_model("reports", "ProgressReport")
    IndicatorValue = apps.get_model("strategy", "IndicatorValue")
    by_report = {}
    for value in IndicatorValue.objects.select_related("indicator").iterator():
        text = value.note or str(Decimal(value.value_milli) / SCALE)
        by_report.setdefault(value.report_id, {})[value.indicator.code] = text
    for report_id, values in by_report.items():
        ProgressReport.objects.filter(pk=report_id).update(indicator_values=values)


class Migration(migrations.Migration):
    dependencies = [
        ("strategy", "0001_initial"),
        ("reports", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
