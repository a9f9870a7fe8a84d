from django.conf import settings
from django.urls import include, path, re_path

from saidao.config.api import api
from saidao.core.media import serve_media
from saidao.core.views import healthz
from saidao.orgs.admin import saidao_admin

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("admin/", saidao_admin.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("saidao.accounts.urls")),
    path("orgs/", include("saidao.orgs.urls")),
    path("officer/", include("saidao.accounts.officer_urls")),
    path("regions/", include("saidao.regions.urls")),
    path("uploads/", include("saidao.uploads.urls")),
    path("campaigns/", include("saidao.campaigns.urls")),
    path("entries/", include("saidao.entries.urls")),
    path("leaderboards/", include("saidao.leaderboards.urls")),
    path("certificates/", include("saidao.certificates.urls")),
    path("quizzes/", include("saidao.quizzes.urls")),
    path("competitions/", include("saidao.competitions.urls")),
    path("", include("saidao.core.urls")),
]
if settings.SAIDAO_BENCH:
    urlpatterns.append(path("bench/", include("saidao.bench.urls")))
if not settings.AWS_STORAGE_BUCKET_NAME:
    # Embedded: the app serves media itself, with range requests for phones' video players.
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", serve_media, name="media"))
