"""A saved or deleted survey bumps its municipality's content version, so
cached pages and each process' copy of the survey (surveys/views.py) give
way at once, whoever made the change: the admin, a service or a shell."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal import page_cache
from surveys.models import Survey


@receiver(post_save, sender=Survey)
@receiver(post_delete, sender=Survey)
def survey_changed(sender, instance: Survey, **kwargs) -> None:
    municipality_id = instance.municipality_id
    # Now, and again after commit: a request reading the old row in
    # between would otherwise keep its copy under the new version.
    page_cache.invalidate(municipality_id)
    transaction.on_commit(lambda: page_cache.invalidate(municipality_id))
