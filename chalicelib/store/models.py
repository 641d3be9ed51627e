"""PynamoDB models, one per table. Key schemas and indexes (indexes.py) must match `infra/template.yaml`, which is
what creates the tables (in AWS and in the local stack); tests check the two agree."""

from __future__ import annotations

from typing import Any, cast

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import STREAM_NEW_AND_OLD_IMAGE
from pynamodb.models import Model

from chalicelib import config
from chalicelib.store.indexes import (
    ContactsByAccount,
    FactsByAccount,
    FactsByMonth,
    InvitationsByNextEmail,
    InvitationsBySurveyMonth,
    InvitationsByWave,
    ResponsesByContact,
    ResponsesBySurvey,
    ResponsesPending,
    TasksByMonth,
    TasksByOwner,
    TasksByStatus,
)


class _Meta:
    table_name = "unbound"
    region = "us-east-1"
    host = None
    max_retry_attempts = 3


def _meta(table: str, **extra):
    return type("Meta", (_Meta,), {"logical": table, **extra})


def _strings(*, null: bool | None = None, default: Any = None) -> ListAttribute[str]:
    """A list of strings. PynamoDB types `ListAttribute(of=UnicodeAttribute)` as a list of UnicodeAttribute
    (its type parameter is taken from `of`); the values read and written are str."""
    return cast("ListAttribute[str]", ListAttribute(of=UnicodeAttribute, null=null, default=default))


class Survey(Model):
    Meta = _meta("surveys")
    survey_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute(default="relationship")
    touchpoint = UnicodeAttribute(null=True)
    question = UnicodeAttribute()
    drivers = _strings(default=list)
    allowed_origins = _strings(default=list)
    throttle_days = NumberAttribute(default=90)
    loop_rules: MapAttribute[str, Any] = MapAttribute(default=dict)
    themes: MapAttribute[str, Any] = MapAttribute(null=True)
    identity_secret = UnicodeAttribute()
    # After a rotation the old secret keeps verifying identities until previous_secret_until.
    previous_identity_secret = UnicodeAttribute(null=True)
    previous_secret_until = UTCDateTimeAttribute(null=True)
    # Anonymous widget/API answers: "counted" (default), "excluded" (kept, never counted) or "refused".
    anonymous_answers = UnicodeAttribute(null=True)
    # The survey page's language and its strings (keys of the page's string table), set per survey.
    language = UnicodeAttribute(null=True)
    strings: MapAttribute[str, Any] = MapAttribute(null=True)
    # Sending (domain/send_window.py): when emails may go, and the reminders after the first.
    send_window: MapAttribute[str, Any] = MapAttribute(null=True)
    reminders: MapAttribute[str, Any] = MapAttribute(null=True)
    schedule: MapAttribute[str, Any] = MapAttribute(null=True)  # relationship waves (domain/waves.py)
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class Invitation(Model):
    Meta = _meta("invitations")
    invitation_id = UnicodeAttribute(hash_key=True)
    survey_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    survey_month = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    key_id = UnicodeAttribute()
    # Emailed by the service ("send": true): when the first email is due, each email's state by kind
    # (domain/sending.py: state, claimed_at, sent_at, message_id, error) and the delivery history, oldest first.
    send_at = UTCDateTimeAttribute(null=True)
    first_email: MapAttribute[str, Any] = MapAttribute(null=True)
    reminder_1: MapAttribute[str, Any] = MapAttribute(null=True)
    reminder_2: MapAttribute[str, Any] = MapAttribute(null=True)
    history: ListAttribute[Any] = ListAttribute(null=True)
    # The bounces and complaints already recorded (their keys), so an SES event delivered again adds nothing.
    feedback = UnicodeSetAttribute(null=True)
    # The next email to queue and when ("...Z", so the index sorts it), while one is planned.
    email_shard = UnicodeAttribute(null=True)
    next_email_at = UnicodeAttribute(null=True)
    next_email_kind = UnicodeAttribute(null=True)
    wave_id = UnicodeAttribute(null=True)  # the relationship wave that made it, if one did
    by_survey_month = InvitationsBySurveyMonth()
    by_next_email = InvitationsByNextEmail()
    by_wave = InvitationsByWave()


class Response(Model):
    """One answer. Written by capture with a single conditional update; the stream does the rest."""

    Meta = _meta("responses", stream_view_type=STREAM_NEW_AND_OLD_IMAGE)
    response_id = UnicodeAttribute(hash_key=True)
    survey_id = UnicodeAttribute()
    invitation_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)
    external_id = UnicodeAttribute(null=True)
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    drivers = _strings(null=True)
    channel = UnicodeAttribute()
    touchpoint = UnicodeAttribute(null=True)
    page = UnicodeAttribute(null=True)
    first_submitted_at = UTCDateTimeAttribute()
    submitted_at = UTCDateTimeAttribute()
    month = UnicodeAttribute()
    month_shard = UnicodeAttribute()
    version = NumberAttribute(default=1)
    erased = BooleanAttribute(null=True)
    # "counted" (absent on older items means counted), "pending" or "excluded" with excluded_reason.
    status = UnicodeAttribute(null=True)
    excluded_reason = UnicodeAttribute(null=True)
    # While pending: the settle index key and the time of the latest unconfirmed (dwell) answer.
    pending_shard = UnicodeAttribute(null=True)
    pending_at = UTCDateTimeAttribute(null=True)
    # Page views that answered without a gesture, as "<view id>:<score>" (a scanner opens many at once). A set,
    # not a map: ADD creates or extends it in the one capture request, where a map path needs the map to exist.
    views = UnicodeSetAttribute(null=True)
    # Ids of the submissions already applied, so a replayed POST changes nothing.
    submissions = UnicodeSetAttribute(null=True)
    by_survey = ResponsesBySurvey()
    by_contact = ResponsesByContact()
    by_pending = ResponsesPending()


class Contact(Model):
    """The directory, and the only place a person's email and name live (beside open tasks, which erasure
    also clears). `status` is derived from the moments below (domain/contacts.py), never stored."""

    Meta = _meta("contacts")
    contact_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    language = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    attributes: MapAttribute[str, Any] = MapAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    bounced_at = UTCDateTimeAttribute(null=True)
    complained_at = UTCDateTimeAttribute(null=True)
    by_account = ContactsByAccount()
    last_invited: MapAttribute[str, Any] = MapAttribute(null=True)
    # Every invitation sent to the contact, so erasure can find the unanswered ones too.
    invitation_ids = _strings(null=True)
    unsubscribed_at = UTCDateTimeAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)


class Account(Model):
    Meta = _meta("accounts")
    account_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)
    segment = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    manager = UnicodeAttribute(null=True)
    revenue: MapAttribute[str, Any] = MapAttribute(null=True)
    status = UnicodeAttribute(default="active")
    updated_at = UTCDateTimeAttribute(null=True)


class AdminToken(Model):
    Meta = _meta("admin_tokens")
    token_id = UnicodeAttribute(hash_key=True)
    token_hash = UnicodeAttribute()
    name = UnicodeAttribute()
    scopes = _strings()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class LoopTask(Model):
    """A close-the-loop task; its id is derived from the response, so a response opens at most one."""

    Meta = _meta("tasks")
    task_id = UnicodeAttribute(hash_key=True)
    response_id = UnicodeAttribute()
    survey_id = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    category = UnicodeAttribute()
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    drivers = _strings(null=True)
    status = UnicodeAttribute()
    owner = UnicodeAttribute()
    manager = UnicodeAttribute(null=True)
    month = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    due_at = UTCDateTimeAttribute()
    sla_hours = NumberAttribute()
    closed_at = UTCDateTimeAttribute(null=True)
    escalated_at = UTCDateTimeAttribute(null=True)
    root_cause = UnicodeAttribute(null=True)
    resolution = UnicodeAttribute(null=True)
    # Untyped lists: PynamoDB deserializes each map element to a plain dict.
    notes: ListAttribute[dict[str, Any]] = ListAttribute(default=list)
    history: ListAttribute[dict[str, Any]] = ListAttribute(default=list)
    last_version = NumberAttribute(default=1)
    # Bumped by every write, exposed as the ETag; If-Match makes racing edits conflict.
    revision = NumberAttribute(default=1)
    by_status = TasksByStatus()
    by_owner = TasksByOwner()
    by_month = TasksByMonth()


class ResponseFact(Model):
    """What the stream derived from a response (category, themes), without any PII. A pure function of the
    response's latest image, written only when that image's version is newer: replays change nothing."""

    Meta = _meta("response_facts")
    response_id = UnicodeAttribute(hash_key=True)
    survey_id = UnicodeAttribute()
    account_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    score = NumberAttribute()
    category = UnicodeAttribute()
    themes = _strings(default=list)
    channel = UnicodeAttribute()
    touchpoint = UnicodeAttribute(null=True)
    invitation_id = UnicodeAttribute(null=True)
    month = UnicodeAttribute()
    month_shard = UnicodeAttribute()
    first_submitted_at = UTCDateTimeAttribute()
    submitted_at = UTCDateTimeAttribute()
    version = NumberAttribute()
    by_month = FactsByMonth()
    by_account = FactsByAccount()


class MonthlyMetrics(Model):
    Meta = _meta("monthly_metrics")
    month = UnicodeAttribute(hash_key=True)
    computed_at = UTCDateTimeAttribute()
    body = UnicodeAttribute()
    # The run in progress for this month (one at a time), written before any document exists.
    run_id = UnicodeAttribute(null=True)
    run_started_at = UTCDateTimeAttribute(null=True)


class Wave(Model):
    """A relationship wave of a survey (domain/waves.py): who it asks, its counts, its days, its response rate."""

    Meta = _meta("waves")
    survey_id = UnicodeAttribute(hash_key=True)
    wave_id = UnicodeAttribute(range_key=True)  # wav_<UTC start, sortable>_<random>: newest last
    trigger = UnicodeAttribute()  # manual or schedule
    status = UnicodeAttribute()  # running (a run is due at next_run_at) or done
    rules: MapAttribute[str, Any] = MapAttribute(default=dict)
    counts: MapAttribute[str, Any] = MapAttribute(default=dict)
    days: ListAttribute[dict[str, Any]] = ListAttribute(default=list)  # [{day, invited}], the survey's days
    started_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    next_run_at = UTCDateTimeAttribute(null=True)
    sent = NumberAttribute(null=True)
    responded = NumberAttribute(null=True)
    tallied_at = UTCDateTimeAttribute(null=True)
    revision = NumberAttribute(default=1)


MODELS = {
    "surveys": Survey,
    "invitations": Invitation,
    "responses": Response,
    "contacts": Contact,
    "accounts": Account,
    "admin_tokens": AdminToken,
    "tasks": LoopTask,
    "response_facts": ResponseFact,
    "monthly_metrics": MonthlyMetrics,
    "waves": Wave,
}

_bound: tuple | None = None


def bind() -> None:
    """Point every model at this stage's tables and endpoint (cheap when nothing changed)."""
    global _bound
    s = config.settings()
    key = (s.table_prefix, s.region, s.dynamodb_endpoint)
    if _bound == key:
        return
    for logical, model in MODELS.items():
        model.Meta.table_name = s.table_name(logical)
        model.Meta.region = s.region
        model.Meta.host = s.dynamodb_endpoint
        model._connection = None
    _bound = key


def bound_tables(event, get_response):
    """Middleware of every handler (app.py): the models point at this stage's tables before the code runs, so
    the store's functions never bind one by one. The authorizer, which middleware does not reach, binds itself."""
    bind()
    return get_response(event)


def unbind() -> None:
    global _bound
    _bound = None
