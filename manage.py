#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if sys.argv[1:2] == ["runserver"]:
        # The development server serves requests: the web database timeouts apply (see
        # WEB_PROCESS in portal/settings.py); other commands run without them.
        os.environ.setdefault("PORTAL_PROCESS", "web")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
