import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saidao.config.settings")
django_application = get_asgi_application()

# Imported once Django is set up: tus PATCH bodies go straight into their files (see there).
from saidao.uploads.asgi import tus_streaming  # noqa: E402

application = tus_streaming(django_application)
