"""The words of the widget (api/widget.js), built in for English, German, French and Spanish; the widget asks for
them (`GET /v1/surveys/{survey_id}/widget-strings`, api/widget_strings.py) before it shows its card, and keeps a
copy of these built-in ones for when that answer fails. A survey may replace any of them per language, in the
same Survey.strings as the page's; the texts the widget shares with the page (the scale, Send, the thanks) are
the page's own keys, so one override changes both.

`widget_strings` answers in the widget's own names (label, question, scale, low, high, close, recorded, more,
send, thanks, failed). No text has a placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.domain import languages, page_text

ENGLISH: dict[str, str] = {
    "widget_label": "Feedback",
    "widget_close": "Close",
    "widget_recorded": "Thank you! Your score is recorded.",
    "widget_more": "Anything you would like to add? (optional)",
    "widget_failed": "Sorry, your answer could not be sent. Please try again.",
}
GERMAN: dict[str, str] = {
    "widget_label": "Feedback",
    "widget_close": "Schließen",
    "widget_recorded": "Vielen Dank! Ihre Bewertung wurde erfasst.",
    "widget_more": "Möchten Sie noch etwas ergänzen? (optional)",
    "widget_failed": "Ihre Antwort konnte leider nicht gesendet werden. Bitte versuchen Sie es erneut.",
}
FRENCH: dict[str, str] = {
    "widget_label": "Votre avis",
    "widget_close": "Fermer",
    "widget_recorded": "Merci\u00a0! Votre note a bien été enregistrée.",
    "widget_more": "Souhaitez-vous ajouter quelque chose\u00a0? (facultatif)",
    "widget_failed": "Désolés, votre réponse n\u2019a pas pu être envoyée. Veuillez réessayer.",
}
SPANISH: dict[str, str] = {
    "widget_label": "Su opinión",
    "widget_close": "Cerrar",
    "widget_recorded": "¡Gracias! Hemos registrado su puntuación.",
    "widget_more": "¿Desea añadir algo más? (opcional)",
    "widget_failed": "Lo sentimos, no se ha podido enviar su respuesta. Inténtelo de nuevo.",
}
BUILT_IN: dict[str, dict[str, str]] = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH, "es": SPANISH}
KEYS = tuple(ENGLISH)
PLACEHOLDERS: dict[str, frozenset[str]] = {key: frozenset() for key in KEYS}
# The widget's name for each string → the key it is kept under.
WIDGET_NAMES: dict[str, str] = {
    "label": "widget_label",
    "scale": "scale_label",
    "low": "scale_low",
    "high": "scale_high",
    "close": "widget_close",
    "recorded": "widget_recorded",
    "more": "widget_more",
    "send": "send",
    "thanks": "thanks",
    "failed": "widget_failed",
}


def widget_strings(
    question: str | None,
    custom: Mapping[str, object] | None,
    requested: str | list[str] | None = None,
    default_language: str | None = None,
) -> dict[str, str]:
    """The widget's strings for a browser asking for `requested`, in the widget's names, plus `lang` and `dir`."""
    chosen = page_text.choose_language(question, custom, requested, default_language)
    chain = languages.chain(chosen, default_language)
    given = languages.overrides(custom, default_language)
    own = languages.resolve(BUILT_IN, given, chain, KEYS)
    shared = languages.resolve(page_text.BUILT_IN, given, chain, page_text.DEFAULTS)
    both = {**shared, **own}
    out = {name: both[key] for name, key in WIDGET_NAMES.items()}
    out["question"] = page_text.question_in(question, custom, chosen, default_language)
    return {**out, "lang": chosen, "dir": languages.direction(chosen)}
