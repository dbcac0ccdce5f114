"""A dashboard's tables as one Excel workbook (one sheet per table), with the dashboard's filters.

Counts are whole numbers; amounts are exact decimals computed from integer minor units (shafaf.core.money), each
with its currency's number format (shafaf.finance.statements.excel_amount/number_format), never floats made by
hand. Headers are in the viewer's language; an Arabic workbook reads right to left."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _

from shafaf.core.money import Money
from shafaf.finance.statements import excel_amount, number_format

from .figures import Table


def workbook(tables: list[Table], *, rtl: bool, filters: dict[str, str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    used = set()
    for table in tables:
        title = table.title[:31]
        for forbidden in "[]:*?/\\":
            title = title.replace(forbidden, " ")
        while title in used:
            title = title[:28] + f" {len(used)}"
        used.add(title)
        sheet = book.create_sheet(title=title)
        sheet.sheet_view.rightToLeft = rtl
        sheet.append(list(table.headers))
        for cell in sheet[1]:
            cell.font = bold
        for row in table.rows:
            values, formats = [], {}
            for position, value in enumerate(row, start=1):
                if isinstance(value, Money):
                    formats[position] = number_format(value.currency)
                    value = excel_amount(value)
                values.append(value)
            sheet.append(values)
            for position, fmt in formats.items():
                cell = sheet.cell(row=sheet.max_row, column=position)
                if not isinstance(cell.value, str):
                    cell.number_format = fmt
    info = book.create_sheet(title=_("Filters")[:31])
    info.sheet_view.rightToLeft = rtl
    info.append([_("Filter"), _("Value")])
    for cell in info[1]:
        cell.font = bold
    for name, value in filters.items():
        info.append([name, value])
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
