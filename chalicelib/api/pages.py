"""The public HTML pages and the widget script. Self-contained: inline CSS and script, no third-party asset,
usable on a phone, with a plain form that works when script is off."""

from __future__ import annotations

from functools import lru_cache
from html import escape
from pathlib import Path

STYLE = """
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;
background:#f6f7f9;color:#1d2433}main{max-width:40rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.35rem;line-height:1.3}fieldset{border:0;padding:0;margin:0 0 1rem}
legend{font-weight:600;margin-bottom:.5rem}.scale{display:flex;flex-wrap:wrap;gap:.35rem}
.scale label{flex:1 0 2.6rem}.scale input{position:absolute;opacity:0;width:1px;height:1px}
.scale span{display:block;text-align:center;padding:.65rem 0;border:2px solid #9aa4b5;border-radius:.4rem;
background:#fff;cursor:pointer;font-weight:600}.scale input:checked+span{background:#1f4fd1;color:#fff;
border-color:#1f4fd1}.scale input:focus-visible+span{outline:3px solid #f5a623;outline-offset:2px}
.ends{display:flex;justify-content:space-between;font-size:.85rem;color:#4a5568}
textarea{width:100%;min-height:6rem;font:inherit;padding:.5rem;border:1px solid #9aa4b5;border-radius:.4rem}
button{font:inherit;font-weight:600;padding:.7rem 1.4rem;border:0;border-radius:.4rem;background:#1f4fd1;
color:#fff;cursor:pointer}button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.drivers label{display:block;margin:.25rem 0}.status{min-height:1.5rem;color:#1a7f37;font-weight:600}
.error{color:#b42318}pre{white-space:pre-wrap;overflow-wrap:anywhere}
"""


def _doc(title: str, body: str, script: str = "") -> str:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>{body}</main>"
        + (f"<script>{script}</script>" if script else "")
        + "</body></html>"
    )


PAGE_SCRIPT = """
(function(){
  var form=document.getElementById('nps-form'),status=document.getElementById('status');
  var recorded=null;
  function send(body,done){
    var x=new XMLHttpRequest();x.open('POST',form.getAttribute('action'));
    x.setRequestHeader('Content-Type','application/json');x.setRequestHeader('Accept','application/json');
    x.onload=function(){var ok=x.status===200||x.status===201;var msg='';
      try{msg=JSON.parse(x.responseText).error.message}catch(e){}
      status.className=ok?'status':'status error';done(ok,msg)};
    x.onerror=function(){status.className='status error';status.textContent='Could not reach us; try again.'};
    x.send(JSON.stringify(body));
  }
  function chosen(){var c=form.querySelector('input[name=score]:checked');return c?parseInt(c.value,10):null}
  function recordScore(){var s=chosen();if(s===null||s===recorded)return;
    send({score:s},function(ok,msg){if(ok){recorded=s;status.textContent='Thank you! Your score of '+s+
      ' is recorded. Tell us more below if you like.';document.getElementById('more').hidden=false}
      else{status.textContent=msg||'Your score could not be recorded.'}})}
  form.addEventListener('change',function(e){if(e.target.name==='score')recordScore()});
  form.addEventListener('submit',function(e){e.preventDefault();var s=chosen();
    if(s===null){status.className='status error';status.textContent='Choose a score from 0 to 10 first.';return}
    var drivers=[].map.call(form.querySelectorAll('input[name=drivers]:checked'),function(d){return d.value});
    var body={score:s,drivers:drivers,comment:form.querySelector('textarea').value.trim()};
    send(body,function(ok,msg){status.textContent=ok?'Thank you for your feedback!':
      (msg||'Your answer could not be saved.');if(ok)document.getElementById('submit').textContent='Update'})});
  if(chosen()!==null)recordScore();
})();
"""


def survey_page(survey, token: str, chosen: int | None) -> str:
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
        f'<fieldset class="drivers"><legend>What mattered most?</legend>{drivers}</fieldset>' if drivers else ""
    )
    body = f"""
<h1 id="q">{escape(survey.question)}</h1>
<form id="nps-form" method="post" action="{action}">
<fieldset><legend id="scale-label">Your score, 0 (not at all likely) to 10 (extremely likely)</legend>
<div class="scale" role="radiogroup" aria-labelledby="scale-label">{buttons}</div>
<div class="ends"><span>Not at all likely</span><span>Extremely likely</span></div></fieldset>
<p id="status" class="status" role="status" aria-live="polite"></p>
<div id="more"><label for="comment"><strong>What is the main reason for your score?</strong></label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
{driver_block}
<button id="submit" type="submit">Send</button></div>
</form>"""
    return _doc(survey.name, body, PAGE_SCRIPT)


def thanks_page(survey, token: str, answer: dict) -> str:
    body = (
        f"<h1>Thank you!</h1><p class=\"status\" role=\"status\">Your score of {int(answer['score'])} is recorded.</p>"
        f'<p><a href="./{escape(token)}?score={int(answer["score"])}">Change your answer or add a comment</a></p>'
    )
    return _doc("Thank you", body)


def error_page(message: str) -> str:
    return _doc("Survey", f'<h1>Sorry</h1><p class="error" role="alert">{escape(message)}</p>')


def unsubscribe_page(token: str, done: bool) -> str:
    if done:
        body = "<h1>You are unsubscribed</h1><p role=\"status\">You will not receive further surveys from us.</p>"
    else:
        body = (
            "<h1>Unsubscribe from surveys?</h1>"
            f'<form method="post" action="./{escape(token)}"><button type="submit">Unsubscribe</button></form>'
        )
    return _doc("Unsubscribe", body)


@lru_cache(maxsize=1)
def widget_js() -> str:
    return (Path(__file__).parent / "widget.js").read_text()
