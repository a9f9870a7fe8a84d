from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

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
            where = _("第 %(row)s 行") % {"row": row["row"]}
            if row.get("column"):
                where = f"{where} {row['column']}"
            form.add_error(
                None, _("%(where)s：%(message)s") % {"where": where, "message": row["message"]}
            )
            placed = True
    if not placed or not fields:
        form.add_error(None, str(error.message))
