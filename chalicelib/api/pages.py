"""The public HTML pages and the widget script. Self-contained: inline CSS and script, no third-party asset,
usable on a phone, with a plain form that works when script is off.

The inline style and script never change per request (what varies rides in data attributes), so their
SHA-256 hashes, computed once here, let the Content-Security-Policy allow exactly them and nothing inline else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from html import escape
from pathlib import Path

from chalicelib.domain import page_text
from chalicelib.domain.errors import Invalid

STYLE = """
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;
background:#f6f7f9;color:#1d2433}main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.35rem;line-height:1.3}fieldset{border:0;padding:0;margin:0 0 1rem;min-width:0}
legend{font-weight:600;margin-bottom:.5rem}
.scale{display:grid;grid-template-columns:repeat(11,minmax(0,1fr));gap:.3rem}
.scale label{display:block;min-width:0;position:relative}
.scale input{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.scale span{display:block;text-align:center;padding:.7rem 0;border:2px solid #6b7588;border-radius:.4rem;
background:#fff;cursor:pointer;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.scale input:checked+span{background:#1f4fd1;color:#fff;border-color:#1f4fd1}
.scale input:focus-visible+span{outline:3px solid #b35c00;outline-offset:2px}
.ends{display:flex;justify-content:space-between;gap:1rem;font-size:.85rem;color:#4a5568;margin-top:.3rem}
.ends span:last-child{text-align:right}
textarea{width:100%;min-height:6rem;font:inherit;padding:.5rem;border:1px solid #6b7588;border-radius:.4rem}
button{font:inherit;font-weight:600;padding:.7rem 1.4rem;border:0;border-radius:.4rem;background:#1f4fd1;
color:#fff;cursor:pointer}button:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
.drivers label{display:block;margin:.25rem 0}.status{min-height:1.5rem;color:#1a7f37;font-weight:600}
.error{color:#b42318}pre{white-space:pre-wrap;overflow-wrap:anywhere}a{color:#1f4fd1}
@media (max-width:400px){main{padding:1.25rem .75rem}.scale{gap:.2rem}
.scale span{border-width:1px;font-size:.95rem;padding:.75rem 0}}
"""

# The survey page's script. It never posts on load: a mail scanner runs scripts but makes no gesture and
# leaves within seconds. A trusted gesture records the chosen score at once (counted); a score chosen by the
# link and left visible for data-dwell seconds is recorded once as a "dwell" (kept pending until settled).
# Every post carries a fresh submission id, so a replay of it changes nothing.
PAGE_SCRIPT = """
(function(){
  var form=document.getElementById('nps-form'),status=document.getElementById('status');
  var scale=form.querySelector('.scale'),S=JSON.parse(form.getAttribute('data-strings'));
  var dwellMs=1000*parseInt(form.getAttribute('data-dwell'),10);
  function hex(n){var a=new Uint8Array(n);crypto.getRandomValues(a);
    return Array.prototype.map.call(a,function(b){return (b<16?'0':'')+b.toString(16)}).join('')}
  var view=hex(12),confirmed=null,dwelt=false,visibleMs=0,since=null,timer=null,sends=0;
  function say(text,error){status.className=error?'status error':'status';status.textContent=text}
  function fill(text,score){return text.split('{score}').join(String(score))}
  function chosen(){var c=form.querySelector('input[name=score]:checked');return c?parseInt(c.value,10):null}
  function send(body,done){
    // Answers can come back out of order: a success that a later send has overtaken says nothing.
    var n=++sends;
    body.submission=hex(12);body.view=view;
    var x=new XMLHttpRequest();x.open('POST',form.getAttribute('action'));
    x.setRequestHeader('Content-Type','application/json');x.setRequestHeader('Accept','application/json');
    x.onload=function(){var ok=x.status===200||x.status===201,msg='';
      try{msg=JSON.parse(x.responseText).error.message}catch(e){}
      if(ok&&n!==sends)return;
      done(ok,msg)};
    x.onerror=function(){say(S.error_network,true)};
    x.send(JSON.stringify(body));
  }
  function stopDwell(){dwelt=true;clearTimeout(timer)}
  function confirm(){var s=chosen();if(s===null||s===confirmed)return;confirmed=s;stopDwell();
    send({score:s,signal:'gesture'},function(ok,msg){
      if(ok){if(confirmed===s)say(fill(S.score_recorded,s))}else{confirmed=null;say(msg||S.error_save,true)}})}
  function dwell(){var s=chosen();if(dwelt||s===null||confirmed!==null)return;dwelt=true;
    send({score:s,signal:'dwell'},function(ok,msg){
      if(ok){if(confirmed===null)say(fill(S.score_saved,s))}else say(msg||S.error_save,true)})}
  function tick(){
    clearTimeout(timer);if(dwelt)return;
    var now=Date.now();if(since!==null){visibleMs+=now-since;since=null}
    if(document.visibilityState!=='visible')return;
    if(visibleMs>=dwellMs){dwell();return}
    since=now;timer=setTimeout(tick,dwellMs-visibleMs);
  }
  function gesture(e){if(!e.isTrusted)return;
    // On the scale, the radio's own click or change records the score it ends on, not the one before.
    if(scale.contains(e.target))return;confirm()}
  ['pointerdown','touchstart','keydown','input','change'].forEach(function(t){
    document.addEventListener(t,gesture,true)});
  scale.addEventListener('change',function(e){if(e.isTrusted)confirm()});
  scale.addEventListener('click',function(e){if(e.isTrusted&&e.target.name==='score')confirm()});
  form.addEventListener('submit',function(e){e.preventDefault();var s=chosen();
    if(s===null){say(S.choose_score,true);return}
    stopDwell();confirmed=s;
    var drivers=[].map.call(form.querySelectorAll('input[name=drivers]:checked'),function(d){return d.value});
    send({score:s,signal:'gesture',drivers:drivers,comment:form.querySelector('textarea').value.trim()},
      function(ok,msg){if(ok){say(S.thanks);document.getElementById('submit').textContent=S.update}
        else{say(msg||S.error_save,true)}})});
  if(chosen()!==null){say(fill(S.score_chosen,chosen()));
    document.addEventListener('visibilitychange',tick);tick()}
})();
"""


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


_COMMON_CSP = "default-src 'none'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
# Pages without script (thanks, errors, unsubscribe): only our style.
PAGE_CSP = f"{_COMMON_CSP}; style-src {_hash(STYLE)}"
# The survey page: our style and our script, which posts back to its own origin.
SURVEY_CSP = f"{PAGE_CSP}; script-src {_hash(PAGE_SCRIPT)}; connect-src 'self'"


def _doc(title: str, body: str, script: str = "", language: str | None = None, direction: str = "ltr") -> str:
    return (
        f'<!doctype html><html lang="{escape(language or page_text.DEFAULT_LANGUAGE)}"'
        + (' dir="rtl"' if direction == "rtl" else "")
        + '><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>{body}</main>"
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>"
    )


def _custom(survey) -> dict | None:
    custom = getattr(survey, "strings", None)
    if custom is not None and hasattr(custom, "as_dict"):
        custom = custom.as_dict()
    return custom


def _strings(survey) -> dict[str, str]:
    return page_text.page_strings(_custom(survey))


def text_for(survey, requested: list[str] | None) -> page_text.PageText:
    """What the page says to this person: in the first of `requested` the survey offers, else its language."""
    return page_text.page_text(survey.question, _custom(survey), requested or None, getattr(survey, "language", None))


def survey_page(
    survey, token: str, chosen: int | None, *, submission: str, dwell_seconds: int, requested: list[str] | None = None
) -> str:
    text = text_for(survey, requested)
    strings = text.strings
    # Relative to the page (/s/{token}), so the form also works under a stage prefix such as /api/s/{token}.
    action = f"./{escape(token)}"
    buttons = "".join(
        f'<label><input type="radio" name="score" value="{n}"{" checked" if chosen == n else ""}'
        f' aria-label="{n}"><span>{n}</span></label>'
        for n in range(11)
    )
    drivers = "".join(
        f'<label><input type="checkbox" name="drivers" value="{escape(d)}"> {escape(d)}</label>'
        for d in (survey.drivers or [])
    )
    driver_block = (
        f'<fieldset class="drivers"><legend>{escape(strings["drivers_label"])}</legend>{drivers}</fieldset>'
        if drivers
        else ""
    )
    data = escape(json.dumps(strings, separators=(",", ":")), quote=True)
    body = f"""
<h1 id="q">{escape(text.question)}</h1>
<form id="nps-form" method="post" action="{action}" data-dwell="{int(dwell_seconds)}" data-strings="{data}">
<input type="hidden" name="submission" value="{escape(submission)}">
<fieldset><legend id="scale-label">{escape(strings["scale_label"])}</legend>
<div class="scale" role="radiogroup" aria-labelledby="scale-label">{buttons}</div>
<div class="ends" aria-hidden="true"><span>{escape(strings["scale_low"])}</span>
<span>{escape(strings["scale_high"])}</span></div></fieldset>
<p id="status" class="status" role="status" aria-live="polite"></p>
<div id="more"><label for="comment"><strong>{escape(strings["comment_label"])}</strong></label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
{driver_block}
<button id="submit" type="submit">{escape(strings["send"])}</button></div>
</form>"""
    return _doc(survey.name, body, PAGE_SCRIPT, text.language, text.direction)


def thanks_page(survey, token: str, score: int) -> str:
    strings = _strings(survey)
    recorded = page_text.with_score(strings["thanks_recorded"], score)
    body = (
        f'<h1>{escape(strings["thanks_heading"])}</h1><p class="status" role="status">{escape(recorded)}</p>'
        f'<p><a href="./{escape(token)}?score={int(score)}">{escape(strings["change_answer"])}</a></p>'
    )
    return _doc(strings["thanks_heading"], body, language=getattr(survey, "language", None))


def _problems(strings: dict, fields: dict) -> list[str]:
    """Each field error of a form post, in the person's words (not field names)."""
    out = []
    for field in fields:
        text = {
            "score": strings["choose_score"],
            "comment": strings["error_comment"],
            "drivers": strings["error_drivers"],
        }.get(field, strings["error_form"])
        if text not in out:
            out.append(text)
    return out


def error_page(message: str, *, survey=None, token: str | None = None, error=None) -> str:
    """An error as a page. For a form that did not validate, what was wrong and a link back to the survey."""
    strings = _strings(survey)
    fields = getattr(error, "fields", None) or {}
    if survey is not None and token and isinstance(error, Invalid) and fields:
        items = "".join(f"<li>{escape(p)}</li>" for p in _problems(strings, fields))
        body = (
            f"<h1>{escape(strings['error_heading'])}</h1>"
            f'<p class="error" role="alert">{escape(strings["error_save"])}</p>'
            f'<ul class="error">{items}</ul><p><a href="./{escape(token)}">{escape(strings["back"])}</a></p>'
        )
        return _doc(survey.name, body, language=getattr(survey, "language", None))
    body = f'<h1>{escape(strings["error_heading"])}</h1><p class="error" role="alert">{escape(message)}</p>'
    return _doc("Survey", body, language=getattr(survey, "language", None))


def unsubscribe_page(token: str, done: bool) -> str:
    if done:
        body = '<h1>You are unsubscribed</h1><p role="status">You will not receive further surveys from us.</p>'
    else:
        body = (
            "<h1>Unsubscribe from surveys?</h1>"
            f'<form method="post" action="./{escape(token)}"><button type="submit">Unsubscribe</button></form>'
        )
    return _doc("Unsubscribe", body)


@lru_cache(maxsize=1)
def widget_js() -> str:
    return (Path(__file__).parent / "widget.js").read_text()
