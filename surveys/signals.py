"""A saved or deleted survey bumps its municipality's content version, so
cached pages and each process' copy of the survey (surveys/views.py) give
way at once, whoever made the change: the admin, a service or a shell."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal import page_cache
from surveys.models import Survey


@receiver(post_save, sender=Survey)
@receiver(post_delete, sender=Survey)
def survey_changed(sender, instance: Survey, **kwargs) -> None:
    page_cache.invalidate(instance.municipality_id)
