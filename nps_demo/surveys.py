"""The demo's four surveys, the drivers each theme points to, and how each survey's scores and channels lean."""

from __future__ import annotations

SURVEYS = (
    {
        "key": "relationship",
        "name": "Quarterly relationship NPS",
        "kind": "relationship",
        "touchpoint": None,
        "question": "How likely are you to recommend us to a friend or colleague?",
        "drivers": ["Product quality", "Reliability", "Ease of use", "Features", "Customer support", "Value for money"],
        "throttle_days": 80,
    },
    {
        "key": "onboarding",
        "name": "Onboarding NPS",
        "kind": "transactional",
        "touchpoint": "onboarding",
        "question": "After getting started with us, how likely are you to recommend us to a friend or colleague?",
        "drivers": ["Setup", "Training", "Documentation", "Time to value"],
        "throttle_days": 30,
    },
    {
        "key": "support",
        "name": "Support ticket NPS",
        "kind": "transactional",
        "touchpoint": "support",
        "question": (
            "Based on your recent support request, how likely are you to recommend us to a friend or colleague?"
        ),
        "drivers": ["Response time", "Resolution", "Agent knowledge", "Communication"],
        "throttle_days": 14,
    },
    {
        "key": "renewal",
        "name": "Renewal NPS",
        "kind": "transactional",
        "touchpoint": "renewal",
        "question": "Now that your renewal is done, how likely are you to recommend us to a friend or colleague?",
        "drivers": ["Value for money", "Contract terms", "Account management", "Product roadmap"],
        "throttle_days": 180,
    },
)
SURVEY_KEYS = tuple(s["key"] for s in SURVEYS)

# The driver a respondent ticks for the theme of their comment, per survey.
THEME_DRIVER = {
    "relationship": {
        "product quality": "Product quality",
        "reliability": "Reliability",
        "usability": "Ease of use",
        "features": "Features",
        "support": "Customer support",
        "price": "Value for money",
        "billing": "Value for money",
    },
    "onboarding": {"onboarding": "Setup", "usability": "Training", "support": "Documentation"},
    "support": {"support": "Resolution", "reliability": "Resolution", "product quality": "Resolution"},
    "renewal": {
        "price": "Value for money",
        "billing": "Contract terms",
        "support": "Account management",
        "features": "Product roadmap",
    },
}
# Score shift, score noise and channel weights (email, widget, api, phone) by survey.
SURVEY_SCORE = {"relationship": (0.0, 1.2), "onboarding": (0.4, 1.2), "support": (-0.4, 1.8), "renewal": (-0.3, 1.2)}
CHANNELS = ("email", "widget", "api", "phone")
CHANNEL_WEIGHTS = {
    "relationship": (75, 15, 5, 5),
    "onboarding": (70, 10, 5, 15),
    "support": (55, 30, 10, 5),
    "renewal": (55, 5, 5, 35),
}
