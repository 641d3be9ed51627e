"""The words of the survey email, built in for English, German, French and Spanish. A survey may replace any
of them per language, in the same Survey.strings as the page's (`page_text`): `{"de": {"subject": "..."}}`.
The scale's ends (`scale_low`, `scale_high`) are the page's, so one override changes both.

Placeholders: `{name}` in `greeting_named`, `{score}` in `score_label` (PLACEHOLDERS); no other text has one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.domain import languages, page_text
from chalicelib.domain.languages import Direction

ENGLISH: dict[str, str] = {
    "subject": "One quick question: would you recommend us?",
    "reminder_subject": "A reminder: would you recommend us?",
    # The preview line inbox lists show after the subject; not shown in the message itself.
    "preheader": "Answering takes a single click.",
    "greeting": "Hello,",
    "greeting_named": "Hello {name},",
    "intro": "We would like to know what you think of us. Answering takes a single click.",
    "reminder_intro": "A few days ago we asked for your opinion. If you have a moment, a single click is all it takes.",
    # Above the scores in the text part, which has no buttons.
    "choose": "Choose a score from 0 (not at all likely) to 10 (extremely likely):",
    # Each button's accessible name.
    "score_label": "{score} out of 10",
    "next_step": "On the page that opens, you can change your score and add a comment.",
    "open_page": "Open the survey in your browser",
    "sign_off": "Thank you for your time.",
    "unsubscribe_lead": "Prefer not to receive these surveys?",
    "unsubscribe": "Unsubscribe",
}

GERMAN: dict[str, str] = {
    "subject": "Eine kurze Frage: Würden Sie uns weiterempfehlen?",
    "reminder_subject": "Eine Erinnerung: Würden Sie uns weiterempfehlen?",
    "preheader": "Die Antwort kostet Sie nur einen Klick.",
    "greeting": "Guten Tag,",
    "greeting_named": "Guten Tag {name},",
    "intro": "Wir möchten gern wissen, wie zufrieden Sie mit uns sind. Die Antwort kostet Sie nur einen Klick.",
    "reminder_intro": "Vor einigen Tagen haben wir Sie um Ihre Meinung gebeten. "
    "Wenn Sie einen Moment Zeit haben: Ein Klick genügt.",
    "choose": "Wählen Sie eine Bewertung von 0 (überhaupt nicht wahrscheinlich) bis 10 (äußerst wahrscheinlich):",
    "score_label": "{score} von 10",
    "next_step": "Auf der Seite, die sich dann öffnet, können Sie Ihre Bewertung ändern und einen Kommentar "
    "hinzufügen.",
    "open_page": "Umfrage im Browser öffnen",
    "sign_off": "Vielen Dank für Ihre Zeit.",
    "unsubscribe_lead": "Sie möchten keine Umfragen dieser Art mehr erhalten?",
    "unsubscribe": "Abmelden",
}

FRENCH: dict[str, str] = {
    "subject": "Une petite question\u00a0: nous recommanderiez-vous\u00a0?",
    "reminder_subject": "Petit rappel\u00a0: nous recommanderiez-vous\u00a0?",
    "preheader": "Un seul clic suffit pour répondre.",
    "greeting": "Bonjour,",
    "greeting_named": "Bonjour {name},",
    "intro": "Nous aimerions connaître votre avis sur nos services. Un seul clic suffit pour répondre.",
    "reminder_intro": "Il y a quelques jours, nous vous avons demandé votre avis. "
    "Si vous avez un instant, un seul clic suffit.",
    "choose": "Choisissez une note de 0 (pas du tout probable) à 10 (extrêmement probable)\u00a0:",
    "score_label": "{score} sur 10",
    "next_step": "Sur la page qui s\u2019ouvrira, vous pourrez modifier votre note et ajouter un commentaire.",
    "open_page": "Ouvrir l\u2019enquête dans votre navigateur",
    "sign_off": "Merci pour le temps que vous nous accordez.",
    "unsubscribe_lead": "Vous ne souhaitez plus recevoir ces enquêtes\u00a0?",
    "unsubscribe": "Se désabonner",
}

SPANISH: dict[str, str] = {
    "subject": "Una pregunta rápida: ¿nos recomendaría?",
    "reminder_subject": "Un recordatorio: ¿nos recomendaría?",
    "preheader": "Responder solo le llevará un clic.",
    "greeting": "Hola:",
    "greeting_named": "Hola, {name}:",
    "intro": "Nos gustaría conocer su opinión sobre nosotros. Responder solo le llevará un clic.",
    "reminder_intro": "Hace unos días le pedimos su opinión. Si dispone de un momento, basta con un clic.",
    "choose": "Elija una puntuación de 0 (nada probable) a 10 (extremadamente probable):",
    "score_label": "{score} de 10",
    "next_step": "En la página que se abrirá podrá cambiar su puntuación y añadir un comentario.",
    "open_page": "Abrir la encuesta en su navegador",
    "sign_off": "Gracias por su tiempo.",
    "unsubscribe_lead": "¿Prefiere no recibir más estas encuestas?",
    "unsubscribe": "Darse de baja",
}

BUILT_IN: dict[str, dict[str, str]] = {"en": ENGLISH, "de": GERMAN, "fr": FRENCH, "es": SPANISH}
KEYS = tuple(ENGLISH)
# The page strings the email also shows.
FROM_PAGE = ("scale_low", "scale_high")
PLACEHOLDERS: dict[str, frozenset[str]] = {
    key: frozenset(re.findall(r"\{(\w+)\}", text)) for key, text in ENGLISH.items()
}
MAX_LENGTH = page_text.MAX_LENGTH


@dataclass(frozen=True)
class EmailText:
    """What one survey email says: its language and direction, the question, and every string of KEYS and
    FROM_PAGE (placeholders not yet filled)."""

    language: str
    direction: Direction
    question: str
    strings: dict[str, str]
    # The language each text is in, by key (the question's under page_text.QUESTION_KEY).
    sources: dict[str, str] = field(default_factory=dict)


def email_sources(
    custom: Mapping[str, object] | None,
    language: str | None = None,
    *,
    default_language: str | None = None,
) -> dict[str, tuple[str, str]]:
    """Every email string along the chain from `language`, the survey's own text over the built-in one, with
    the language it is in."""
    chain = languages.chain(language, default_language)
    given = languages.overrides(custom, default_language)
    own = languages.resolve_sources(BUILT_IN, given, chain, KEYS)
    return {**own, **languages.resolve_sources(page_text.BUILT_IN, given, chain, FROM_PAGE)}


def email_strings(
    custom: Mapping[str, object] | None,
    language: str | None = None,
    *,
    default_language: str | None = None,
) -> dict[str, str]:
    """Every email string along the chain from `language`, the survey's own text over the built-in one."""
    found = email_sources(custom, language, default_language=default_language)
    return {key: text for key, (text, _) in found.items()}


def email_text(
    question: str | None,
    custom: Mapping[str, object] | None,
    requested: str | list[str] | None = None,
    default_language: str | None = None,
) -> EmailText:
    """The email for a contact whose language is `requested`:
    `email_text(survey.question, survey.strings, contact.language, survey.language)`. The language is chosen
    as the page's is (`page_text.choose_language`), so the email and the page it links to agree."""
    chosen = page_text.choose_language(question, custom, requested, default_language)
    found = email_sources(custom, chosen, default_language=default_language)
    asked, asked_in = page_text.question_and_language(question, custom, chosen, default_language)
    return EmailText(
        language=chosen,
        direction=languages.direction(chosen),
        question=asked,
        strings={key: text for key, (text, _) in found.items()},
        sources={**{key: tag for key, (_, tag) in found.items()}, page_text.QUESTION_KEY: asked_in},
    )
