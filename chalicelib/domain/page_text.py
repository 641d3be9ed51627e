"""The words of the survey page: built in for English, German, French and Spanish; a survey may replace any of
them per language (Survey.strings) and names its default language (Survey.language). The heading is the
survey's `question`.

Survey.strings has two shapes, which may be mixed (`languages.overrides`): per language,
`{"de": {"send": "Absenden"}, "fr": {...}}`, and the single-language shape of before, `{"send": "Absenden"}`,
which is in the survey's default language (English when it has none).

`{score}` is the only placeholder, and only in the texts that name the score (WITH_SCORE).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.domain import languages
from chalicelib.domain.languages import Direction

DEFAULT_LANGUAGE = languages.DEFAULT_LANGUAGE

DEFAULTS: dict[str, str] = {
    "scale_label": "Your score, 0 (not at all likely) to 10 (extremely likely)",
    "scale_low": "Not at all likely",
    "scale_high": "Extremely likely",
    "comment_label": "What is the main reason for your score?",
    "drivers_label": "What mattered most?",
    "send": "Send",
    "update": "Update",
    # Shown while a score from the email waits for the person to stay on the page (or touch it).
    "score_chosen": "You chose {score}. We will save it in a few seconds; you can still change it.",
    # The page was left open long enough: saved, not yet confirmed by a gesture.
    "score_saved": "Your score of {score} is saved. Tell us more below if you like.",
    # A tap, click or key: recorded at once.
    "score_recorded": "Thank you! Your score of {score} is recorded. Tell us more below if you like.",
    "thanks": "Thank you for your feedback!",
    # The page a form without script lands on.
    "thanks_recorded": "Your score of {score} is recorded.",
    "thanks_heading": "Thank you!",
    "change_answer": "Change your answer or add a comment",
    "choose_score": "Choose a score from 0 to 10 first.",
    "error_heading": "Sorry",
    "error_save": "Your answer could not be saved.",
    "error_network": "Could not reach us; try again.",
    "error_comment": "Your comment is too long: 2,000 characters at most.",
    "error_drivers": "One of the reasons you ticked is not offered by this survey.",
    "error_form": "The form sent something we did not expect; please answer again.",
    "back": "Back to the survey",
}

# German: the polite "Sie".
GERMAN: dict[str, str] = {
    "scale_label": "Ihre Bewertung, von 0 (überhaupt nicht wahrscheinlich) bis 10 (äußerst wahrscheinlich)",
    "scale_low": "Überhaupt nicht wahrscheinlich",
    "scale_high": "Äußerst wahrscheinlich",
    "comment_label": "Was ist der wichtigste Grund für Ihre Bewertung?",
    "drivers_label": "Was war Ihnen am wichtigsten?",
    "send": "Senden",
    "update": "Aktualisieren",
    "score_chosen": "Sie haben {score} gewählt. Wir speichern Ihre Bewertung in wenigen Sekunden; "
    "Sie können sie bis dahin noch ändern.",
    "score_saved": "Ihre Bewertung {score} ist gespeichert. Wenn Sie möchten, können Sie uns unten mehr dazu sagen.",
    "score_recorded": "Vielen Dank! Ihre Bewertung {score} wurde erfasst. "
    "Wenn Sie möchten, können Sie uns unten mehr dazu sagen.",
    "thanks": "Vielen Dank für Ihr Feedback!",
    "thanks_recorded": "Ihre Bewertung {score} wurde erfasst.",
    "thanks_heading": "Vielen Dank!",
    "change_answer": "Antwort ändern oder einen Kommentar hinzufügen",
    "choose_score": "Bitte wählen Sie zuerst eine Bewertung von 0 bis 10.",
    "error_heading": "Das tut uns leid",
    "error_save": "Ihre Antwort konnte nicht gespeichert werden.",
    "error_network": "Wir sind gerade nicht erreichbar. Bitte versuchen Sie es erneut.",
    "error_comment": "Ihr Kommentar ist zu lang: höchstens 2000 Zeichen.",
    "error_drivers": "Einer der angekreuzten Gründe gehört nicht zu dieser Umfrage.",
    "error_form": "Das Formular hat unerwartete Angaben gesendet. Bitte antworten Sie noch einmal.",
    "back": "Zurück zur Umfrage",
}

# French: "vous"; a no-break space (U+00A0) before ? ! : ; and a narrow one (U+202F) between thousands.
FRENCH: dict[str, str] = {
    "scale_label": "Votre note, de 0 (pas du tout probable) à 10 (extrêmement probable)",
    "scale_low": "Pas du tout probable",
    "scale_high": "Extrêmement probable",
    "comment_label": "Quelle est la principale raison de votre note\u00a0?",
    "drivers_label": "Qu\u2019est-ce qui a le plus compté pour vous\u00a0?",
    "send": "Envoyer",
    "update": "Mettre à jour",
    "score_chosen": "Vous avez choisi la note {score}. Nous l\u2019enregistrerons dans quelques secondes\u00a0; "
    "vous pouvez encore la modifier.",
    "score_saved": "Votre note de {score} est enregistrée. Si vous le souhaitez, dites-nous-en plus ci-dessous.",
    "score_recorded": "Merci\u00a0! Votre note de {score} a bien été prise en compte. "
    "Si vous le souhaitez, dites-nous-en plus ci-dessous.",
    "thanks": "Merci pour votre avis\u00a0!",
    "thanks_recorded": "Votre note de {score} a bien été enregistrée.",
    "thanks_heading": "Merci\u00a0!",
    "change_answer": "Modifier votre réponse ou ajouter un commentaire",
    "choose_score": "Veuillez d\u2019abord choisir une note de 0 à 10.",
    "error_heading": "Nous sommes désolés",
    "error_save": "Votre réponse n\u2019a pas pu être enregistrée.",
    "error_network": "Impossible de nous joindre. Veuillez réessayer.",
    "error_comment": "Votre commentaire est trop long\u00a0: 2\u202f000 caractères au maximum.",
    "error_drivers": "L\u2019une des raisons cochées ne fait pas partie de cette enquête.",
    "error_form": "Le formulaire a envoyé des données inattendues. Veuillez répondre à nouveau.",
    "back": "Retour à l\u2019enquête",
}

# Spanish: "usted"; opening ¿ and ¡.
SPANISH: dict[str, str] = {
    "scale_label": "Su puntuación, de 0 (nada probable) a 10 (extremadamente probable)",
    "scale_low": "Nada probable",
    "scale_high": "Extremadamente probable",
    "comment_label": "¿Cuál es el motivo principal de su puntuación?",
    "drivers_label": "¿Qué fue lo más importante para usted?",
    "send": "Enviar",
    "update": "Actualizar",
    "score_chosen": "Ha elegido la puntuación {score}. La guardaremos en unos segundos; aún puede cambiarla.",
    "score_saved": "Su puntuación de {score} se ha guardado. Si lo desea, cuéntenos más a continuación.",
    "score_recorded": "¡Gracias! Hemos registrado su puntuación de {score}. Si lo desea, cuéntenos más a continuación.",
    "thanks": "¡Gracias por su opinión!",
    "thanks_recorded": "Hemos registrado su puntuación de {score}.",
    "thanks_heading": "¡Gracias!",
    "change_answer": "Cambiar su respuesta o añadir un comentario",
    "choose_score": "Elija primero una puntuación de 0 a 10.",
    "error_heading": "Lo sentimos",
    "error_save": "No se ha podido guardar su respuesta.",
    "error_network": "No se ha podido establecer la conexión. Inténtelo de nuevo.",
    "error_comment": "Su comentario es demasiado largo: como máximo 2000 caracteres.",
    "error_drivers": "Uno de los motivos que ha marcado no forma parte de esta encuesta.",
    "error_form": "El formulario ha enviado datos inesperados. Vuelva a responder, por favor.",
    "back": "Volver a la encuesta",
}

BUILT_IN: dict[str, dict[str, str]] = {"en": DEFAULTS, "de": GERMAN, "fr": FRENCH, "es": SPANISH}

# The question a survey asks unless it sets its own (survey_definition.DEFAULT_QUESTION is the English one).
DEFAULT_QUESTIONS: dict[str, str] = {
    "en": "How likely are you to recommend us to a friend or colleague?",
    "de": "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen weiterempfehlen?",
    "fr": "Quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue\u00a0?",
    "es": "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
}
# The key under which a survey gives its question in another language: {"fr": {"question": "..."}}.
QUESTION_KEY = "question"

WITH_SCORE = frozenset({"score_chosen", "score_saved", "score_recorded", "thanks_recorded"})
# The placeholders each text may hold.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    key: frozenset({"score"}) if key in WITH_SCORE else frozenset() for key in DEFAULTS
}
MAX_LENGTH = 300
# A survey's question in another language ({"fr": {"question": ...}}) is as long as its own may be.
QUESTION_MAX_LENGTH = 500


@dataclass(frozen=True)
class PageText:
    """What a survey's page says to one person: the language chosen, its direction, the question, the strings."""

    language: str
    direction: Direction
    question: str
    strings: dict[str, str]
    # The language each text is in, by key (the question's under QUESTION_KEY).
    sources: dict[str, str] = field(default_factory=dict)


def page_strings(
    custom: Mapping[str, object] | None,
    language: str | None = None,
    *,
    default_language: str | None = None,
) -> dict[str, str]:
    """Every page string: along the chain from `language` (then the survey's `default_language`, then
    English), the survey's own text over the built-in one. `page_strings(custom)` is the English defaults with a
    single-language survey's own strings over them, as before."""
    chain = languages.chain(language, default_language)
    return languages.resolve(BUILT_IN, languages.overrides(custom, default_language), chain, DEFAULTS)


def is_default_question(question: str | None) -> bool:
    return not question or question.strip() in DEFAULT_QUESTIONS.values()


def offered(question: str | None, custom: Mapping[str, object] | None, default_language: str | None) -> list[str]:
    """The languages a survey can be read in whole, its question included: its default language; each language
    it gives the question in; every built-in language while it asks the built-in question; and each regional
    form it gives strings for (`de-AT`) of one of those, whose question is that language's."""
    out = [languages.normalize(default_language) or DEFAULT_LANGUAGE]
    given = languages.overrides(custom, default_language)
    out += [tag for tag, texts in given.items() if texts.get(QUESTION_KEY)]
    if is_default_question(question):
        out += list(BUILT_IN)
    whole = {tag.lower() for tag in out}
    out += [tag for tag in given if any(form.lower() in whole for form in languages.shorter_forms(tag)[1:])]
    return list(dict.fromkeys(out))


def choose_language(
    question: str | None,
    custom: Mapping[str, object] | None,
    requested: str | list[str] | None,
    default_language: str | None,
) -> str:
    """The language to speak: the first of the chain (`requested`, its shorter forms, the survey's default, English)
    that the survey is `offered` in, so that a page never mixes a French frame with a question in German."""
    chain = languages.chain(requested, default_language)
    return languages.pick(chain, offered(question, custom, default_language))


def question_and_language(
    question: str | None,
    custom: Mapping[str, object] | None,
    language: str | None,
    default_language: str | None,
) -> tuple[str, str]:
    """The survey's question in `language`, and the language it is in: the survey's own translation; else the
    built-in translation of the built-in question; else the question as the survey states it (in its default
    language)."""
    given = languages.overrides(custom, default_language)
    home_tag = languages.normalize(default_language) or DEFAULT_LANGUAGE
    home = languages.shorter_forms(home_tag)
    default = is_default_question(question)
    for tag in languages.chain(language, default_language):
        own = languages.resolve({}, given, [tag], [QUESTION_KEY])
        if own:
            return own[QUESTION_KEY], tag
        if default and tag in DEFAULT_QUESTIONS:
            return DEFAULT_QUESTIONS[tag], tag
        if question and question.strip() and tag in home:
            return question.strip(), home_tag
    if question and question.strip():
        return question.strip(), home_tag
    return DEFAULT_QUESTIONS[DEFAULT_LANGUAGE], DEFAULT_LANGUAGE


def question_in(
    question: str | None,
    custom: Mapping[str, object] | None,
    language: str | None,
    default_language: str | None,
) -> str:
    """The survey's question in `language` (`question_and_language`)."""
    return question_and_language(question, custom, language, default_language)[0]


def page_text(
    question: str | None,
    custom: Mapping[str, object] | None,
    requested: str | list[str] | None = None,
    default_language: str | None = None,
) -> PageText:
    """Everything the page says to a person who asks for `requested` (a tag, or tags most wanted first):
    `page_text(survey.question, survey.strings, contact_language or preferred(accept_language), survey.language)`.
    `sources` says which language each text is in (the question's under "question"): a survey that gives only
    some strings of a language has the rest in the next language of the chain, which may run the other way."""
    chosen = choose_language(question, custom, requested, default_language)
    chain = languages.chain(chosen, default_language)
    found = languages.resolve_sources(BUILT_IN, languages.overrides(custom, default_language), chain, DEFAULTS)
    asked, asked_in = question_and_language(question, custom, chosen, default_language)
    return PageText(
        language=chosen,
        direction=languages.direction(chosen),
        question=asked,
        strings={key: text for key, (text, _) in found.items()},
        sources={**{key: tag for key, (_, tag) in found.items()}, QUESTION_KEY: asked_in},
    )


def with_score(text: str, score: int) -> str:
    return text.replace("{score}", str(int(score)))
