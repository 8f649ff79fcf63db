"""Forms and formsets of the pledges admin."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledges.admin.common import CONTENT_FIELDS
from pledges.models import Pledge
from portal.models import Organisation


class CommitmentFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and (form.instance.pk or form.has_changed())
        ]
        if not 1 <= len(kept) <= 3:
            raise ValidationError(_("A citizen pledge has one to three commitments."))


class PledgeForm(forms.ModelForm):
    class Meta:
        model = Pledge
        fields = list(CONTENT_FIELDS)
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class PublishForm(forms.Form):
    when = forms.ChoiceField(
        label=gettext_lazy("When"),
        choices=[
            ("now", gettext_lazy("Publish now")),
            ("later", gettext_lazy("Schedule for a later time")),
        ],
        widget=forms.RadioSelect,
        initial="now",
    )
    publish_at = forms.DateTimeField(
        label=gettext_lazy("Publishing time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=gettext_lazy("Swedish time. Only when scheduling."),
    )

    def clean(self):
        data = super().clean()
        if data.get("when") == "later":
            if not data.get("publish_at"):
                self.add_error("publish_at", _("Give the time to publish."))
            elif data["publish_at"] <= timezone.now():
                self.add_error("publish_at", _("Choose a time in the future, or publish now."))
        else:
            data["publish_at"] = None
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to residents)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class ActionFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        municipality = self.instance.pledge.municipality
        serving = set(
            Organisation.objects.filter(municipalities=municipality).values_list("pk", flat=True)
        )
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            for name in ("responsible", "partners"):
                outside = [o for o in form.cleaned_data.get(name, []) if o.pk not in serving]
                if outside:
                    form.add_error(
                        name,
                        _("%(orgs)s does not serve %(municipality)s.")
                        % {"orgs": ", ".join(map(str, outside)), "municipality": municipality},
                    )
