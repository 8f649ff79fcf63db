"""URL-walk targets and fillers for the portal's own models and URLs, and
for the third-party models the portal registers in the admin (users,
groups, two-factor devices, lockout records)."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit import AuditEvent, log_event
from portal.models import (
    AccessibilityFeedback,
    District,
    Membership,
    Municipality,
    Organisation,
)
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.portal.url_walk import Target, filler, secret, target

User = get_user_model()


@target(Municipality)
def _municipality(ctx):
    return Target(ctx.municipality, identity=[ctx.municipality.name], public=True)


@target(District)
def _district(ctx):
    district = District.objects.create(municipality=ctx.municipality, name="Hargshamn-walk")
    return Target(district, identity=[district.name], public=True)


@target(Organisation)
def _organisation(ctx):
    org = OrganisationFactory(
        name="Östhammarshem-walk",
        kind=Organisation.Kind.PARTNER,
        municipalities=[ctx.municipality],
        website="https://hemlig-walk.example.se/",
    )
    return Target(org, identity=[org.name])


@target(User)
def _user(ctx):
    user = UserFactory(username="osthammar-walk", email=secret("epost").lower() + "@example.se")
    MembershipFactory(user=user, organisation=ctx.organisations["kommun"])
    return Target(user, identity=[user.email], secrets=[user.email])


@target(Membership)
def _membership(ctx):
    user = ctx.get(User).obj
    membership = Membership.objects.get(user=user)
    membership.title = secret("titel")
    membership.save()
    return Target(membership, identity=[membership.title], secrets=[membership.title])


@target(Group)
def _group(ctx):
    group = Group.objects.create(name=secret("grupp"))
    return Target(group, identity=[group.name], secrets=[group.name])


@target(AccessibilityFeedback)
def _feedback(ctx):
    feedback = AccessibilityFeedback.objects.create(message=secret("synpunkt"), page="/osthammar/")
    # Every official handles accessibility feedback: hidden from the public only.
    return Target(feedback, identity=[], secrets=[feedback.message], shared_with_officials=True)


@target(AuditEvent)
def _audit_event(ctx):
    org = ctx.get(Organisation).obj
    event = log_event(actor=ctx.get(User).obj, action="admin_change", obj=org, note="walk")
    event.object_repr = secret("logg")
    event.save()
    return Target(event, identity=[event.object_repr], secrets=[event.object_repr])


@target(TOTPDevice)
def _totp(ctx):
    device = TOTPDevice.objects.create(user=ctx.get(User).obj, name=secret("app"), confirmed=True)
    return Target(device, identity=[device.name], secrets=[device.name, device.key])


@target(StaticDevice)
def _static(ctx):
    device = StaticDevice.objects.create(
        user=ctx.get(User).obj, name=secret("reserv"), confirmed=True
    )
    StaticToken.objects.create(device=device, token="walk2345")
    return Target(device, identity=[device.name], secrets=[device.name, "walk2345"])


def _axes_fields(username):
    return {
        "user_agent": "walk",
        "ip_address": "192.0.2.55",
        "username": username,
        "http_accept": "text/html",
        "path_info": "/admin/login/",
        "attempt_time": timezone.now(),
    }


@target(AccessAttempt)
def _attempt(ctx):
    name = secret("forsok")
    attempt = AccessAttempt.objects.create(
        **_axes_fields(name), get_data="", post_data="", failures_since_start=2
    )
    return Target(attempt, identity=[name], secrets=[name])


@target(AccessLog)
def _access_log(ctx):
    name = secret("inloggning")
    return Target(AccessLog.objects.create(**_axes_fields(name)), identity=[name], secrets=[name])


@target(AccessFailureLog)
def _failure_log(ctx):
    name = secret("misslyckad")
    log = AccessFailureLog.objects.create(**_axes_fields(name), locked_out=False)
    return Target(log, identity=[name], secrets=[name])


@filler("municipality")
def _municipality_slug(ctx):
    return [ctx.municipality.slug]


@filler("code", url_name="portal:language")
def _language(ctx):
    return ["en"]


@filler("app_label", url_name="admin:app_list")
def _app_labels(ctx):
    from django.contrib import admin

    return sorted({m._meta.app_label for m in admin.site._registry})


@filler("url")
def _catch_all(ctx):
    # The admin's last pattern catches everything else under /admin/.
    return ["finns-inte/"]


@filler("content_type_id", url_name="admin:view_on_site")
def _content_type(ctx):
    return [str(ContentType.objects.get_for_model(Organisation).pk)]


@filler("object_id", url_name="admin:view_on_site")
def _view_on_site_object(ctx):
    return [str(ctx.get(Organisation).obj.pk)]
