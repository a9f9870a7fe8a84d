"""The `saidao` console script: Django's manage.py with Saidao's settings.

Besides Django's commands it offers `saidao demo`, `saidao serve` and `saidao regions load`.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saidao.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["saidao", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
