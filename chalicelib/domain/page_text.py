"""The words of the survey page, in English by default; a survey may replace any of them (Survey.strings) for
its language (Survey.language). The heading is the survey's `question`.

`{score}` is the only placeholder, and only in the texts that name the score.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_LANGUAGE = "en"

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
WITH_SCORE = frozenset({"score_chosen", "score_saved", "score_recorded", "thanks_recorded"})
MAX_LENGTH = 300


def page_strings(custom: Mapping[str, object] | None) -> dict[str, str]:
    """The defaults with a survey's own strings over them."""
    given = {k: v for k, v in (custom or {}).items() if k in DEFAULTS and isinstance(v, str) and v}
    return {**DEFAULTS, **given}


def with_score(text: str, score: int) -> str:
    return text.replace("{score}", str(int(score)))
