"""Database triggers that keep the ledger append-only, and on PostgreSQL balanced at commit (see
shafaf/finance/triggers.py)."""

from django.db import migrations

from shafaf.finance import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("finance", "0002_budgets_ledger_deviations")]

    operations = [migrations.RunPython(install, remove)]
