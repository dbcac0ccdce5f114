"""Background work of the expenditures: a spreadsheet uploaded on the import page is imported by the worker
(enqueued on commit by shafaf.finance.expenditures.expenditures_import_start)."""

from django_tasks import task


@task()
def import_expenditures(batch_id: int, stored_name: str) -> dict:
    """Imports the stored spreadsheet into its FinanceImport, then deletes the stored copy; answers the counts."""
    from django.core.files.storage import default_storage

    from .expenditures import run_import
    from .models import FinanceImport

    batch = FinanceImport.objects.select_related("project__charity", "created_by").get(pk=batch_id)
    kind = "xlsx" if stored_name.endswith(".xlsx") else "csv"
    try:
        with default_storage.open(stored_name, "rb") as handle:
            batch = run_import(batch, handle, kind=kind)
    finally:
        default_storage.delete(stored_name)
    return {
        "import": batch.pk,
        "status": batch.status,
        "rows": batch.rows_total,
        "ok": batch.rows_ok,
        "failed": batch.rows_failed,
    }
