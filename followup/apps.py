from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self):
        from followup import extensions
        from pledges import extensions as pledge_extensions
        from pledges.feeds import register_entry_source

        pledge_extensions.register_pledge_section(extensions.pledge_section)
        pledge_extensions.register_archive_outcome(extensions.archive_outcome)
        register_entry_source(extensions.feed_entries)
