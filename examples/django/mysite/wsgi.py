"""
WSGI config for mysite project.

wsgi-host loads this file the way mod_wsgi does (see ../wsgi-host.toml and ../apache-site.conf):
the group's python-path puts the project folder on sys.path, so ``mysite`` imports.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')

application = get_wsgi_application()
