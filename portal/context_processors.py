from django.conf import settings


def site(request):
    """What every page's frame needs; no database queries here."""
    return {
        "SITE_NAME": "Medborgarlöfte",
        "PORTAL_OPERATOR": settings.PORTAL_OPERATOR,
        "PORTAL_CONTACT_EMAIL": settings.PORTAL_CONTACT_EMAIL,
    }
