"""Spreadsheet exports and reading uploaded sheets, with formula injection neutralised."""
import csv
import io

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def workbook_bytes(sheets: list[tuple[str, list[str], list[list]]],
                   notes: dict[str, list[str]] | None = None) -> bytes:
    """Build an .xlsx: each sheet is (title, header, rows); every text cell neutralised."""
    book = Workbook()
    book.remove(book.active)
    header_fill = PatternFill("solid", fgColor="DDE7F3")
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)
        lead = (notes or {}).get(title, [])
        for line in lead:
            sheet.append([neutralise(line)])
        sheet.append([neutralise(name) for name in header])
        header_row = len(lead) + 1
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        for row in rows:
            sheet.append([neutralise(value) for value in row])
        for index, name in enumerate(header, start=1):
            width = max([len(str(name))] + [len(str(r[index - 1])) for r in rows if index <= len(r)])
            sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, width * 2 + 2))
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class SheetError(Exception):
    """An uploaded file could not be read as a sheet; the message is for the organiser."""


def read_rows(filename: str, data: bytes) -> list[dict[str, str]]:
    """Rows of the first sheet (xlsx) or a CSV file as dicts keyed by the header row."""
    if filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SheetError("无法识别文件编码，请另存为 UTF-8 的 CSV 或 xlsx 文件")
        rows = list(csv.reader(io.StringIO(text)))
    else:
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not xlsx
            raise SheetError("无法读取这个 Excel 文件，请确认是 .xlsx 格式") from error
        sheet = book.worksheets[0]
        rows = [["" if value is None else str(value) for value in row]
                for row in sheet.iter_rows(values_only=True)]
        book.close()
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise SheetError("文件是空的")
    header = [cell.strip() for cell in rows[0]]
    return [{header[i]: (row[i].strip() if i < len(row) else "") for i in range(len(header))
             if header[i]} for row in rows[1:]]
