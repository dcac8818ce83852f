"""WSGI entry point, for serving pages from a WSGI server when websockets are served separately."""

import os

from django.core.wsgi import get_wsgi_application

os.umask(0o077)  # as the `happydesk` command does: files owner-only
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happydesk.settings")
application = get_wsgi_application()
