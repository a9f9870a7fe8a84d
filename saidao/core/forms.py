from __future__ import annotations

from django import forms

from .errors import SaidaoError


def form_add_error(form: forms.Form, error: SaidaoError) -> None:
    """Show a domain error on the form: per field where the error names fields, else on top."""
    fields = error.detail.get("fields") or {}
    placed = False
    for name, messages in fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
        placed = True
    for row in error.detail.get("errors") or []:
        if isinstance(row, dict) and "row" in row:
            where = f"第 {row['row']} 行" + (f" {row['column']}" if row.get("column") else "")
            form.add_error(None, f"{where}：{row['message']}")
            placed = True
    if not placed or not fields:
        form.add_error(None, str(error.message))
