"""The tables' global secondary indexes, as PynamoDB declares them; each model in models.py names its own. Index
names, keys and projections must match `infra/template.yaml` (tests check the two agree)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection


class InvitationsBySurveyMonth(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_survey_month"
        projection = KeysOnlyProjection()

    survey_month = UnicodeAttribute(hash_key=True)
    invitation_id = UnicodeAttribute(range_key=True)


class InvitationsByNextEmail(GlobalSecondaryIndex):
    """Sparse: the invitations with an email still to queue (a later send_at, a reminder), by when it is due."""

    class Meta:
        index_name = "by_next_email"
        projection = IncludeProjection(["next_email_kind"])

    email_shard = UnicodeAttribute(hash_key=True)
    next_email_at = UnicodeAttribute(range_key=True)


class InvitationsByWave(GlobalSecondaryIndex):
    """Sparse: the invitations a relationship wave made (a wave's response rate)."""

    class Meta:
        index_name = "by_wave"
        projection = KeysOnlyProjection()

    wave_id = UnicodeAttribute(hash_key=True)
    invitation_id = UnicodeAttribute(range_key=True)


class ResponsesBySurvey(GlobalSecondaryIndex):
    """Keys only, written once per response (its keys never change): exports read the rows by BatchGetItem.
    Also the export by month, per survey, with first_submitted_at in the month."""

    class Meta:
        index_name = "by_survey"
        projection = KeysOnlyProjection()

    survey_id = UnicodeAttribute(hash_key=True)
    first_submitted_at = UTCDateTimeAttribute(range_key=True)


class ResponsesPending(GlobalSecondaryIndex):
    """Sparse: only responses waiting to be settled carry pending_shard, so only they are indexed."""

    class Meta:
        index_name = "by_pending"
        projection = KeysOnlyProjection()

    pending_shard = UnicodeAttribute(hash_key=True)
    pending_at = UTCDateTimeAttribute(range_key=True)


class ResponsesByContact(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_contact"
        projection = KeysOnlyProjection()

    contact_id = UnicodeAttribute(hash_key=True)
    response_id = UnicodeAttribute(range_key=True)


class ContactsByAccount(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_account"
        projection = KeysOnlyProjection()

    account_id = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)


class TasksByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class TasksByOwner(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_owner"
        projection = AllProjection()

    owner = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class TasksByMonth(GlobalSecondaryIndex):
    """The monthly job's read: only the attributes it uses, so edits of the answer or notes cost nothing here."""

    class Meta:
        index_name = "by_month"
        projection = IncludeProjection(["account_id", "kind", "created_at", "due_at", "closed_at", "escalated_at"])

    month = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


class FactsByMonth(GlobalSecondaryIndex):
    """The monthly job's read: the attributes of its rows (metrics_inputs.responses), no more."""

    class Meta:
        index_name = "by_month"
        projection = IncludeProjection(
            ["survey_id", "account_id", "contact_id", "score", "first_submitted_at", "themes", "touchpoint"]
        )

    month_shard = UnicodeAttribute(hash_key=True)
    response_id = UnicodeAttribute(range_key=True)


class FactsByAccount(GlobalSecondaryIndex):
    """Account standing (accounts.standing) and the export by account (ids only)."""

    class Meta:
        index_name = "by_account"
        projection = IncludeProjection(["survey_id", "contact_id", "score"])

    account_id = UnicodeAttribute(hash_key=True)
    first_submitted_at = UTCDateTimeAttribute(range_key=True)
