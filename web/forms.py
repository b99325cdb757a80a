"""Forms (Flask-WTF): they parse the request into the plain data the services take.

Checking is the domain's job (``mediation.services`` raises ``ValidationError`` with
``field → message``); the forms only parse, so every error of a submission shows at
once, beside its field. ``map_errors`` turns the domain's dotted keys
(``parties.2.id_number``, ``terms.1.amount``) into the names of the form's inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from mediation.workflow import Registry, TriggerSpec, pick_label

from . import labels

#: Party rows a filing form offers without JavaScript, and the most it accepts.
PARTY_ROWS = 4
MAX_PARTIES = 60
#: Term rows an agreement form offers without JavaScript, and the most it accepts.
TERM_ROWS = 3
MAX_TERMS = 60
#: Separators between free-text participant names (Latin and Chinese punctuation, new lines).
NAME_SEPARATORS = re.compile(r"[,，、;；\n]+")


def vocabulary(name: str, blank: Any = None, exclude: Iterable[str] = ()) -> Callable[[], list[SelectChoice]]:
    """Choices of a vocabulary of ``web.labels``, resolved per request (labels follow the locale)."""

    def make() -> list[SelectChoice]:
        out = [SelectChoice("", blank)] if blank is not None else []
        skip = set(exclude)
        out.extend(SelectChoice(k, v) for k, v in labels.VOCABULARIES[name].items() if k not in skip)
        return out

    return make


def _blank(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


# --- log in, log out, language -----------------------------------------------------

class LoginForm(FlaskForm):  # type: ignore[misc]
    """User name and password."""

    username = StringField(_l("User name"), validators=[InputRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField(
        _l("Password"), validators=[InputRequired()], render_kw={"autocomplete": "current-password"}
    )


class LogoutForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token."""


class LocaleForm(FlaskForm):  # type: ignore[misc]
    """The language chosen (the pressed button's value) and the page to go back to."""

    locale = StringField()
    next = HiddenField()


class LedgerFilterForm(FlaskForm):  # type: ignore[misc]
    """The ledger's filters, search and order (GET, no CSRF); ``web.ledger`` reads it into
    ``mediation.ledger.LedgerFilters`` and sets the choices."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        render_kw={"type": "search", "placeholder": _l("Name, ID number, phone, case number or words"),
                   "maxlength": 200},  # web/ledger.py MAX_SEARCH: a longer address would exceed the server's line
    )
    search_in = SelectField(
        _l("Search in"), validate_choice=False,
        choices=[
            SelectChoice("all", _l("Everything")),
            SelectChoice("party", _l("Party names")),
            SelectChoice("id_number", _l("ID numbers")),
            SelectChoice("phone", _l("Phone numbers")),
            SelectChoice("number", _l("Case numbers")),
            SelectChoice("text", _l("Title, facts and claims")),
        ],
    )
    state = SelectField(_l("State"), validate_choice=False)
    tier = SelectField(
        _l("Tier"), validate_choice=False,
        choices=[
            SelectChoice("", _l("All tiers")),
            SelectChoice("1", _l("Tier 1")),
            SelectChoice("2", _l("Tier 2")),
            SelectChoice("3", _l("Tier 3")),
        ],
    )
    category = SelectField(_l("Category"), validate_choice=False)
    enterprise = SelectField(_l("Enterprise"), validate_choice=False)
    area = SelectField(_l("Area"), validate_choice=False)
    mediator = SelectField(_l("Mediator"), validate_choice=False)
    filed_from = StringField(_l("Filed from"), render_kw={"type": "date"})
    filed_to = StringField(_l("Filed until"), render_kw={"type": "date"})
    sort = SelectField(
        _l("Sort by"), validate_choice=False,
        choices=[
            SelectChoice("filed", _l("Filing date")),
            SelectChoice("updated", _l("Last change")),
            SelectChoice("number", _l("Case number")),
            SelectChoice("party", _l("Applicant (pinyin)")),
        ],
    )
    order = SelectField(
        _l("Order"), validate_choice=False,
        choices=[SelectChoice("desc", _l("Descending")), SelectChoice("asc", _l("Ascending"))],
    )


class AssignForm(FlaskForm):  # type: ignore[misc]
    """Give a case to a mediator (or to nobody); the version guards against lost updates."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    assignee = SelectField(_l("Mediator"), validate_choice=False)


# --- filing ----------------------------------------------------------------------------

class PartyForm(Form):  # type: ignore[misc]
    """One party row of the filing form."""

    role = SelectField(_l("Standing"), choices=vocabulary("party_role"), validate_choice=False)
    kind = SelectField(_l("Kind"), choices=vocabulary("party_kind"), validate_choice=False)
    name = StringField(_l("Name"))
    size = StringField(_l("Number of people (group)"), render_kw={"inputmode": "numeric", "placeholder": "1"})
    representative = StringField(_l("Representative"))
    gender = SelectField(_l("Sex"), choices=vocabulary("gender", blank="—"), validate_choice=False)
    ethnicity = StringField(_l("Ethnicity"))
    occupation = StringField(_l("Occupation or post"))
    phone = StringField(_l("Mobile phone"), render_kw={"inputmode": "tel", "autocomplete": "off"})
    id_number = StringField(_l("ID number"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    address = StringField(_l("Address or employer"))

    TEXT_FIELDS = ("name", "size", "representative", "ethnicity", "occupation", "phone", "id_number", "address")

    def is_blank(self) -> bool:
        """True when nothing was typed into the row (the selects always hold a value)."""
        return _blank(self[f].data for f in self.TEXT_FIELDS)

    def to_data(self) -> dict[str, Any]:
        """The party as ``services.file_case`` takes it."""
        data = {name: (self[name].data or "").strip() for name in (*self.TEXT_FIELDS, "role", "kind", "gender")}
        return {k: v for k, v in data.items() if v != ""}


class FilingForm(FlaskForm):  # type: ignore[misc]
    """A new dispute (登记纠纷) with its parties."""

    workflow = SelectField(_l("Kind of mediation"), validate_choice=False)
    category = SelectField(_l("Category"), validate_choice=False)
    filed_via = SelectField(
        _l("Source"), choices=vocabulary("source", exclude=("online",)), default="walk_in", validate_choice=False
    )
    enterprise_id = SelectField(_l("Enterprise"), validate_choice=False)
    area_id = SelectField(_l("Area"), validate_choice=False)
    title = StringField(_l("Title"), render_kw={"maxlength": 200})
    facts = TextAreaField(_l("Facts"), render_kw={"rows": 5})
    claims = TextAreaField(_l("Claims"), render_kw={"rows": 3})
    amount_claimed = StringField(_l("Amount claimed (CNY)"), render_kw={"inputmode": "decimal"})
    risk_flag = BooleanField(_l("Risk of escalation (report to the station)"))
    parties = FieldList(FormField(PartyForm), min_entries=PARTY_ROWS, max_entries=MAX_PARTIES)

    def set_choices(
        self,
        registry: Registry,
        enterprises: Sequence[tuple[int, str]],
        areas: Sequence[tuple[int, str]] = (),
    ) -> None:
        """Workflows and their categories (grouped by workflow), the organisation's enterprises and areas."""
        locale = labels.locale_key()
        definitions = [registry.get(name) for name in registry.names()]
        self.workflow.choices = [SelectChoice(d.name, pick_label(d.title, locale)) for d in definitions]
        self.category.choices = [
            SelectChoice(
                c, labels.label("category", c), render_kw={"data-workflow": d.name},
                optgroup=pick_label(d.title, locale),
            )
            for d in definitions
            for c in d.categories
        ]
        self.enterprise_id.choices = [SelectChoice("", gettext("— none —"))] + [
            SelectChoice(str(i), name) for i, name in enterprises
        ]
        self.area_id.choices = [SelectChoice("", gettext("— from the enterprise, or none —"))] + [
            SelectChoice(str(i), name) for i, name in areas
        ]

    def preset_rows(self) -> None:
        """Give the empty rows of a new form a sensible standing: applicant, respondent, third party…"""
        preset = ("applicant", "respondent", "third_party")
        for i, entry in enumerate(self.parties.entries):
            entry.form.role.data = preset[i] if i < len(preset) else "applicant"
        if len(self.parties.entries) > 1:
            self.parties.entries[1].form.kind.data = "organisation"

    def used_rows(self) -> list[Any]:
        """The party rows something was typed into, in order (the service numbers them from 1)."""
        return [entry for entry in self.parties.entries if not entry.form.is_blank()]

    def to_filing(self, fixed_enterprise: int | None, fixed_source: str | None) -> dict[str, Any]:
        """The filing as ``services.file_case`` takes it; fixed values replace what the form offers."""
        return {
            "workflow": self.workflow.data,
            "category": self.category.data,
            "filed_via": fixed_source or self.filed_via.data,
            "title": self.title.data,
            "facts": self.facts.data,
            "claims": self.claims.data,
            "amount_claimed": (self.amount_claimed.data or "").strip() or None,
            "enterprise_id": fixed_enterprise if fixed_enterprise is not None else (self.enterprise_id.data or None),
            "area_id": self.area_id.data or None,
            "risk_flag": bool(self.risk_flag.data),
            "parties": [entry.form.to_data() for entry in self.used_rows()],
        }

    def field_name(self, key: str) -> str | None:
        """The input a domain error key belongs to (``parties.2.id_number`` → ``parties-1-id_number``)."""
        parts = key.split(".")
        if parts[0] == "parties" and len(parts) >= 2:
            rows = self.used_rows()
            try:
                entry = rows[int(parts[1]) - 1]
            except (ValueError, IndexError):
                return "parties"
            if len(parts) == 3 and parts[2] in entry.form:
                return str(entry.form[parts[2]].name)
            return str(entry.name)
        return key if key in self else None


def party_row_template() -> PartyForm:
    """A blank party row named ``parties-__index__-…``, cloned by the page's script to add a row."""
    return PartyForm(prefix="parties-__index__-")


# --- actions on a case ---------------------------------------------------------------

class TermForm(Form):  # type: ignore[misc]
    """One agreed term: who owes whom what, how much (CNY, optional) and by when (optional)."""

    obligor = SelectField(_l("Obligor"), validate_choice=False)
    obligee = SelectField(_l("Obligee"), validate_choice=False)
    text = StringField(_l("What is to be done"))
    amount = StringField(_l("Amount (CNY)"), render_kw={"inputmode": "decimal"})
    due_on = StringField(_l("Due by"), render_kw={"type": "date"})

    def is_blank(self) -> bool:
        """True when neither text, amount nor due date was given."""
        return _blank((self.text.data, self.amount.data, self.due_on.data))

    def to_data(self) -> dict[str, Any]:
        """The term as the domain takes it."""
        return {
            "obligor": self.obligor.data or None,
            "obligee": self.obligee.data or None,
            "text": self.text.data,
            "amount": (self.amount.data or "").strip() or None,
            "due_on": (self.due_on.data or "").strip() or None,
        }


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):  # type: ignore[misc]
    """Base of every action form: the case version the user saw, for the optimistic check."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


def _text_area(name: str) -> Field:
    return TextAreaField(labels.FIELDS.get(name, name), render_kw={"rows": 3})


FIELD_FACTORIES: dict[str, Callable[[str], Field]] = {
    "severity": lambda n: SelectField(
        labels.FIELDS[n], choices=vocabulary("severity", blank=_l("— choose —")), validate_choice=False
    ),
    "referral": lambda n: SelectField(
        labels.FIELDS[n], choices=vocabulary("referral", blank=_l("— choose —")), validate_choice=False
    ),
    "reason": _text_area,
    "note": _text_area,
    "text": lambda n: TextAreaField(_l("Agreed text"), render_kw={"rows": 4}),
    "minutes": lambda n: TextAreaField(labels.FIELDS[n], render_kw={"rows": 4}),
    "performed": lambda n: BooleanField(labels.FIELDS[n]),
    "public": lambda n: BooleanField(labels.FIELDS[n]),
    "term": lambda n: SelectField(labels.FIELDS[n], validate_choice=False),
    "terms": lambda n: FieldList(FormField(TermForm), min_entries=TERM_ROWS, max_entries=MAX_TERMS),
    "mode": lambda n: SelectField(labels.FIELDS[n], choices=vocabulary("mode"), validate_choice=False),
    "participants": lambda n: MultiCheckboxField(labels.FIELDS[n], validate_choice=False),
    "place": lambda n: StringField(labels.FIELDS[n], render_kw={"maxlength": 200}),
    "scheduled_for": lambda n: StringField(
        labels.FIELDS[n], render_kw={"type": "datetime-local"}, description=_l("Beijing time")
    ),
    "held_at": lambda n: StringField(
        labels.FIELDS[n], render_kw={"type": "datetime-local"}, description=_l("Beijing time; empty: now")
    ),
    "rights_explained": lambda n: BooleanField(labels.FIELDS[n], default=True),
    "verification": lambda n: TextAreaField(labels.FIELDS[n], render_kw={"rows": 2}),
    "result": lambda n: TextAreaField(labels.FIELDS[n], render_kw={"rows": 2}),
    "person": lambda n: StringField(labels.FIELDS[n], render_kw={"maxlength": 120}),
}
#: Optional fields an action form offers besides what the definition ``requires``.
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "record_session": ("place", "held_at", "public", "rights_explained", "minutes", "verification", "result"),
    "schedule_session": ("place", "participants", "public"),
    "record_visit": ("place", "person", "participants"),
    "record_investigation": ("place", "person", "participants"),
    "record_oral_agreement": ("performed", "terms"),
    "record_performance": ("note",),
    "report_breach": ("note",),
}


def action_fields(spec: TriggerSpec) -> tuple[str, ...]:
    """The inputs of a trigger's form: what its definition requires, then the known optional extras."""
    return tuple(dict.fromkeys((*spec.requires, *EXTRA_FIELDS.get(spec.name, ()))))


@lru_cache(maxsize=64)
def _form_class(fields: tuple[str, ...]) -> type[ActionForm]:
    attrs: dict[str, Any] = {}
    for name in fields:  # fields are laid out in the order they are made
        attrs[name] = FIELD_FACTORIES.get(name, _text_area)(name)
        if name == "participants":
            attrs["participants_other"] = StringField(
                labels.FIELDS["participants_other"],
                description=_l("Names separated by commas, e.g. 社区干部王某, 物业经理"),
            )
    return type("ActionForm_" + "_".join(fields), (ActionForm,), attrs)


def action_form(
    spec: TriggerSpec,
    *,
    version: int,
    parties: Sequence[tuple[str, str]],
    open_terms: Sequence[tuple[int, str]],
    defaults: Mapping[str, Any] | None = None,
    bind: bool = False,
) -> ActionForm:
    """The form of one action on a case; ``bind`` reads the submitted request, else it is blank.

    Party and term choices come from the case; ``defaults`` pre-fill fields (e.g. the
    referral a lapsed clock offers).
    """
    cls = _form_class(action_fields(spec))
    form = cls() if bind else cls(formdata=None, data={"version": version, **(defaults or {})})
    form.trigger = spec.name
    party_choices = [SelectChoice(ref, name) for ref, name in parties]
    if "participants" in form:
        form.participants.choices = party_choices
    if "term" in form:
        form.term.choices = [SelectChoice(str(seq), f"{seq}. {text[:40]}") for seq, text in open_terms]
    if "terms" in form:
        blank = [SelectChoice("", gettext("— choose —"))]
        for entry in form.terms.entries:
            entry.form.obligor.choices = blank + party_choices
            entry.form.obligee.choices = blank + party_choices
    return form


def term_row_template(parties: Sequence[tuple[str, str]]) -> TermForm:
    """A blank term row named ``terms-__index__-…``, cloned by the page's script to add a term."""
    row = TermForm(prefix="terms-__index__-")
    choices = [SelectChoice("", gettext("— choose —"))] + [SelectChoice(r, n) for r, n in parties]
    row.obligor.choices = choices
    row.obligee.choices = list(choices)
    return row


def action_data(form: ActionForm) -> dict[str, Any]:
    """The trigger's data as ``services.fire`` takes it (blank term rows left out)."""
    data: dict[str, Any] = {}
    for field in form:
        name = field.short_name
        if name in ("version", "csrf_token", "participants_other"):
            continue
        if name == "terms":
            data["terms"] = [e.form.to_data() for e in _used_terms(form)]
        elif name == "participants":
            others = NAME_SEPARATORS.split(form.participants_other.data or "")
            data["participants"] = list(field.data or []) + [o.strip() for o in others if o.strip()]
        elif isinstance(field, BooleanField):
            data[name] = bool(field.data)
        else:
            data[name] = field.data
    return data


def _used_terms(form: ActionForm) -> list[Any]:
    return [e for e in form.terms.entries if not e.form.is_blank()] if "terms" in form else []


def action_field_name(form: ActionForm, key: str) -> str | None:
    """The input a domain error key belongs to (``terms.2.amount`` → ``terms-1-amount``)."""
    parts = key.split(".")
    if parts[0] == "terms" and len(parts) >= 2 and "terms" in form:
        rows = _used_terms(form)
        try:
            entry = rows[int(parts[1]) - 1]
        except (ValueError, IndexError):
            return "terms"
        if len(parts) == 3 and parts[2] in entry.form:
            return str(entry.form[parts[2]].name)
        return str(entry.name)
    return key if key in form else None


def map_errors(errors: Mapping[str, str], locate: Callable[[str], str | None]) -> tuple[dict[str, str], list[str]]:
    """Translated domain errors by input name, and those that belong to no input (shown on top)."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    for key, message in errors.items():
        text = gettext(message)
        name = locate(key)
        if name is None:
            general.append(f"{labels.FIELDS.get(key, key)}: {text}")
        else:
            by_field[name] = f"{by_field[name]} {text}" if name in by_field else text
    return by_field, general


def form_errors(form: FlaskForm) -> dict[str, str]:
    """The form's own parse errors by input name (e.g. a missing case version)."""
    out: dict[str, str] = {}
    for field in form:
        if field.errors and isinstance(field.errors, list | tuple):
            out[field.name] = " ".join(str(e) for e in field.errors if isinstance(e, str))
    return out
