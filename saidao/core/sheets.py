"""What every spreadsheet import shares: errors kept with their row and column, and cells read
as the text a person typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SheetErrors:
    """Every error of a file, each ``{"row", "column", "message"}``, so that a person can fix
    them all at once; an import with any error saves nothing."""

    errors: list[dict[str, Any]] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": message})


def cell_text(value: Any) -> str:
    """A cell as text: empty for nothing, ``13900000001`` for a phone number or code that the
    spreadsheet stored as the number 13900000001.0, trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
