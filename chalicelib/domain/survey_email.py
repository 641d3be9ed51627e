"""The survey email (issue 13 item 2): its subject, an HTML part, a text part and the one-click unsubscribe
headers, then the whole MIME message that the sender hands to SES v2 as raw content.

The HTML is written for mail clients, not browsers: tables with role="presentation" for layout (Outlook's
Word engine knows no flexbox, grid or max-width), bgcolor attributes beside inline styles, the 11 scores as
plain links (no script, no form, no image), a `color-scheme` meta and `prefers-color-scheme` rules for clients
with a dark mode, and colours that keep their contrast when a client inverts them itself. Every value put into
it is HTML-escaped. Words come from `email_text` (the survey's own over the built-in ones).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from urllib.parse import urlsplit

from chalicelib.domain import languages
from chalicelib.domain.email_text import EmailText
from chalicelib.domain.languages import Direction
from chalicelib.domain.page_text import QUESTION_KEY

SCORES = range(11)
MAX_NAME = 100

# Colours: light, and the dark scheme's. White on the button blue is 6.7:1 (dark: 5.7:1); the text colours are
# at least 7:1 on their card. A client that inverts colours itself keeps a mid blue with white digits.
LIGHT = {"page": "#f4f5f7", "card": "#ffffff", "text": "#1a1f2b", "muted": "#4b5563", "link": "#1d4ed8"}
BUTTON = {"fill": "#1d4ed8", "border": "#1d4ed8", "text": "#ffffff"}
DARK = {"page": "#0f1115", "card": "#1b1f27", "text": "#e8eaed", "muted": "#b8bec9", "link": "#8ab4f8"}
DARK_BUTTON = {"fill": "#2f5fd0", "border": "#7fa6ff", "text": "#ffffff"}
FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"

ONE_CLICK = "List-Unsubscribe=One-Click"
# Control characters, line breaks and runs of plain spaces (not the no-break spaces French needs).
_BREAKS = re.compile(r"[\x00-\x20\x7f\x85\u2028\u2029]+")


@dataclass(frozen=True)
class SurveyEmail:
    """One rendered survey email: what `mime_message` needs, and what the local outbox shows."""

    subject: str
    html: str
    text: str
    # The extra headers: List-Unsubscribe and List-Unsubscribe-Post (RFC 8058), Content-Language.
    headers: dict[str, str]
    language: str
    direction: Direction


def _link(url: str, what: str) -> str:
    """An absolute http(s) URL fit for an href and a header, else ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or re.search(r"[\s<>\"'\\]", url):
        raise ValueError(f"{what} must be an absolute http(s) URL, not {url!r}")
    return url


def clean_name(name: str | None) -> str:
    """A contact's name fit for a greeting and a To header: control characters and line breaks become spaces,
    runs of spaces one, at most MAX_NAME characters."""
    if not name:
        return ""
    return _one_line(name)[:MAX_NAME].strip(" ")


def _one_line(text: str) -> str:
    return _BREAKS.sub(" ", text).strip(" ")


def unsubscribe_headers(unsubscribe_link: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: the link in List-Unsubscribe, and List-Unsubscribe-Post saying that a
    POST of `List-Unsubscribe=One-Click` to it unsubscribes. (RFC 8058 wants the link to be https.)"""
    return {
        "List-Unsubscribe": f"<{_link(unsubscribe_link, 'the unsubscribe link')}>",
        "List-Unsubscribe-Post": ONE_CLICK,
    }


def _colon(language: str) -> str:
    """A label's colon: French sets a no-break space before it."""
    return "\u00a0:" if language.split("-")[0].lower() == "fr" else ":"


def _button(score: int, url: str, label: str) -> str:
    e = escape
    return (
        f'<td class="nps-btn" align="center" valign="middle" width="9%" bgcolor="{BUTTON["fill"]}" '
        f'style="background-color:{BUTTON["fill"]};border:1px solid {BUTTON["border"]};border-radius:6px;'
        f'mso-padding-alt:12px 0">'
        f'<a class="nps-btn-a" href="{e(url)}" target="_blank" aria-label="{e(label)}" title="{e(label)}" '
        f'style="display:block;padding:12px 0;font-family:{FONT};font-size:16px;line-height:20px;font-weight:700;'
        f'color:{BUTTON["text"]};text-decoration:none;text-align:center">{score}</a></td>'
    )


def _style() -> str:
    d, b = DARK, DARK_BUTTON
    dark_rules = (
        f".nps-page{{background-color:{d['page']} !important}}"
        f".nps-card{{background-color:{d['card']} !important}}"
        f".nps-text{{color:{d['text']} !important}}"
        f".nps-muted{{color:{d['muted']} !important}}"
        f".nps-link{{color:{d['link']} !important}}"
        f".nps-btn{{background-color:{b['fill']} !important;border-color:{b['border']} !important}}"
        f".nps-btn-a{{color:{b['text']} !important}}"
    )
    # Outlook.com marks its dark mode with data-ogsc (text) and data-ogsb (background) on its wrapper.
    outlook = (
        f"[data-ogsb] .nps-page{{background-color:{d['page']} !important}}"
        f"[data-ogsb] .nps-card{{background-color:{d['card']} !important}}"
        f"[data-ogsc] .nps-text{{color:{d['text']} !important}}"
        f"[data-ogsc] .nps-muted{{color:{d['muted']} !important}}"
        f"[data-ogsc] .nps-link{{color:{d['link']} !important}}"
        f"[data-ogsb] .nps-btn{{background-color:{b['fill']} !important}}"
        f"[data-ogsc] .nps-btn-a{{color:{b['text']} !important}}"
    )
    return (
        ":root{color-scheme:light dark;supported-color-schemes:light dark}"
        "body{margin:0;padding:0;width:100% !important;-webkit-text-size-adjust:100%;-ms-text-size-adjust:100%}"
        "table{border-collapse:separate;mso-table-lspace:0;mso-table-rspace:0}"
        "a{text-decoration:underline}"
        ".nps-btn-a{text-decoration:none !important}"
        "@media screen and (max-width:480px){.nps-outer{padding:12px 6px !important}"
        ".nps-inner{padding:24px 16px !important}.nps-q{font-size:19px !important;line-height:26px !important}}"
        f"@media (prefers-color-scheme:dark){{{dark_rules}}}"
        f"{outlook}"
    )


def render_survey_email(
    text: EmailText,
    *,
    score_links: Sequence[str],
    page_link: str,
    unsubscribe_link: str,
    name: str | None = None,
    reminder: bool = False,
) -> SurveyEmail:
    """The email asking one contact the survey's question. `text` is `email_text.email_text(...)` for the
    contact; `score_links[n]` answers with score n (11 links, 0 to 10); `page_link` opens the survey without
    a score; `unsubscribe_link` is the contact's `/u/{token}`. A reminder has its own subject and intro."""
    links = [_link(url, f"score link {n}") for n, url in enumerate(score_links)]
    if len(links) != len(SCORES):
        raise ValueError(f"an email needs 11 score links (0 to 10), not {len(links)}")
    page = _link(page_link, "the page link")
    unsubscribe = _link(unsubscribe_link, "the unsubscribe link")
    s = text.strings
    lang, rtl = text.language, text.direction == "rtl"
    start, end = ("right", "left") if rtl else ("left", "right")
    who = clean_name(name)
    greeting = s["greeting_named"].replace("{name}", who) if who else s["greeting"]
    subject = _one_line(s["reminder_subject" if reminder else "subject"])
    intro = s["reminder_intro" if reminder else "intro"]
    question = text.question
    e = escape
    c = LIGHT

    def own(key: str) -> str:
        """lang (and dir) for a text in another language than the email's: a survey that gives only some strings
        of a language has the rest in the next language of the chain, which may run the other way."""
        tag = text.sources.get(key)
        if not tag or tag.lower() == lang.lower():
            return ""
        way = languages.direction(tag)
        return f' lang="{e(tag)}"' + (f' dir="{way}"' if way != text.direction else "")

    def para(key: str, content: str, *, muted: bool = False, size: int = 16, last: bool = False) -> str:
        cls, color = ("nps-muted", c["muted"]) if muted else ("nps-text", c["text"])
        return (
            f'<p class="{cls}"{own(key)} style="margin:0 0 {0 if last else 16}px 0;font-family:{FONT};'
            f'font-size:{size}px;line-height:1.5;color:{color};text-align:{start}">{content}</p>'
        )

    def end_label(key: str, align: str) -> str:
        return (
            f'<td class="nps-muted"{own(key)} width="50%" align="{align}" valign="top" style="padding:4px 3px 0 3px;'
            f'font-family:{FONT};font-size:13px;line-height:18px;color:{c["muted"]};text-align:{align}">'
            f"{e(s[key])}</td>"
        )

    buttons = "".join(_button(n, links[n], s["score_label"].replace("{score}", str(n))) for n in SCORES)
    scale = (
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="3" border="0" '
        'style="width:100%;table-layout:fixed;margin:0 0 4px 0">'
        f"<tr>{buttons}</tr></table>"
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%">'
        f"<tr>{end_label('scale_low', start)}{end_label('scale_high', end)}</tr></table>"
    )
    link_style = f"color:{c['link']};text-decoration:underline"
    page_anchor = f'<a class="nps-link" href="{e(page)}" target="_blank" style="{link_style}">{e(s["open_page"])}</a>'
    body = (
        para("greeting_named" if who else "greeting", e(greeting))
        + para("reminder_intro" if reminder else "intro", e(intro))
        + f'<h1 class="nps-text nps-q"{own(QUESTION_KEY)} style="margin:24px 0 20px 0;font-family:{FONT};'
        f'font-size:21px;line-height:28px;font-weight:700;color:{c["text"]};text-align:{start}">{e(question)}</h1>'
        + scale
        + '<div style="height:24px;line-height:24px;font-size:1px">&nbsp;</div>'
        + para("next_step", e(s["next_step"]), muted=True, size=14)
        + para("open_page", page_anchor, size=15)
        + para("sign_off", e(s["sign_off"]), last=True)
    )
    # The footer's two texts in one language take its lang and dir together, so that they keep their order.
    together = text.sources.get("unsubscribe_lead") == text.sources.get("unsubscribe")
    lead_attrs, link_attrs = ("", "") if together else (own("unsubscribe_lead"), own("unsubscribe"))
    footer = (
        f'<p class="nps-muted"{own("unsubscribe") if together else ""} style="margin:0;font-family:{FONT};'
        f'font-size:13px;line-height:1.5;color:{c["muted"]};text-align:center">'
        f"<span{lead_attrs}>{e(s['unsubscribe_lead'])}</span> "
        f'<a class="nps-link"{link_attrs} href="{e(unsubscribe)}" target="_blank" style="{link_style}">'
        f"{e(s['unsubscribe'])}</a></p>"
    )
    # Keeps the rest of the body out of the inbox preview after the preheader.
    filler = "&#847;&zwnj;&nbsp;" * 40
    html = (
        "<!doctype html>"
        f'<html lang="{e(lang)}" dir="{text.direction}" xmlns="http://www.w3.org/1999/xhtml">'
        '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge">'
        '<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">'
        '<meta name="format-detection" content="telephone=no,date=no,address=no,email=no">'
        f"<title>{e(subject)}</title>"
        "<!--[if mso]><style>body,table,td,p,a,h1{font-family:Arial,sans-serif !important}</style><![endif]-->"
        f"<style>{_style()}</style></head>"
        f'<body class="nps-page" style="margin:0;padding:0;background-color:{c["page"]}">'
        '<div style="display:none;max-height:0;max-width:0;overflow:hidden;opacity:0;mso-hide:all;font-size:1px;'
        f'line-height:1px">{e(s["preheader"])}{filler}</div>'
        f'<table role="presentation" class="nps-page" lang="{e(lang)}" dir="{text.direction}" width="100%" '
        f'cellpadding="0" cellspacing="0" border="0" bgcolor="{c["page"]}" '
        f'style="width:100%;background-color:{c["page"]}"><tr>'
        '<td class="nps-outer" align="center" style="padding:24px 12px">'
        '<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" '
        'border="0"><tr><td><![endif]-->'
        f'<table role="presentation" class="nps-card" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'bgcolor="{c["card"]}" style="width:100%;max-width:600px;background-color:{c["card"]};border-radius:8px">'
        f'<tr><td class="nps-inner" dir="{text.direction}" style="padding:32px 28px;text-align:{start}">'
        f"{body}</td></tr>"
        "</table>"
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="width:100%;'
        f'max-width:600px"><tr><td dir="{text.direction}" style="padding:20px 12px 8px 12px">{footer}</td></tr></table>'
        "<!--[if mso]></td></tr></table><![endif]-->"
        "</td></tr></table></body></html>\n"
    )
    colon = _colon(lang)
    lines = [greeting, "", intro, "", question, "", s["choose"], ""]
    for n in SCORES:
        label = s["score_label"].replace("{score}", str(n))
        if n == SCORES[0]:
            label += f" ({s['scale_low']})"
        elif n == SCORES[-1]:
            label += f" ({s['scale_high']})"
        lines.append(f"{label}{colon} {links[n]}")
    lines += ["", s["next_step"], f"{s['open_page']}{colon} {page}", "", s["sign_off"], "", "-- "]
    lines += [s["unsubscribe_lead"], f"{s['unsubscribe']}{colon} {unsubscribe}", ""]
    headers = {**unsubscribe_headers(unsubscribe), "Content-Language": lang}
    return SurveyEmail(
        subject=subject,
        html=html,
        text="\n".join(lines),
        headers=headers,
        language=lang,
        direction=text.direction,
    )


def mime_message(
    email: SurveyEmail,
    *,
    sender: str,
    to: str,
    to_name: str | None = None,
    reply_to: str | None = None,
    date: datetime | None = None,
    message_id: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The whole message: multipart/alternative with the text part first and the HTML part last (the one a
    client prefers), both UTF-8, with From ("Name <address>" or an address), To (the contact's cleaned name
    over `to`), Reply-To, Subject and the email's headers. Send it with SES v2 as
    `Content={"Raw": {"Data": message.as_bytes()}}` (CRLF line ends: its policy is email.policy.SMTP). SES adds
    Date and Message-ID when they are not given."""
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = email.subject
    message["From"] = _one_line(sender)
    who = clean_name(to_name)
    address = _one_line(to)
    message["To"] = Address(display_name=who, addr_spec=address) if who else address
    if reply_to:
        message["Reply-To"] = _one_line(reply_to)
    if date is not None:
        message["Date"] = format_datetime(date)
    if message_id:
        message["Message-ID"] = _one_line(message_id)
    message.set_content(email.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the parts: making the message multipart would move Content-* headers (Content-Language) into one.
    for key, value in {**email.headers, **(extra_headers or {})}.items():
        del message[key]
        message[key] = _one_line(value)
    return message
