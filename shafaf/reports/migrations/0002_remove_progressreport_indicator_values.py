from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("strategy", "0002_indicator_values_from_reports"),
    ]

    operations = [
        migrations.RemoveField(model_name="progressreport", name="indicator_values"),
    ]
