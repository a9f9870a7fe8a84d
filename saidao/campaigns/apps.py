from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "saidao.campaigns"
    label = "campaigns"
    verbose_name = _("活动")

    def ready(self) -> None:
        from saidao.core.activities import activity_provider
        from saidao.core.media import media_access

        from .selectors import campaign_cards

        activity_provider(campaign_cards)
        # Covers of drafts are harmless: the names are the files' own, and covers are artwork.
        media_access("campaigns/covers/", lambda request, name: True)
