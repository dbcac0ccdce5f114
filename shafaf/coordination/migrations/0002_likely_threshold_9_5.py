"""The default "likely duplicate" threshold moves from 12 to 9.5, with pairs in different named areas of one country
capped at "possible overlap". A ministry that never changed its thresholds gets the new default; one that set its
own keeps it."""

from decimal import Decimal

from django.db import migrations, models

OLD, NEW = Decimal("12"), Decimal("9.5")


def forwards(apps, schema_editor):
    settings = apps.get_model("coordination", "CoordinationSettings")
    settings.objects.filter(likely_threshold=OLD, updated_by__isnull=True).update(likely_threshold=NEW)


def backwards(apps, schema_editor):
    settings = apps.get_model("coordination", "CoordinationSettings")
    settings.objects.filter(likely_threshold=NEW, updated_by__isnull=True).update(likely_threshold=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("coordination", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="coordinationsettings",
            name="likely_threshold",
            field=models.DecimalField(
                decimal_places=2, default=Decimal("9.5"), max_digits=6, verbose_name="likely duplicate at or above"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
