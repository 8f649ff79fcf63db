#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # Management commands on a developer's machine (makemigrations --check,
    # shell, ...) run with the development defaults; production sets
    # PORTAL_DEVELOPMENT=false (see .env.example), and the web server
    # (portal/wsgi.py) never takes this default.
    os.environ.setdefault("PORTAL_DEVELOPMENT", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
