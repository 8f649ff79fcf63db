"""Helpers for idempotent demo data: a second run changes nothing (no new
rows, no new history entries, no re-hashed passwords)."""

from django.db import models


def upsert(model: type[models.Model], lookup: dict, defaults: dict | None = None):
    """Get the row matching `lookup`, creating it with `defaults` if missing;
    update only the fields whose values differ. Returns (obj, changed)."""
    defaults = defaults or {}
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        return model._default_manager.create(**lookup, **defaults), True
    changed = [name for name, value in defaults.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, defaults[name])
    if changed:
        obj.save(update_fields=changed)
    return obj, bool(changed)


def set_m2m(manager, objects) -> None:
    """Set a many-to-many relation only if it differs (no history noise)."""
    wanted = {obj.pk for obj in objects}
    if set(manager.values_list("pk", flat=True)) != wanted:
        manager.set(objects)
