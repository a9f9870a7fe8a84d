from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "saidao.accounts"
    label = "accounts"
    verbose_name = _("职工与会员")

    def ready(self) -> None:
        from django.db import transaction
        from django.db.models.signals import post_delete, post_save

        from . import token_cache
        from .models import ApiToken, User

        # After the commit: a lookup running meanwhile reads the old rows, and its result is
        # then refused by remember() because the generation has moved.
        def token_deleted(**_kwargs: object) -> None:
            transaction.on_commit(token_cache.forget_all)

        def user_saved(update_fields: object = None, **_kwargs: object) -> None:
            transaction.on_commit(lambda: token_cache.user_saved(update_fields))

        post_delete.connect(token_deleted, sender=ApiToken, weak=False, dispatch_uid="token-gone")
        post_save.connect(user_saved, sender=User, weak=False, dispatch_uid="token-user-saved")

        from . import receivers

        receivers.connect()
