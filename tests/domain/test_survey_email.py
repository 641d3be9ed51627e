"""The survey email (issue 13 item 2): subject, HTML part, text part and the RFC 8058 headers, and the MIME
message the sender hands to SES v2; read back with the standard library's parser, as a mail client would."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from html.parser import HTMLParser

import pytest

from chalicelib.domain import email_text, page_text, survey_email

BASE = "https://nps.example.com"
SCORE_LINKS = [f"{BASE}/s/tok-{n}?score={n}" for n in range(11)]
PAGE = f"{BASE}/s/tok-page"
UNSUBSCRIBE = f"{BASE}/u/unsub-tok"
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
ARABIC = {"ar": {"question": "ما مدى احتمال أن توصي بنا لصديق أو زميل؟", "send": "إرسال"}}


def render(text=None, **kwargs):
    text = text or email_text.email_text(page_text.DEFAULT_QUESTIONS["en"], None, "en")
    options = {"score_links": SCORE_LINKS, "page_link": PAGE, "unsubscribe_link": UNSUBSCRIBE, **kwargs}
    return survey_email.render_survey_email(text, **options)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def hrefs(html: str) -> list[str]:
    return [attrs["href"] for tag, attrs in parse(html).tags if tag == "a"]


def test_the_mime_message_parses_back_with_both_parts_and_the_headers():
    email = render(name="Anna Schmidt")
    message = survey_email.mime_message(
        email,
        sender="Acme Surveys <surveys@acme.example>",
        to="anna@example.org",
        to_name="Anna Schmidt",
        reply_to="support@acme.example",
        date=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        message_id="<abc@nps.example.com>",
    )
    raw = message.as_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "CRLF line ends throughout"
    back = message_from_bytes(raw, policy=policy.default)
    assert back.get_content_type() == "multipart/alternative"
    parts = list(back.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"], "text first, HTML last"
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content().replace("\r\n", "\n") == email.text
    assert parts[1].get_content().replace("\r\n", "\n") == email.html
    assert back["Subject"] == "One quick question: would you recommend us?"
    assert back["From"].addresses[0].addr_spec == "surveys@acme.example"
    assert back["To"].addresses[0].display_name == "Anna Schmidt"
    assert back["To"].addresses[0].addr_spec == "anna@example.org"
    assert back["Reply-To"] == "support@acme.example"
    assert back["Date"].datetime == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    assert back["Message-ID"] == "<abc@nps.example.com>"
    assert back["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert back["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert back["Content-Language"] == "en"
    assert back["MIME-Version"] == "1.0"


def test_non_ascii_subjects_and_names_are_encoded_and_read_back():
    text = email_text.email_text(None, None, "fr")
    message = survey_email.mime_message(
        render(text, name="Élodie Dupré"), sender="Acmé <s@acme.example>", to="e@example.org", to_name="Élodie Dupré"
    )
    raw = message.as_bytes()
    assert raw.isascii(), "7-bit on the wire: encoded words and quoted-printable"
    back = message_from_bytes(raw, policy=policy.default)
    assert back["Subject"] == "Une petite question\u00a0: nous recommanderiez-vous\u00a0?"
    assert back["To"].addresses[0].display_name == "Élodie Dupré"
    assert back["Content-Language"] == "fr"
    text_part, html_part = back.iter_parts()
    assert "Bonjour Élodie Dupré," in text_part.get_content()
    assert "Bonjour Élodie Dupré," in html_part.get_content()


def test_the_unsubscribe_headers_follow_rfc_8058():
    assert survey_email.unsubscribe_headers(UNSUBSCRIBE) == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    for bad in ("mailto:x@example.org", "javascript:alert(1)", f"{UNSUBSCRIBE}>, <https://evil", "/u/relative"):
        with pytest.raises(ValueError):
            survey_email.unsubscribe_headers(bad)


def test_every_score_link_is_in_each_part_once_and_the_page_and_unsubscribe_links_too():
    email = render(name="Anna")
    links = hrefs(email.html)
    for n, url in enumerate(SCORE_LINKS):
        assert links.count(url) == 1, n
        assert len(re.findall(re.escape(url) + r"(?![0-9])", email.text)) == 1, n
    assert links.count(PAGE) == 1 and links.count(UNSUBSCRIBE) == 1
    assert email.text.count(PAGE) == 1 and email.text.count(UNSUBSCRIBE) == 1
    assert len(links) == 13, "the 11 scores, the page and the unsubscribe link: nothing else"
    # In score order, each an <a> with its digit, inside a presentation table.
    buttons = [attrs for tag, attrs in parse(email.html).tags if tag == "a" and "nps-btn-a" in attrs.get("class", "")]
    assert [b["href"] for b in buttons] == SCORE_LINKS
    assert [b["aria-label"] for b in buttons] == [f"{n} out of 10" for n in range(11)]
    lines = email.text.splitlines()
    assert f"0 out of 10 (Not at all likely): {SCORE_LINKS[0]}" in lines
    assert f"7 out of 10: {SCORE_LINKS[7]}" in lines
    assert f"10 out of 10 (Extremely likely): {SCORE_LINKS[10]}" in lines
    assert f"Unsubscribe: {UNSUBSCRIBE}" in lines
    assert page_text.DEFAULT_QUESTIONS["en"] in lines


def test_the_html_is_for_mail_clients():
    email = render()
    html = email.html
    tags = parse(html).tags
    tables = [attrs for tag, attrs in tags if tag == "table"]
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert all("cellpadding" in t and "cellspacing" in t and "border" in t for t in tables)
    assert not re.search(r"display\s*:\s*(flex|grid)|<(script|form|input|button|img|svg)\b", html, re.IGNORECASE)
    assert 'bgcolor="#1d4ed8"' in html and "<!--[if mso]>" in html, "Outlook: bgcolor and a fixed-width frame"
    meta = {attrs.get("name"): attrs.get("content") for tag, attrs in tags if tag == "meta"}
    assert meta["color-scheme"] == "light dark" and meta["viewport"].startswith("width=device-width")
    assert "@media (prefers-color-scheme:dark)" in html
    html_tag = next(attrs for tag, attrs in tags if tag == "html")
    assert (html_tag["lang"], html_tag["dir"]) == ("en", "ltr")
    shown = " ".join(parse(html).text)
    for words in ("Not at all likely", "Extremely likely", "Prefer not to receive these surveys?", "Unsubscribe"):
        assert words in shown
    assert "Answering takes a single click." in shown, "the preheader (hidden), then the intro"


def test_a_hostile_name_and_question_are_escaped_everywhere():
    text = email_text.email_text(HOSTILE, {"subject": 'Hi "there" <b>', "intro": "<i>&amp;</i>"}, "en")
    email = render(text, name=HOSTILE + "\r\nBcc: victim@example.org")
    for part in (email.html,):
        assert "<script" not in part and "<img" not in part and "<b>" not in part and "<i>" not in part
        assert "onerror=alert(1)&gt;" in part and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in part
        assert "&lt;i&gt;&amp;amp;&lt;/i&gt;" in part
    shown = "".join(parse(email.html).text)
    assert HOSTILE in shown, "escaped once: the person reads the text as given"
    assert "\r" not in email.text and "Bcc:" in email.text.splitlines()[0], "the name stays on its greeting line"
    message = survey_email.mime_message(
        email, sender="s@acme.example", to="a@example.org", to_name=HOSTILE + "\nBcc: x@y"
    )
    back = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert back["Bcc"] is None and len(back["To"].addresses) == 1
    assert back["Subject"] == 'Hi "there" <b>'
    for url in ('https://x.example/"><script>', "javascript:alert(1)", "https://x.example/a b"):
        with pytest.raises(ValueError):
            render(score_links=[*SCORE_LINKS[:10], url])
    with pytest.raises(ValueError, match="11 score links"):
        render(score_links=SCORE_LINKS[:10])


def test_right_to_left_for_arabic():
    text = email_text.email_text(page_text.DEFAULT_QUESTIONS["en"], ARABIC, "ar-EG")
    assert (text.language, text.direction) == ("ar", "rtl")
    email = render(text)
    tags = parse(email.html).tags
    html_tag = next(attrs for tag, attrs in tags if tag == "html")
    assert (html_tag["lang"], html_tag["dir"]) == ("ar", "rtl")
    assert 'dir="rtl"' in email.html.split("<body", 1)[1], "the body says so too (Gmail drops <html>)"
    heading = next(attrs for tag, attrs in tags if tag == "h1")
    assert "lang" not in heading and "text-align:right" in heading["style"]
    # The texts the survey left to English run left to right inside the Arabic email.
    intro = next(attrs for tag, attrs in tags if tag == "p" and attrs.get("lang") == "en")
    assert intro["dir"] == "ltr"
    assert email.headers["Content-Language"] == "ar"


def test_a_reminder_has_its_own_subject_and_intro_and_german_is_german():
    text = email_text.email_text(None, {"de": {"reminder_subject": "Erinnerung von Acme"}}, "de-AT")
    email = render(text, reminder=True)
    assert email.subject == "Erinnerung von Acme"
    assert email_text.GERMAN["reminder_intro"] in email.text and email_text.GERMAN["intro"] not in email.text
    assert "Guten Tag," in email.text and "3 von 10: " in email.text
    assert render(text).subject == email_text.GERMAN["subject"]
