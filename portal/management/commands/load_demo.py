from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from portal import content_version


class Command(BaseCommand):
    help = "Load (or refresh) the demo data: Östhammar, Tierp, Älvkarleby, organisations, users, pledges, surveys."

    def handle(self, *args, **options):
        # Each app may have a `demo` module with `load(*, stdout, context)`; they
        # run in INSTALLED_APPS order (portal, surveys, pledges, followup), and
        # each returns what later ones need.
        context: dict = {}
        with transaction.atomic():
            for config in apps.get_app_configs():
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.demo":
                        raise
                    continue
                result = module.load(stdout=self.stdout, context=context)
                if result:
                    context.update(result)
            # Written without an official, so not in the audit log: the
            # whole site's cached pages give way after the commit.
            content_version.changed()
        self.stdout.write(
            self.style.SUCCESS("Demodata laddad (genererad exempeldata, inte verkliga svar).")
        )
