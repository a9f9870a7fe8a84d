from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EntriesConfig(AppConfig):
    name = "saidao.entries"
    label = "entries"
    verbose_name = _("作品")

    def ready(self) -> None:
        from saidao.core.media import media_access
        from saidao.leaderboards.live import latest_provider
        from saidao.uploads.purposes import UPLOAD_DEFAULT_MAX_SIZE, upload_purpose_register

        from . import tasks  # noqa: F401  (registers the processing task)
        from .selectors import entry_media_visible, latest_for_screen
        from .services import entry_upload_authorize, entry_upload_completed

        # Any declared type: a renamed text file is caught by validation with a clear message.
        upload_purpose_register(
            "entry",
            max_size=UPLOAD_DEFAULT_MAX_SIZE,
            on_complete=entry_upload_completed,
            authorize=entry_upload_authorize,
        )
        latest_provider(latest_for_screen)
        media_access(
            "entries/", lambda request, name: entry_media_visible(user=request.user, name=name)
        )
