"""Marshmallow schemas of the JSON API: they parse requests, shape responses and generate the
OpenAPI document (through flask-smorest and apispec), so the document cannot drift from the code."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from mediation.enums import Category, IntakeSource, PartyKind, PartyRole

LABEL = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "{zh_CN, en}"})


class _Out(Schema):
    """A response schema (documentation of what is sent)."""

    class Meta:
        ordered = True


class ApiErrorBody(_Out):
    code = fields.String(required=True, metadata={"description": "validation_error, unauthorized, forbidden, "
                                                  "not_found, conflict, invalid_transition, bad_request …"})
    message = fields.String(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields",
                          metadata={"description": "field path → message, e.g. parties.1.id_number"})


class ApiError(_Out):
    error = fields.Nested(ApiErrorBody, required=True)


class ClockOut(_Out):
    name = fields.String(required=True)
    label = fields.Dict(keys=fields.String(), values=fields.String())
    days = fields.Integer(required=True)
    elapsed = fields.Integer(required=True)
    last_day = fields.Date(allow_none=True)
    remaining = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    overdue = fields.Boolean(required=True)


class CaseSummary(_Out):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    workflow = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.Dict(keys=fields.String(), values=fields.String())
    final = fields.Boolean(required=True)
    tier = fields.Integer(allow_none=True)
    severity = fields.String(allow_none=True)
    category = fields.String(required=True)
    enterprise = fields.String(allow_none=True)
    area = fields.String(allow_none=True)
    assigned_to = fields.String(allow_none=True)
    applicants = fields.String()
    respondents = fields.String()
    risk_flag = fields.Boolean()
    clock = fields.Nested(ClockOut, allow_none=True)
    filed_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class CasePage(_Out):
    items = fields.List(fields.Nested(CaseSummary), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "pass as `cursor` for the next page; null on the last"})
    limit = fields.Integer(required=True)


class PartyOut(_Out):
    id = fields.Integer(required=True)
    ref = fields.String(required=True)
    role = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    size = fields.Integer(required=True)
    representative = fields.String(allow_none=True)
    gender = fields.String(allow_none=True)
    ethnicity = fields.String(allow_none=True)
    occupation = fields.String(allow_none=True)
    phone = fields.String(metadata={"description": "masked (138****5678) unless the user may see it whole"})
    id_number = fields.String(metadata={"description": "masked unless the user may see it whole (DOMAIN R36)"})
    address = fields.String(allow_none=True)


class EventOut(_Out):
    seq = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    trigger = fields.String(required=True)
    from_state = fields.String(required=True)
    to_state = fields.String(required=True)
    reason = fields.String(allow_none=True)
    data = fields.Dict()


class DocumentOut(_Out):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    version = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    verification_code = fields.String(required=True)


class CaseOut(CaseSummary):
    workflow_version = fields.Integer(required=True)
    version = fields.Integer(required=True, metadata={"description": "send as expected_version when firing"})
    filed_via = fields.String(required=True)
    facts = fields.String()
    claims = fields.String()
    amount_claimed = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "CNY yuan"})
    accepted_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    tracking_code = fields.String()
    actions = fields.List(fields.String(), metadata={"description": "triggers this user may fire now"})
    parties = fields.List(fields.Nested(PartyOut))
    events = fields.List(fields.Nested(EventOut))
    documents = fields.List(fields.Nested(DocumentOut))


class CaseListArgs(Schema):
    state = fields.String(validate=validate.Length(max=40))
    tier = fields.Integer(validate=validate.Range(1, 3))
    workflow = fields.String(validate=validate.Length(max=40))
    kind = fields.String(validate=validate.OneOf([c.value for c in Category]))
    enterprise = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    area = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    filed_from = fields.Date()
    filed_to = fields.Date()
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "search: case number, a party's name, text; ID number and "
                                "phone for roles that see them whole"})
    search_in = fields.String(validate=validate.OneOf(["all", "party", "id_number", "phone", "number", "text"]))
    sort = fields.String(validate=validate.OneOf(["filed", "updated", "number", "party"]))
    order = fields.String(validate=validate.OneOf(["asc", "desc"]))
    limit = fields.Integer(validate=validate.Range(1, 100), metadata={"description": "rows per page (default 50)"})
    cursor = fields.String(validate=validate.Length(max=500),
                           metadata={"description": "next_cursor of the previous page"})


class PartyIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in PartyRole]))
    kind = fields.String(validate=validate.OneOf([k.value for k in PartyKind]))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    size = fields.Integer(validate=validate.Range(1, 100000))
    gender = fields.String(validate=validate.OneOf(["M", "F"]), allow_none=True)
    ethnicity = fields.String(validate=validate.Length(max=40), allow_none=True)
    occupation = fields.String(validate=validate.Length(max=120), allow_none=True)
    phone = fields.String(validate=validate.Length(max=20), allow_none=True)
    id_number = fields.String(validate=validate.Length(max=20), allow_none=True)
    address = fields.String(validate=validate.Length(max=300), allow_none=True)
    representative = fields.String(validate=validate.Length(max=120), allow_none=True)


class FilingIn(Schema):
    workflow = fields.String(validate=validate.Length(max=40))
    category = fields.String(required=True, validate=validate.OneOf([c.value for c in Category]))
    filed_via = fields.String(required=True, validate=validate.OneOf([s.value for s in IntakeSource]))
    title = fields.String(validate=validate.Length(max=200), allow_none=True)
    facts = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    claims = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    amount_claimed = fields.String(allow_none=True, validate=validate.Length(max=20),
                                   metadata={"description": "CNY yuan with at most two places, e.g. \"49830.00\""})
    enterprise_id = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1))
    area_id = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1))
    risk_flag = fields.Boolean()
    parties = fields.List(fields.Nested(PartyIn), required=True, validate=validate.Length(min=2, max=200))


class FireIn(Schema):
    expected_version = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1),
                                      metadata={"description": "the case's version as read; 409 if it changed"})
    data = fields.Dict(keys=fields.String(), load_default=dict,
                       metadata={"description": "the trigger's data (see the workflow's `requires`)"})


class FiredOut(_Out):
    trigger = fields.String(required=True)
    from_state = fields.String(required=True)
    to_state = fields.String(required=True)
    version = fields.Integer(required=True)
    documents = fields.List(fields.String())
    case = fields.Nested(CaseOut, required=True)


class TriggerOut(_Out):
    name = fields.String(required=True)
    label = LABEL
    who = fields.List(fields.String())
    requires = fields.List(fields.String())
    documents = fields.List(fields.String())
    transitions = fields.List(fields.Dict())


class StateOut(_Out):
    name = fields.String(required=True)
    label = LABEL
    final = fields.Boolean()
    tier = fields.Integer(allow_none=True)
    outcome = fields.String(allow_none=True)


class WorkflowOut(_Out):
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    title = LABEL
    categories = fields.List(fields.String())
    initial = fields.String()
    tiers = fields.List(fields.Dict())
    states = fields.List(fields.Nested(StateOut))
    triggers = fields.List(fields.Nested(TriggerOut))
    clocks = fields.List(fields.Dict())


class WorkflowList(_Out):
    items = fields.List(fields.Nested(WorkflowOut), required=True)


class StatisticsArgs(Schema):
    month = fields.String(validate=validate.Regexp(r"^\d{4}-\d{2}$"), metadata={"description": "YYYY-MM"})
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    enterprise = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    area = fields.Integer(validate=validate.Range(1, 2**31 - 1))
    kind = fields.String(validate=validate.OneOf([c.value for c in Category]))
    tier = fields.Integer(validate=validate.Range(1, 3))


class FigureOut(_Out):
    key = fields.String(required=True)
    section = fields.String()
    label = LABEL
    unit = fields.String()
    value = fields.Float(allow_none=True)
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)
    last_year = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)
    change_unit = fields.String()
    definition = LABEL


class StatisticsOut(_Out):
    period = fields.Dict(required=True)
    previous_period = fields.Dict()
    as_of = fields.String()
    filters = fields.Dict()
    figures = fields.List(fields.Nested(FigureOut), required=True)
    charts = fields.List(fields.Dict())


class MeOut(_Out):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    organisation = fields.String(required=True)

