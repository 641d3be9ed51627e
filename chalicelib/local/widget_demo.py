"""The local stack's widget demo: a page of the stack's own origin that embeds the widget."""

from __future__ import annotations

from html import escape

from chalicelib.api.pages import _doc


def widget_demo_page(base_url: str, survey_id: str, question: str) -> str:
    snippet = (
        f'<script src="{escape(base_url)}/widget.js" data-survey="{escape(survey_id)}" '
        f'data-api="{escape(base_url)}" data-question="{escape(question)}" async></script>'
    )
    body = (
        "<h1>Widget demo</h1><p>This page embeds the widget with the snippet below.</p>"
        f"<pre>{escape(snippet)}</pre>" + snippet
    )
    return _doc("Widget demo", body)
