from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import ForeignKey
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal import scope, two_factor
from portal.audit import Action, AuditedAdminMixin, AuditEvent
from portal.models import AccessibilityFeedback, District, Membership, Municipality, Organisation


class PortalHistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin without its `select_related()`-with-no-fields call,
    which Django 6.1 deprecates (models without foreign keys, e.g.
    Municipality, would warn on their history page)."""

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        qs = history_manager.filter(**{pk_name: object_id}).select_related("history_user")
        related = [
            f.name for f in history_manager.model.tracked_fields if isinstance(f, ForeignKey)
        ]
        return qs.select_related(*related) if related else qs


class ScopedRelatedFilter(admin.RelatedOnlyFieldListFilter):
    """A list filter on a relation whose choices are only the objects the
    rows the official may see point at: the admin's get_queryset (scoped by
    portal.scope) builds them, so no other municipality's names (an
    unpublished survey, a kommun) appear among the choices. Every relation
    filter of the project's admins is one of these."""


class ScopedAdmin(AuditedAdminMixin, PortalHistoryAdmin):
    """Admin whose every list, form and action is limited by portal.scope.

    `scope_path` leads from the model to its municipality. Officials need no
    Django model permissions: their memberships decide.
    """

    scope_path: str = "municipality"
    # Fields pointing at a municipality (directly) that must be limited to
    # the user's municipalities in forms.
    municipality_fields: tuple[str, ...] = ("municipality",)

    def get_queryset(self, request):
        return scope.filter_queryset(super().get_queryset(request), request.user, self.scope_path)

    def in_scope(self, request, obj) -> bool:
        return scope.can_edit(request.user, scope.municipality_id_of(obj, self.scope_path))

    def has_module_permission(self, request):
        return scope.is_official(request.user)

    def has_view_permission(self, request, obj=None):
        return scope.is_official(request.user) and (obj is None or self.in_scope(request, obj))

    def has_add_permission(self, request):
        return scope.is_official(request.user)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.municipality_fields:
            kwargs["queryset"] = scope.municipalities(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SiteAdminOnly(AuditedAdminMixin, PortalHistoryAdmin):
    """Officials may look (e.g. for autocomplete); only superusers change."""

    def has_module_permission(self, request):
        return scope.is_official(request.user)

    def has_view_permission(self, request, obj=None):
        # An object outside the official's municipalities is not theirs to
        # see, even where a view (e.g. simple_history's) fetches it itself.
        if not scope.is_official(request.user):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return scope.is_superuser(request.user)

    def has_change_permission(self, request, obj=None):
        return scope.is_superuser(request.user)

    def has_delete_permission(self, request, obj=None):
        return scope.is_superuser(request.user)


class DistrictInline(admin.TabularInline):
    model = District
    extra = 0
    fields = ["position", "name", "kind", "population"]


@admin.register(Municipality)
class MunicipalityAdmin(SiteAdminOnly):
    list_display = [
        "name",
        "code",
        "slug",
        "population",
        "invitation_retention_days",
        "free_text_retention_days",
    ]
    search_fields = ["name", "short_name", "code"]
    prepopulated_fields = {"slug": ["short_name"]}
    fieldsets = [
        (None, {"fields": ["name", "short_name", "slug", "code", "population"]}),
        (
            _("Retention of survey data"),
            {
                "fields": [
                    "invitation_retention_days",
                    "free_text_retention_days",
                    "retention_decision",
                ],
                "description": _(
                    "Survey answers are public records. Invitation codes are deleted after "
                    "fieldwork; free-text answers only under a retention decision. Results "
                    "and answers to choice questions are never deleted."
                ),
            },
        ),
    ]
    inlines = [DistrictInline]

    def get_queryset(self, request):
        return scope.filter_queryset(super().get_queryset(request), request.user, "")


@admin.register(Organisation)
class OrganisationAdmin(SiteAdminOnly):
    list_display = ["name", "kind", "served"]
    list_filter = ["kind"]
    search_fields = ["name"]
    filter_horizontal = ["municipalities"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("municipalities")
        ids = scope.municipality_ids(request.user)
        if ids is None:
            return qs
        return qs.filter(municipalities__in=ids).distinct()

    @admin.display(description=_("serves"))
    def served(self, obj):
        return ", ".join(m.short_name for m in obj.municipalities.all())


@admin.register(Membership)
class MembershipAdmin(SiteAdminOnly):
    list_display = ["user", "organisation", "role", "title"]
    list_filter = ["role", "organisation__kind"]
    list_select_related = ["user", "organisation"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]

    def has_module_permission(self, request):
        return scope.is_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return scope.is_superuser(request.user)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organisation"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(AuditedAdminMixin, UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "first_name", "last_name", "email", "is_active", "is_superuser"]
    actions = ["create_enrolment_codes"]

    @admin.action(description=_("Create enrolment codes for two-factor login"))
    def create_enrolment_codes(self, request, queryset):
        """Each selected user gets a new one-time code, shown on this page
        only (stored hashed): they need it to set up their first
        authenticator app."""
        codes = [
            (user, two_factor.enrolment_code_create(user=user, created_by=request.user))
            for user in queryset.order_by("username")
        ]
        return TemplateResponse(
            request,
            "admin/portal/enrolment_codes.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Enrolment codes"),
                "codes": codes,
                "hours": int(two_factor.ENROLMENT_CODE_LIFETIME.total_seconds() // 3600),
                "opts": self.opts,
            },
        )

    def has_module_permission(self, request):
        return scope.is_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return scope.is_superuser(request.user)

    def has_add_permission(self, request):
        return scope.is_superuser(request.user)

    def has_change_permission(self, request, obj=None):
        return scope.is_superuser(request.user)

    def has_delete_permission(self, request, obj=None):
        return scope.is_superuser(request.user)


@admin.register(AccessibilityFeedback)
class AccessibilityFeedbackAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["created", "kind", "page", "short_message", "handled"]
    list_filter = ["handled", "kind"]
    list_editable = ["handled"]
    readonly_fields = ["created", "kind", "page", "message", "contact"]
    search_fields = ["message", "page"]

    @admin.display(description=_("message"))
    def short_message(self, obj):
        return obj.message[:80]

    def has_module_permission(self, request):
        return scope.may_read_feedback(request.user)

    def has_view_permission(self, request, obj=None):
        return scope.may_read_feedback(request.user)

    def has_change_permission(self, request, obj=None):
        return scope.may_read_feedback(request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return scope.is_superuser(request.user)


class SuperuserOnlyMixin:
    """Only site administrators see it; officials get a 403."""

    def has_module_permission(self, request):
        return scope.is_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return scope.is_superuser(request.user)


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return Action.choices

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(AuditedAdminMixin, SuperuserOnlyMixin, admin.ModelAdmin):
    """The audit log: read-only, for site administrators only."""

    list_display = [
        "created",
        "actor_username",
        "action_display",
        "object_type",
        "object_repr",
        "municipality",
    ]
    list_filter = [ActionFilter, "object_type", ("municipality", ScopedRelatedFilter), "created"]
    list_select_related = ["municipality"]
    search_fields = ["actor_username", "object_repr", "object_id", "action"]
    date_hierarchy = "created"
    fields = [
        "created",
        "actor",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "municipality",
        "details",
    ]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("action"), ordering="action")
    def action_display(self, obj):
        return obj.action_label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _reregister_audited(model, admin_class):
    """Third-party admins (django-otp, django-axes) on our site, with every
    change they make mirrored into the audit log and limited to site
    administrators."""
    audited = type(admin_class.__name__, (AuditedAdminMixin, SuperuserOnlyMixin, admin_class), {})
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, audited)


def _audit_third_party_admins():
    from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.admin import GroupAdmin
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model, admin_class in [
        (Group, GroupAdmin),
        (TOTPDevice, TOTPDeviceAdmin),
        (StaticDevice, StaticDeviceAdmin),
        (AccessAttempt, AccessAttemptAdmin),
        (AccessLog, AccessLogAdmin),
        (AccessFailureLog, AccessFailureLogAdmin),
    ]:
        _reregister_audited(model, admin_class)


_audit_third_party_admins()
