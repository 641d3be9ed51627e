"""The NPS backend's Chalice app: a table of contents. Routes and event handlers live in chalicelib."""

from chalice import Chalice

from chalicelib.api import (
    accounts,
    admin_tokens,
    auth,
    capture,
    contacts,
    docs,
    imports,
    invitations,
    metrics,
    responses,
    surveys,
    tasks,
    waves,
    widget_strings,
)
from chalicelib.api.observability import correlate_requests
from chalicelib.api.routing import answer_errors
from chalicelib.events import mail_feedback, schedules, sender, stream
from chalicelib.store.models import bound_tables

app = Chalice(app_name="nps-backend")
app.register_middleware(bound_tables, "all")
app.register_middleware(correlate_requests, "http")
app.register_middleware(answer_errors, "http")  # inside correlate_requests: its headers reach every error

BLUEPRINTS = (
    auth,
    capture,
    widget_strings,
    surveys,
    responses,
    imports,
    accounts,
    tasks,
    contacts,
    invitations,
    waves,
    metrics,
    admin_tokens,
    docs,
    stream,
    schedules,
    sender,
    mail_feedback,
)
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint.bp)
