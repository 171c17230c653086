"""The downloadable xlsx templates, with notes, required columns marked and drop-down choices."""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from vetvol.registry.imports.columns import COLUMNS, SHEET_NAMES
from vetvol.registry.imports.upload import MAX_ROWS, MAX_UPLOAD_BYTES, MiB

# ---------------------------------------------------------------------------------------------------------
# Templates

_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
_OPTIONAL_FILL = PatternFill("solid", fgColor="E7EEF7")


def _template(kind: str, notes: list[str]) -> bytes:
    columns = COLUMNS[kind]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_NAMES[kind]
    for i, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=i, value=column.header)
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = column.width
        if column.kind in {"id", "digits"}:
            # Text format, so Excel keeps all 18 digits of an ID number and the leading digits of codes.
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, 1002):
                sheet.cell(row=row, column=i).number_format = "@"
        if column.kind == "bool":
            check = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
            check.error, check.errorTitle = "请选择“是”或“否”", "输入有误"
            sheet.add_data_validation(check)
            check.add(f"{letter}2:{letter}100000")
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("填写说明")
    guide.append(["列名", "是否必填", "填写说明", "示例"])
    for cell in guide[1]:
        cell.font = _HEADER_FONT
    for column in columns:
        guide.append([column.header, "必填" if column.required else "选填", column.help, column.example])
    guide.append([])
    for note in notes:
        guide.append([note])
    for letter, width in zip("ABCD", (22, 10, 70, 28), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


COMMON_NOTES = [
    "说明：第一行是列名，请勿修改；列的顺序可以调整，不需要的选填列可以删除。黄色为必填列。",
    "从第二行开始每行填写一条记录，不要合并单元格，不要在数据中间留空行以外的说明文字。",
    f"每个文件最多 {MAX_ROWS} 行、{MAX_UPLOAD_BYTES // MiB} MB；请保存为 Excel 工作簿（.xlsx）格式。",
    "上传后系统先逐行检查、不写入任何数据；检查结果列出每一行的问题，可选择只导入有效行，或修改后重新上传。",
]


# Filled by `registry.actions.imports.register_kind`: kind → a function making its template.
TEMPLATES: dict[str, Callable[[], bytes]] = {}
