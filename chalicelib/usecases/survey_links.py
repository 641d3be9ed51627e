"""An invitation's links, signed again from what the invitation stores: the page, its 11 score links and the
unsubscribe link. Signing is deterministic, so the links an email carries are the ones the invitation call
answered with."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain import tokens

# An unsubscribe link outlives the survey link: it must keep working from an old email.
UNSUBSCRIBE_TTL = timedelta(days=3650)


def links(
    settings: Any,
    *,
    invitation_id: str,
    survey_id: str,
    contact_id: str,
    account_id: str,
    created_at: datetime,
    expires_at: datetime,
    key_id: str,
) -> dict[str, Any]:
    common = {
        "invitation_id": invitation_id,
        "survey_id": survey_id,
        "contact_id": contact_id,
        "account_id": account_id,
    }
    keys = settings.link_keys
    page = tokens.sign_link(keys, key_id, purpose=tokens.PURPOSE_SURVEY, expires_at=expires_at, **common)
    unsubscribe = tokens.sign_link(
        keys, key_id, purpose=tokens.PURPOSE_UNSUBSCRIBE, expires_at=created_at + UNSUBSCRIBE_TTL, **common
    )
    link = f"{settings.public_base_url}/s/{page}"
    return {
        "link": link,
        "score_links": [f"{link}?score={n}" for n in range(11)],
        "unsubscribe_link": f"{settings.public_base_url}/u/{unsubscribe}",
    }
