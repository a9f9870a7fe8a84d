"""Signals for rooms above orgs (accounts now, notifications later), so orgs never imports them."""

from django.dispatch import Signal

# Sent with ``role`` when an appointment waits for its appointee's consent.
role_invited = Signal()
