import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saidao.config.settings")
django.setup(set_prefix=False)  # as get_asgi_application does, before our handler is imported

from saidao.core.asgi import SaidaoASGIHandler  # noqa: E402

django_application = SaidaoASGIHandler()

# Imported once Django is set up: tus PATCH bodies go straight into their files (see there).
from saidao.uploads.asgi import tus_streaming  # noqa: E402

application = tus_streaming(django_application)
