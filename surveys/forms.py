"""The resident's form, built from the survey's questions.

Field names follow the stable question keys (`q_<key>`); choice values are
choice ids, validated against the question's own choices, so a choice of
another question or an unknown id is an ordinary form error. Messages are
given in the language the resident answers in (sv, en or fi).
"""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.utils.html import escape, format_html

from surveys import kinds
from surveys.models import Question, Survey
from surveys.services import Submission

# Texts of the survey form itself, in the languages a survey can be offered
# in (the site's interface speaks sv/en; a survey also speaks Finnish).
FORM_TEXTS = {
    "sv": {
        "privacy_title": "Så skyddas din anonymitet",
        "privacy": "Enkäten är anonym. Vi sparar bara dina svar, vilket språk du svarade på och vilket datum – inte din IP-adress, inte vilken webbläsare du använder, ingen cookie och inte klockslaget. Senast fem minuter efter att du svarat skrivs svaren om i slumpvis ordning, så att inte ens den som kan läsa databasen kan koppla ditt svar till en inbjudningskod eller se när det kom in. Svar redovisas bara sammanräknade, och grupper med färre än 5 svar visas aldrig. Skriv inga namn på dig själv eller andra i fritextsvaren.",
        "send": "Skicka svaren",
        "errors_title": "Dina svar kunde inte skickas. Rätta följande:",
        "switch_title": "Byt språk – dina svar finns kvar",
        "switch_intro": "Frågorna visas på det språk du väljer. Det du redan har fyllt i följer med.",
        "required_note": "Frågor markerade med * måste besvaras. Alla andra frågor kan du hoppa över.",
        "required": "Svara på frågan.",
        "invalid_choice": "Välj ett av svarsalternativen.",
        "too_long": "Svaret är för långt (högst %(limit)d tecken).",
        "bad_chars": "Svaret innehåller tecken som inte är tillåtna.",
        "other_text": "Skriv vad du menar med ”%(choice)s”, eller avmarkera alternativet.",
        "other_label": "%(choice)s (skriv här)",
        "place_district": "Område",
        "place_text": "Beskriv platsen (skriv inga namn på personer)",
        "place_needs_district": "Välj vilket område platsen ligger i.",
        "not_whole_number": "Svara med ett heltal, t.ex. 3.",
        "out_of_range": "Svara med ett tal från %(min)d till %(max)d.",
        "code": "Kod från inbjudan",
        "code_help": "Koden står i brevet du fått, t.ex. ABCDE-FGHJK.",
        "code_unknown": "Koden är okänd eller har redan använts. Kontrollera att du skrivit den rätt.",
        "section": "Del %(n)d av %(total)d: %(title)s",
        "honeypot": "Lämna det här fältet tomt",
    },
    "en": {
        "privacy_title": "How your anonymity is protected",
        "privacy": "The survey is anonymous. We store only your answers, the language you answered in and the date – not your IP address, not which browser you use, no cookie and not the time of day. At most five minutes after you answer, the answers are rewritten in random order, so that not even someone who can read the database can link your answer to an invitation code or tell when it arrived. Answers are only reported added together, and groups with fewer than 5 answers are never shown. Please do not write names of yourself or others in the free-text answers.",
        "send": "Send your answers",
        "errors_title": "Your answers could not be sent. Please correct the following:",
        "switch_title": "Change language – your answers are kept",
        "switch_intro": "The questions are shown in the language you choose. What you have already filled in is kept.",
        "required_note": "Questions marked with * must be answered. You may skip all others.",
        "required": "Please answer the question.",
        "invalid_choice": "Choose one of the answers.",
        "too_long": "The answer is too long (at most %(limit)d characters).",
        "bad_chars": "The answer contains characters that are not allowed.",
        "other_text": "Write what you mean by “%(choice)s”, or untick it.",
        "other_label": "%(choice)s (write here)",
        "place_district": "Area",
        "place_text": "Describe the place (do not write names of people)",
        "place_needs_district": "Choose the area the place is in.",
        "not_whole_number": "Answer with a whole number, e.g. 3.",
        "out_of_range": "Answer with a number from %(min)d to %(max)d.",
        "code": "Code from your invitation",
        "code_help": "The code is in the letter you received, e.g. ABCDE-FGHJK.",
        "code_unknown": "The code is unknown or has already been used. Check that you typed it correctly.",
        "section": "Part %(n)d of %(total)d: %(title)s",
        "honeypot": "Leave this field empty",
    },
    "fi": {
        "privacy_title": "Näin nimettömyytesi suojataan",
        "privacy": "Kysely on nimetön. Tallennamme vain vastauksesi, vastauskielen ja päivämäärän – emme IP-osoitettasi, selaintasi, evästettä emmekä kellonaikaa. Viimeistään viiden minuutin kuluttua vastauksesi kirjoitetaan uudelleen satunnaiseen järjestykseen, jotta edes tietokantaa lukeva ei voi yhdistää vastaustasi kutsukoodiin tai nähdä, milloin se saapui. Vastaukset raportoidaan vain yhteenlaskettuina, eikä alle viiden vastauksen ryhmiä näytetä koskaan. Älä kirjoita omaa tai muiden nimiä avoimiin vastauksiin.",
        "send": "Lähetä vastaukset",
        "errors_title": "Vastauksiasi ei voitu lähettää. Korjaa seuraavat kohdat:",
        "switch_title": "Vaihda kieltä – vastauksesi säilyvät",
        "switch_intro": "Kysymykset näytetään valitsemallasi kielellä. Jo täyttämäsi vastaukset säilyvät.",
        "required_note": "Tähdellä (*) merkittyihin kysymyksiin on vastattava. Muut voit ohittaa.",
        "required": "Vastaa kysymykseen.",
        "invalid_choice": "Valitse yksi vastausvaihtoehdoista.",
        "too_long": "Vastaus on liian pitkä (enintään %(limit)d merkkiä).",
        "bad_chars": "Vastauksessa on merkkejä, joita ei voi käyttää.",
        "other_text": "Kirjoita, mitä tarkoitat vaihtoehdolla ”%(choice)s”, tai poista valinta.",
        "other_label": "%(choice)s (kirjoita tähän)",
        "place_district": "Alue",
        "place_text": "Kuvaile paikka (älä kirjoita ihmisten nimiä)",
        "place_needs_district": "Valitse alue, jolla paikka sijaitsee.",
        "not_whole_number": "Vastaa kokonaisluvulla, esim. 3.",
        "out_of_range": "Vastaa luvulla väliltä %(min)d–%(max)d.",
        "code": "Kutsukirjeen koodi",
        "code_help": "Koodi on saamassasi kirjeessä, esim. ABCDE-FGHJK.",
        "code_unknown": "Koodia ei tunneta tai se on jo käytetty. Tarkista, että kirjoitit sen oikein.",
        "section": "Osa %(n)d/%(total)d: %(title)s",
        "honeypot": "Jätä tämä kenttä tyhjäksi",
    },
}

CONTROL_FIELDS = {
    "csrfmiddlewaretoken",
    "token",
    "website",
    "code",
    "form_language",
    "language",
    "send",
}


def _clean_text(value: str, texts: dict) -> str:
    value = value.strip()
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value) or any(
        0xD800 <= ord(ch) <= 0xDFFF for ch in value
    ):
        raise forms.ValidationError(texts["bad_chars"])
    return value


def _legend(text: str) -> str:
    # crispy renders a Fieldset legend as a template: escape it, braces too.
    return escape(text).replace("{", "&#123;").replace("}", "&#125;")


class SurveyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    form_language = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args, survey: Survey, questions: list[Question], districts, language: str, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.questions = questions
        self.language = language
        self.texts = FORM_TEXTS.get(language, FORM_TEXTS["sv"])
        self.districts = {str(d.pk): d for d in districts}
        t = self.texts
        self.fields["website"] = forms.CharField(
            label=t["honeypot"],
            required=False,
            widget=forms.TextInput(
                attrs={"autocomplete": "off", "tabindex": "-1", "class": "visually-hidden-field"}
            ),
        )
        if survey.mode == Survey.Mode.INVITATION:
            self.fields["code"] = forms.CharField(
                label=t["code"],
                help_text=t["code_help"],
                max_length=40,
                error_messages={"required": t["required"], "max_length": t["code_unknown"]},
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
        # Each question's fields, as its kind gives them (surveys/kinds.py).
        self.question_fields: dict[int, list[str]] = {}
        for q in questions:
            fields = kinds.of(q).form_fields(q, self)
            self.fields.update(fields)
            self.question_fields[q.pk] = list(fields)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = self._layout()

    def known_field_names(self) -> set[str]:
        return set(self.fields) | CONTROL_FIELDS

    def _layout(self) -> Layout:
        sections: list[tuple] = []
        for q in self.questions:
            if not sections or sections[-1][0].pk != q.section_id:
                sections.append((q.section, []))
            sections[-1][1].append(q)
        items = ["token", "form_language", "website"]
        if "code" in self.fields:
            items.append("code")
        total = len(sections)
        for n, (section, questions) in enumerate(sections, start=1):
            heading = self.texts["section"] % {
                "n": n,
                "total": total,
                "title": section.text(self.language),
            }
            parts: list = [
                HTML(format_html('<h2 class="h4">{}</h2>', heading).replace("{", "&#123;"))
            ]
            current_group = None
            for q in questions:
                fields = self.question_fields[q.pk]
                if q.group_id:
                    if current_group is None or current_group.legend_key != q.group_id:
                        current_group = Fieldset(
                            _legend(q.group.text(self.language)), css_class="survey-group"
                        )
                        current_group.legend_key = q.group_id
                        parts.append(current_group)
                    current_group.fields.extend(fields)
                else:
                    current_group = None
                    parts.append(Div(*fields, css_class="survey-question"))
            items.append(
                Div(
                    *parts,
                    css_class="survey-section",
                    css_id=f"del-{n}",
                )
            )
        return Layout(*items)

    # --- validation ---------------------------------------------------

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(self.texts["invalid_choice"], code="honeypot")
        return ""

    def clean(self):
        cleaned = super().clean()
        t = self.texts
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and isinstance(cleaned.get(name), str):
                try:
                    cleaned[name] = _clean_text(cleaned[name], t)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        for q in self.questions:
            kinds.of(q).clean(q, self, cleaned)
        return cleaned

    def submission(self) -> Submission:
        """The validated answers, ready for services.response_submit."""
        data = self.cleaned_data
        answers = [a for q in self.questions for a in kinds.of(q).answers(q, data)]
        return Submission(language=self.language, answers=answers, code=data.get("code", ""))


def initial_from_data(form: SurveyForm, data) -> dict:
    """What the resident already filled in, as initial values: used when
    they switch language, so nothing is lost and no errors are shown."""
    initial = {}
    for name, field in form.fields.items():
        if name in ("token", "website"):
            continue
        value = field.widget.value_from_datadict(data, {}, name)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = [v[:20] for v in value[:50] if isinstance(v, str)]
        elif isinstance(value, str):
            value = value[: getattr(field, "max_length", None) or 2000]
        initial[name] = value
    return initial
