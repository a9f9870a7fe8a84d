#!/usr/bin/env python3
"""Same as the `saidao` console script."""

from saidao.cli import main

if __name__ == "__main__":
    main()
