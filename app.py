"""The NPS backend's Chalice app: a table of contents. Routes and event handlers live in chalicelib."""

from chalice import Chalice

from chalicelib.api import (
    accounts,
    admin_tokens,
    auth,
    capture,
    contacts,
    imports,
    metrics,
    responses,
    surveys,
    tasks,
)
from chalicelib.api.observability import correlate_requests
from chalicelib.events import schedules, stream

app = Chalice(app_name="nps-backend")
app.experimental_feature_flags.update({"BLUEPRINTS"})
app.register_middleware(correlate_requests, "http")

BLUEPRINTS = (
    auth,
    capture,
    surveys,
    responses,
    imports,
    accounts,
    tasks,
    contacts,
    metrics,
    admin_tokens,
    stream,
    schedules,
)
for blueprint in BLUEPRINTS:
    app.register_blueprint(blueprint.bp)
