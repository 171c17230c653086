"""Shared by the import tests: the volunteer roster's headers, a row of it, a workbook of rows, the stored
uploads."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from conftest import volunteer_raw

HEADERS = [
    "姓名",
    "身份证号码",
    "手机号码",
    "居住街道（乡镇）代码",
    "服役军种",
    "入伍年份",
    "退役年份",
    "技能",
]
KEYS = ["name", "id_number", "phone", "home_region", "service_branch", "enlistment_year", "discharge_year"]


def row(seq: int, region: str = "440304001", skills: str = "", **overrides) -> list:
    raw = volunteer_raw(seq, region, **overrides)
    return [*(raw.get(k) for k in KEYS), skills]


def xlsx(rows: list[list], headers: list[str] | None = None, title_rows: int = 0) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for i in range(title_rows):
        sheet.append([f"南园街道退役军人志愿者名册（第 {i + 1} 行标题）"])
    sheet.append(headers or HEADERS)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stored_files(var_dir: Path) -> list[Path]:
    folder = var_dir / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []
