from django.core.management.base import BaseCommand

from portal.demo import DEMO_PASSWORD, LOGINS


class Command(BaseCommand):
    help = "Print where the portal runs and the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, **options):
        url = options["url"].rstrip("/")
        lines = [
            "",
            "=" * 72,
            f"  Portalen:          {url}/",
            f"  Administration:    {url}/admin/",
            f"  Lösenord för alla demokonton: {DEMO_PASSWORD}",
            "",
        ]
        lines += [f"    {username:<22} {role}" for username, role in LOGINS]
        lines += [
            "",
            "  Tvåfaktorsinloggning är avstängd för demokontona (PORTAL_REQUIRE_2FA=false).",
            "=" * 72,
            "",
        ]
        self.stdout.write("\n".join(lines))
