"""Two-factor login for officials: enrolment with a QR code, verification
with a code from an authenticator app (TOTP) or a one-time recovery code,
and removal / new recovery codes. The pages live under /admin/2fa/ (see
PortalAdminSite.get_urls) and use the public site frame, so they have no
inline script or style.

Every change of devices is written to the audit log.
"""

from __future__ import annotations

import base64
import io
import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import scope
from portal.audit import Action, log_event
from portal.models import EnrolmentCode

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Autentiseringsapp"
RECOVERY_DEVICE_NAME = "Reservkoder"

ENROLMENT_CODE_LIFETIME = timedelta(hours=72)
# Letters and digits that cannot be mistaken for one another when read aloud
# or copied from a letter; 12 of them are about 60 bits.
ENROLMENT_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ENROLMENT_CODE_LENGTH = 12
# The unconfirmed device whose QR code this session was shown, after its
# enrolment code was accepted.
ENROLMENT_SESSION_KEY = "portal_enrolment_device"

# Audit actions of enrolment codes (audit.Action lists the portal's core ones).
ENROLMENT_CODE_CREATED = "2fa_enrolment_code_created"
ENROLMENT_CODE_ACCEPTED = "2fa_enrolment_code_accepted"
ENROLMENT_CODE_REFUSED = "2fa_enrolment_code_refused"


def is_required() -> bool:
    return settings.PORTAL_REQUIRE_2FA


def is_verified(user) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def needs_second_factor(request) -> bool:
    """An official who has given their password but not yet a code."""
    return is_required() and scope.is_official(request.user) and not is_verified(request.user)


def next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, {request.get_host()}, request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def second_factor_url(request, target: str | None = None) -> str:
    """Where an unverified official goes: verification, or enrolment when
    they have no device yet."""
    name = "admin:2fa_verify" if confirmed_totp(request.user) else "admin:2fa_enrol"
    return f"{reverse(name)}?{urlencode({'next': target or next_url(request)})}"


def official_required(view):
    """Logged in with a password and a member of an organisation."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not scope.is_official(request.user):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        error_messages={"required": gettext_lazy("Enter the code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, help_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        if help_text:
            self.fields["code"].help_text = help_text
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if not code.isalnum():
            raise forms.ValidationError(_("The code has only digits and letters."))
        return code


class EnrolmentCodeForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].label = gettext_lazy("Enrolment code")
        self.fields["code"].widget.attrs["autocomplete"] = "off"


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def enrolment_code_create(*, user, created_by) -> str:
    """A new enrolment code for `user`, returned once in plain text (shown to
    the administrator, never stored); earlier unused codes stop working."""
    code = "".join(secrets.choice(ENROLMENT_CODE_ALPHABET) for _ in range(ENROLMENT_CODE_LENGTH))
    with transaction.atomic():
        EnrolmentCode.objects.filter(user=user, used__isnull=True).delete()
        record = EnrolmentCode.objects.create(
            user=user,
            code_hash=make_password(code),
            created_by=created_by,
            expires=timezone.now() + ENROLMENT_CODE_LIFETIME,
        )
        log_event(
            actor=created_by,
            action=ENROLMENT_CODE_CREATED,
            obj=record,
            user=user.get_username(),
            expires=record.expires.isoformat(),
        )
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def enrolment_code_redeem(*, user, code: str) -> bool:
    """Use up `user`'s valid enrolment code if `code` is it. Locked, so that a
    code sent twice at once is accepted once."""
    code = _normalised(code)
    with transaction.atomic():
        candidates = EnrolmentCode.objects.select_for_update().filter(
            user=user, used__isnull=True, expires__gt=timezone.now()
        )
        for record in candidates:
            if check_password(code, record.code_hash):
                record.used = timezone.now()
                record.save(update_fields=["used"])
                log_event(actor=user, action=ENROLMENT_CODE_ACCEPTED, obj=record)
                return True
    log_event(actor=user, action=ENROLMENT_CODE_REFUSED)
    return False


def _qr_data_uri(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _grouped_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _mark_verified(request, device) -> None:
    # A new session key for the stronger login, as after a password login.
    request.session.cycle_key()
    django_otp.login(request, device)


@official_required
@require_http_methods(["GET", "POST"])
def verify(request):
    user = request.user
    if confirmed_totp(user) is None:
        return redirect(second_factor_url(request))
    if is_verified(user):
        return redirect(next_url(request))
    form = CodeForm(
        request.POST or None,
        help_text=_("The six digits in your authenticator app, or one of your recovery codes."),
    )
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(user, form.cleaned_data["code"])
        if device is not None:
            _mark_verified(request, device)
            if isinstance(device, StaticDevice):
                remaining = device.token_set.count()
                log_event(actor=user, action=Action.RECOVERY_CODE_USED, remaining=remaining)
                messages.warning(
                    request,
                    _(
                        "You logged in with a recovery code. %(count)d codes are left; "
                        "create new ones under Two-factor login."
                    )
                    % {"count": remaining},
                )
            return redirect(next_url(request))
        log_event(actor=user, action=Action.OTP_FAILED)
        form.add_error(
            "code",
            _(
                "The code is not correct. Check that the clock on your phone is right, "
                "and use a new code."
            ),
        )
    return render(
        request,
        "portal/2fa/verify.html",
        {"form": form, "next": next_url(request)},
        status=400 if form.errors else 200,
    )


def _session_device(request) -> TOTPDevice | None:
    """The unconfirmed device set up in this session after its enrolment
    code was accepted; any other unconfirmed device is not shown or used."""
    device_id = request.session.get(ENROLMENT_SESSION_KEY)
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(pk=device_id, user=request.user, confirmed=False).first()


def _enrolment_code_step(request):
    """Before any QR code: the one-time code from the site administrator."""
    user = request.user
    form = EnrolmentCodeForm(
        request.POST or None,
        help_text=_(
            "The one-time code the site administrator gave you. It works once and expires "
            "72 hours after it was created."
        ),
    )
    if request.method == "POST" and form.is_valid():
        if enrolment_code_redeem(user=user, code=form.cleaned_data["code"]):
            with transaction.atomic():
                # A fresh secret: one shown to anybody before cannot be confirmed.
                TOTPDevice.objects.filter(user=user, confirmed=False).delete()
                device = TOTPDevice.objects.create(
                    user=user, name=TOTP_DEVICE_NAME, confirmed=False
                )
            request.session[ENROLMENT_SESSION_KEY] = device.pk
            return redirect(
                f"{reverse('admin:2fa_enrol')}?{urlencode({'next': next_url(request)})}"
            )
        form.add_error(
            "code",
            _(
                "The enrolment code is not correct, has been used or has expired. Ask the site "
                "administrator for a new one."
            ),
        )
    return render(
        request,
        "portal/2fa/enrolment_code.html",
        {"form": form, "next": next_url(request), "required": is_required()},
        status=400 if form.errors else 200,
    )


@official_required
@require_http_methods(["GET", "POST"])
def enrol(request):
    user = request.user
    if confirmed_totp(user) is not None:
        if is_verified(user) or not is_required():
            return redirect("admin:2fa_manage")
        return redirect(second_factor_url(request))
    device = _session_device(request)
    if device is None:
        # A password alone does not enrol a device.
        return _enrolment_code_step(request)
    form = CodeForm(
        request.POST or None,
        help_text=_("The six digits the app shows for this account."),
    )
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = _new_recovery_codes(user)
                log_event(actor=user, action=Action.OTP_ENROLLED, obj=device)
            _mark_verified(request, device)
            request.session.pop(ENROLMENT_SESSION_KEY, None)
            return render(
                request,
                "portal/2fa/recovery_codes.html",
                {"codes": codes, "next": next_url(request)},
            )
        form.add_error(
            "code",
            _(
                "The code is not correct. Check that you scanned this page's QR code, that the "
                "clock on your phone is right, and use a new code."
            ),
        )
    return render(
        request,
        "portal/2fa/enrol.html",
        {
            "form": form,
            "qr_code": _qr_data_uri(device.config_url),
            "secret": _grouped_secret(device),
            "next": next_url(request),
            "required": is_required(),
        },
        status=400 if form.errors else 200,
    )


@official_required
@require_http_methods(["GET", "POST"])
def manage(request):
    user = request.user
    device = confirmed_totp(user)
    if device is not None and not is_verified(user):
        # Changing the second factor needs the second factor.
        return redirect(second_factor_url(request, reverse("admin:2fa_manage")))
    if request.method == "POST" and device is not None:
        if request.POST.get("action") == "remove":
            with transaction.atomic():
                log_event(actor=user, action=Action.OTP_REMOVED, obj=device)
                TOTPDevice.objects.filter(user=user).delete()
                StaticDevice.objects.filter(user=user).delete()
                # Both factors were just given: the new phone needs no
                # enrolment code from the administrator.
                fresh = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
            request.session[ENROLMENT_SESSION_KEY] = fresh.pk
            messages.success(request, _("Two-factor login has been removed."))
            return redirect("admin:2fa_enrol")
        if request.POST.get("action") == "recovery_codes":
            with transaction.atomic():
                codes = _new_recovery_codes(user)
                log_event(actor=user, action=Action.RECOVERY_CODES_RENEWED, obj=device)
            return render(
                request,
                "portal/2fa/recovery_codes.html",
                {"codes": codes, "next": reverse("admin:index")},
            )
        messages.error(request, _("Choose what you want to do."))
    remaining = StaticToken.objects.filter(device__user=user).count() if device is not None else 0
    return render(
        request,
        "portal/2fa/manage.html",
        {"device": device, "remaining": remaining, "required": is_required()},
    )
