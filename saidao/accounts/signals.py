"""Signals that rooms below accounts' dependents listen to, so accounts never imports them."""

from django.dispatch import Signal

# Sent inside the erasing transaction with ``user=``: rooms that keep a worker's personal data
# (certificates print a name) erase or mask their copy.
user_erased = Signal()
