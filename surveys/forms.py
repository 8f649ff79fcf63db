"""The resident's form, built from the survey's questions.

Field names follow the stable question keys (`q_<key>`); choice values are
choice ids, validated against the question's own choices, so a choice of
another question or an unknown id is an ordinary form error. Messages are
given in the language the resident answers in (sv, en or fi).
"""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.utils.datastructures import MultiValueDict
from django.utils.html import escape, format_html

from surveys.models import Question, Survey
from surveys.services import AnswerData, Submission

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
        messages = {
            "required": t["required"],
            "invalid_choice": t["invalid_choice"],
            "invalid_list": t["invalid_choice"],
        }
        for q in questions:
            name = f"q_{q.key}"
            label = q.text(language)
            if q.kind == Question.Kind.SINGLE:
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    required=q.required,
                    choices=[(str(c.pk), c.text(language)) for c in q.choices.all()],
                    widget=forms.RadioSelect,
                    error_messages=messages,
                )
            elif q.kind == Question.Kind.MULTIPLE:
                self.fields[name] = forms.MultipleChoiceField(
                    label=label,
                    required=q.required,
                    choices=[(str(c.pk), c.text(language)) for c in q.choices.all()],
                    widget=forms.CheckboxSelectMultiple,
                    error_messages=messages,
                )
                for c in q.choices.all():
                    if c.allows_text:
                        self.fields[f"{name}__{c.key}"] = forms.CharField(
                            label=t["other_label"] % {"choice": c.text(language).rstrip(" ….")},
                            required=False,
                            max_length=q.max_length,
                            error_messages={"max_length": t["too_long"] % {"limit": q.max_length}},
                        )
            elif q.kind == Question.Kind.TEXT:
                self.fields[name] = forms.CharField(
                    label=label,
                    required=q.required,
                    max_length=q.max_length,
                    widget=forms.Textarea(attrs={"rows": 4}),
                    error_messages={
                        "required": t["required"],
                        "max_length": t["too_long"] % {"limit": q.max_length},
                    },
                )
            elif q.kind == Question.Kind.PLACE:
                self.fields[name] = forms.ChoiceField(
                    label=f"{label} – {t['place_district']}",
                    required=q.required,
                    choices=[("", "–"), *[(k, d.name) for k, d in self.districts.items()]],
                    error_messages=messages,
                )
                self.fields[f"{name}__text"] = forms.CharField(
                    label=t["place_text"],
                    required=False,
                    max_length=q.max_length,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    error_messages={"max_length": t["too_long"] % {"limit": q.max_length}},
                )
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
                fields = self._question_fields(q)
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

    def _question_fields(self, q: Question) -> list[str]:
        name = f"q_{q.key}"
        names = [name]
        if q.kind == Question.Kind.MULTIPLE:
            names += [f"{name}__{c.key}" for c in q.choices.all() if c.allows_text]
        elif q.kind == Question.Kind.PLACE:
            names.append(f"{name}__text")
        return names

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
            name = f"q_{q.key}"
            if q.kind == Question.Kind.MULTIPLE:
                # A box sent twice (a crafted request) is one answer.
                if cleaned.get(name):
                    cleaned[name] = list(dict.fromkeys(cleaned[name]))
                chosen = set(cleaned.get(name) or [])
                for c in q.choices.all():
                    other = f"{name}__{c.key}"
                    if c.allows_text and str(c.pk) in chosen and not cleaned.get(other):
                        self.add_error(
                            other, t["other_text"] % {"choice": c.text(self.language).rstrip(" ….")}
                        )
            elif (
                q.kind == Question.Kind.PLACE
                and cleaned.get(f"{name}__text")
                and not cleaned.get(name)
            ):
                self.add_error(name, t["place_needs_district"])
        return cleaned

    def submission(self) -> Submission:
        """The validated answers, ready for services.response_submit."""
        data = self.cleaned_data
        answers: list[AnswerData] = []
        for q in self.questions:
            name = f"q_{q.key}"
            value = data.get(name)
            if q.kind == Question.Kind.SINGLE and value:
                answers.append(AnswerData(q.pk, choice_id=int(value)))
            elif q.kind == Question.Kind.MULTIPLE and value:
                by_id = {str(c.pk): c for c in q.choices.all()}
                for choice_id in value:
                    c = by_id[choice_id]
                    text = data.get(f"{name}__{c.key}") if c.allows_text else None
                    answers.append(AnswerData(q.pk, choice_id=c.pk, text=text or None))
            elif q.kind == Question.Kind.TEXT and value:
                answers.append(AnswerData(q.pk, text=value))
            elif q.kind == Question.Kind.PLACE and value:
                answers.append(
                    AnswerData(q.pk, district_id=int(value), text=data.get(f"{name}__text") or None)
                )
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


# --- the fast path for plainly valid submissions ----------------------------

# What _clean_text refuses: control characters other than tab, newline and
# carriage return (NUL included, which Django's CharField also refuses), and
# lone surrogates.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_SINGLE, _MULTIPLE, _TEXT, _PLACE = "single", "multiple", "text", "place"


def _plain_text(values: list | None, max_length: int | None) -> str | None:
    """A CharField's cleaned value (stripped, "" when absent), or None
    when the form would refuse it or might read it differently: more than
    one value, too long after stripping, forbidden characters."""
    if values is None:
        return ""
    if len(values) != 1 or type(values[0]) is not str:
        return None
    value = values[0].strip()
    if max_length is not None and len(value) > max_length:
        return None
    if _BAD_CHARS.search(value):
        return None
    return value


class SubmissionPlan:
    """A survey structure's form, reduced to what validating a POST needs.

    Built once per cached structure (surveys.views._structure). `submission`
    returns what `SurveyForm(data).submission()` returns after a successful
    `is_valid()`, or None whenever the data is not plainly valid – then the
    caller builds the full form, which gives the resident its messages. It
    must never return a Submission the form would refuse or build
    differently; when in doubt it returns None. An answer that is only a
    choice is built once, with the plan, and shared by every submission
    that picks it (AnswerData is frozen).
    """

    __slots__ = ("_steps", "_usable", "known_names")

    def __init__(self, questions: list[Question], districts):
        names: list[str] = []
        steps: list[tuple] = []
        district_ids = {str(d.pk): d.pk for d in districts}
        for q in questions:
            name = f"q_{q.key}"
            names.append(name)
            if q.kind == Question.Kind.SINGLE:
                ids = {str(c.pk): AnswerData(q.pk, choice_id=c.pk) for c in q.choices.all()}
                steps.append((_SINGLE, q.pk, name, q.required, ids))
            elif q.kind == Question.Kind.MULTIPLE:
                ids = {}
                others = {}
                for c in q.choices.all():
                    if c.allows_text:
                        # "Other, namely": the answer carries the resident's text.
                        other = f"{name}__{c.key}"
                        others[other] = q.max_length
                        names.append(other)
                        ids[str(c.pk)] = (c.pk, other)
                    else:
                        ids[str(c.pk)] = (AnswerData(q.pk, choice_id=c.pk), None)
                steps.append((_MULTIPLE, q.pk, name, q.required, ids, tuple(others.items())))
            elif q.kind == Question.Kind.TEXT:
                steps.append((_TEXT, q.pk, name, q.required, q.max_length))
            elif q.kind == Question.Kind.PLACE:
                text = f"{name}__text"
                names.append(text)
                steps.append((_PLACE, q.pk, name, q.required, district_ids, text, q.max_length))
        self.known_names = frozenset(names) | CONTROL_FIELDS
        self._steps = tuple(steps)
        # Two fields of one name (keys that collide, e.g. a question
        # "x__text" beside a place question "x"): the form keeps one of
        # them; leave such surveys to the form.
        self._usable = len(set(names)) == len(names) and not CONTROL_FIELDS & set(names)

    def submission(self, data, *, language: str, invitation: bool) -> Submission | None:
        if not self._usable or not isinstance(data, MultiValueDict):
            return None
        lists = dict(data.lists())
        if not lists.keys() <= self.known_names:
            return None
        if (
            _plain_text(lists.get("token"), None) is None
            or _plain_text(lists.get("form_language"), None) is None
            or _plain_text(lists.get("website"), None) != ""
        ):
            return None
        code = ""
        if invitation:
            code = _plain_text(lists.get("code"), 40)
            if not code:
                return None
        answers: list[AnswerData] = []
        append = answers.append
        get = lists.get
        for step in self._steps:
            kind = step[0]
            values = get(step[2])
            if kind == _SINGLE:
                # Most questions: one choice. In as few steps as it takes,
                # each outcome as below for a place question's value.
                if values is None:
                    if step[3]:
                        return None
                    continue
                if len(values) != 1:
                    return None
                value = values[0]
                if type(value) is not str:
                    return None
                answer = step[4].get(value)
                if answer is not None:
                    append(answer)
                    continue
                if value or step[3]:  # not a choice of the question, or required
                    return None
                continue
            question_id, required = step[1], step[3]
            if kind == _PLACE:
                if values is None:
                    value = ""
                elif len(values) == 1 and type(values[0]) is str:
                    value = values[0]
                else:
                    return None
                text = _plain_text(get(step[5]), step[6])
                if text is None:
                    return None
                if not value:
                    if required or text:
                        return None
                    continue
                district_id = step[4].get(value)
                if district_id is None:
                    return None
                append(AnswerData(question_id, district_id=district_id, text=text or None))
            elif kind == _TEXT:
                text = _plain_text(values, step[4])
                if text is None:
                    return None
                if not text:
                    if required:
                        return None
                    continue
                append(AnswerData(question_id, text=text))
            else:
                texts = {}
                for other, max_length in step[5]:
                    text = _plain_text(get(other), max_length)
                    if text is None:
                        return None
                    texts[other] = text
                if not values:
                    if required:
                        return None
                    continue
                ids = step[4]
                seen = set()
                for value in values:
                    # A box ticked twice (never browser-sent): left to the
                    # form, which counts it once.
                    if type(value) is not str or value in seen:
                        return None
                    seen.add(value)
                    picked = ids.get(value)
                    if picked is None:
                        return None
                    if picked[1] is None:
                        append(picked[0])
                    else:
                        choice_id, other = picked
                        text = texts[other]
                        if not text:
                            return None
                        append(AnswerData(question_id, choice_id=choice_id, text=text))
        return Submission(language=language, answers=answers, code=code)
