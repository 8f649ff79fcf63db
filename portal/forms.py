from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import AccessibilityFeedback


class HoneypotMixin(forms.Form):
    """A field people never see; bots that fill it in are turned away."""

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("The form could not be sent. Please try again."))
        return ""


class FeedbackForm(HoneypotMixin, forms.ModelForm):
    class Meta:
        model = AccessibilityFeedback
        fields = ["kind", "page", "message", "contact"]
        labels = {
            "kind": _("What is it about?"),
            "page": _("Which page? (optional)"),
            "message": _("Your message"),
            "contact": _("E-mail or phone, if you want an answer (optional)"),
        }
        widgets = {
            "kind": forms.RadioSelect,
            "message": forms.Textarea(attrs={"rows": 5}),
        }
        error_messages = {
            "message": {
                "required": _("Write a message, so that we know what the problem is."),
                "max_length": _("The message is too long (at most %(limit_value)d characters)."),
            },
            "kind": {"required": _("Choose what your message is about.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.wrapper_class = "mb-3"
        self.fields["website"].widget.attrs["class"] = "visually-hidden-field"

    def clean_message(self):
        message = self.cleaned_data["message"].strip()
        if len(message) < 5:
            raise forms.ValidationError(
                _("The message is too short. Describe the problem in a few words.")
            )
        if "\x00" in message:
            raise forms.ValidationError(_("The message contains characters that are not allowed."))
        return message
