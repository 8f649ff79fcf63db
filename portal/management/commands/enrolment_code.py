"""Print a one-time enrolment code for two-factor login: for the first site
administrator, who has nobody to create one in the admin."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal import two_factor


class Command(BaseCommand):
    help = "Create a one-time code with which USERNAME can set up their authenticator app."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        code = two_factor.enrolment_code_create(user=user, created_by=None)
        hours = int(two_factor.ENROLMENT_CODE_LIFETIME.total_seconds() // 3600)
        self.stdout.write(f"{code}\n(works once, within {hours} hours)")
