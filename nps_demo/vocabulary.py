"""The demo's words: comment sentences by theme and category, with their openers and the themes' weights per
survey. Plain data; the comments (nps_demo/comments.py) are drawn from it; company and person names are in
nps_demo/names.py."""

# ---- comments -----------------------------------------------------------------------------------------------

THEMES = ("price", "support", "onboarding", "product quality", "reliability", "usability", "billing", "features")
PRAISE = {
    "price": [
        "Great value for money.",
        "The pricing is fair for what we get.",
        "Affordable compared to the alternatives we looked at.",
        "Worth the money, it paid for itself in a quarter.",
    ],
    "support": [
        "Support is fast and friendly.",
        "The support team solved our ticket the same day.",
        "Our account manager is proactive and really knows our business.",
        "Customer service is excellent, always quick to respond.",
    ],
    "onboarding": [
        "Onboarding was smooth and well organised.",
        "Setup took less than a day thanks to the great documentation.",
        "The training sessions got the whole team productive in the first week.",
        "Migration from our old tool was painless.",
    ],
    "product quality": [
        "Solid product, it just works.",
        "A polished, well built product.",
        "The quality keeps getting better with every release.",
        "Great product overall.",
    ],
    "reliability": [
        "Rock solid uptime, we have not had an outage in months.",
        "Very reliable, even at our peak volumes.",
        "Performance is excellent and stable.",
        "Never had to worry about downtime.",
    ],
    "usability": [
        "Easy to use, the whole team picked it up quickly.",
        "The interface is clean and intuitive.",
        "Simple to navigate, everything is where you expect it.",
        "Really user friendly.",
    ],
    "billing": [
        "Billing is clear and invoices are always correct.",
        "Payment and invoice handling is hassle-free.",
        "The subscription terms are transparent.",
    ],
    "features": [
        "The reporting dashboard saves me hours every week.",
        "Love the integrations with our CRM.",
        "The automation features are a game changer for our workflow.",
        "The API is well designed and easy to integrate.",
    ],
}
COMPLAINTS = {
    "price": [
        "Too expensive for what it does.",
        "The price increase at renewal was hard to justify.",
        "Not worth the money anymore.",
        "Pricing is confusing and keeps going up.",
        "We are looking at cheaper alternatives because of the cost.",
    ],
    "support": [
        "Support takes days to answer a ticket.",
        "I opened a ticket two weeks ago and never got a reply.",
        "The support team keeps escalating without solving anything.",
        "Customer service was unresponsive when we had an urgent problem.",
        "We never hear from our account manager.",
    ],
    "onboarding": [
        "Onboarding was chaotic and took far too long.",
        "Setup was painful and the documentation is out of date.",
        "There was no real training, we had to figure it out ourselves.",
        "The migration lost half of our historical data.",
    ],
    "product quality": [
        "Too many bugs in every release.",
        "Half of the new features feel half-baked.",
        "The export is broken again.",
        "Half the time things are not working as advertised.",
        "Quality has gone downhill this year.",
    ],
    "reliability": [
        "Another outage this month, the third one this quarter.",
        "The app is slow and times out during our busiest hours.",
        "We had downtime right before a customer demo.",
        "Unreliable sync, we keep seeing errors.",
        "Performance is sluggish with larger data sets.",
    ],
    "usability": [
        "The interface is confusing and clunky.",
        "Hard to use, simple tasks take too many clicks.",
        "Navigation is unintuitive for new users.",
        "The new layout is complicated and cumbersome.",
    ],
    "billing": [
        "We were double charged and the refund took a month.",
        "The invoice never matches our contract.",
        "Billing errors every quarter.",
        "We tried to cancel an unused seat and it took three calls.",
    ],
    "features": [
        "Missing basic reporting that competitors have.",
        "The integration with our ERP is still missing.",
        "We asked for custom fields a year ago and it is still not on the roadmap.",
        "Lacks a proper mobile app.",
        "Would love better export options.",
    ],
}
PROMOTER_OPENERS = ("", "", "Love it! ", "Great experience overall. ", "Very happy. ", "Highly recommend. ")
PASSIVE_OPENERS = ("", "It's okay. ", "Decent overall. ", "Mostly fine. ")
DETRACTOR_OPENERS = ("", "", "Very disappointed. ", "Frustrating experience. ", "Honestly, ", "Not happy. ")
PASSIVE_JOINERS = (" But ", " However, ", " On the other hand, ")
# Themes a comment is about, by survey (weights in THEMES order); an account's own pain theme comes first.
THEME_WEIGHTS = {
    "relationship": (3, 3, 1, 3, 3, 3, 1, 3),
    "onboarding": (1, 2, 8, 1, 1, 3, 1, 1),
    "support": (1, 10, 1, 2, 2, 1, 1, 1),
    "renewal": (8, 2, 0, 1, 1, 1, 4, 3),
}
