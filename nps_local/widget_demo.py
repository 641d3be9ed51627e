"""The local stack's widget demo: a page of the stack's own origin (allowed by the demo survey) that embeds the
widget. Its query shows the widget's options: `?hostile=1` adds hostile global CSS to the page (the widget must
look the same), `?lang=de` sets `data-lang`, `?force=1` sets `data-force="true"`. The page is a host page like a
customer's, with its own styles, so it does not use the product's page style."""

from __future__ import annotations

import json
from html import escape

# What a careless site stylesheet does to everything on the page, the widget's host element included.
HOSTILE_CSS = """
* {font-size: 28px !important; color: #fff; line-height: 2 !important; letter-spacing: .04em}
html {font-size: 40px} body, pre {background: #2b2f3a !important}
button {background: #eee; width: 100%; padding: 1em; border: 4px dashed #f0f}
div, section, p {margin: 24px !important; display: block}
[role=group], [role=status] {display: none}
"""

HOST_CSS = """
body {font: 16px/1.5 Georgia, serif; margin: 0; background: #fbf8f2; color: #2d2a26}
main {max-width: 40rem; margin: 0 auto; padding: 1rem 1rem 16rem}
h1 {font-size: 1.6rem} code {white-space: nowrap}
pre {white-space: pre-wrap; overflow-wrap: anywhere; background: #f1ece2; padding: .6rem}
button {font: inherit; background: #1f4fd1; color: #fff; border: 0; border-radius: 4px; padding: .5rem 1rem}
"""

# Reads the page's query and embeds the widget the way a site would, with the matching data- attributes.
BOOT = """
(function () {
  var q = new URLSearchParams(location.search), conf = JSON.parse(document.getElementById('conf').textContent);
  if (q.get('hostile') === '1') document.getElementById('hostile').media = 'all';
  var s = document.createElement('script');
  s.src = conf.base + '/widget.js'; s.async = true;
  s.setAttribute('data-survey', conf.survey); s.setAttribute('data-api', conf.base);
  s.setAttribute('data-question', conf.question);
  if (q.get('lang')) s.setAttribute('data-lang', q.get('lang'));
  if (q.get('force') === '1') s.setAttribute('data-force', 'true');
  document.body.appendChild(s);
  document.getElementById('open').addEventListener('click', function () {
    if (window.NpsWidget) window.NpsWidget.open();
  });
})();
"""


def widget_demo_page(base_url: str, survey_id: str, question: str) -> str:
    snippet = (
        f'<script src="{escape(base_url)}/widget.js" data-survey="{escape(survey_id)}" '
        f'data-api="{escape(base_url)}" data-question="{escape(question)}" async></script>'
    )
    # JSON in a data block: `<` escaped so no value can close the element.
    conf = json.dumps({"base": base_url, "survey": survey_id, "question": question}).replace("<", "\\u003c")
    survey = escape(survey_id)
    body = f"""<main>
<h1>Widget demo</h1>
<p>This page embeds the widget with the snippet below. After an answer this browser does not see it again for the
survey's <code>throttle_days</code>; the button or <code>?force=1</code> shows it anyway.</p>
<p><button id="open" type="button" style="background:#1f4fd1;color:#fff">Open the widget</button></p>
<p>Try: <a href="?survey={survey}&amp;hostile=1&amp;force=1">a page with hostile CSS</a> ·
<a href="?survey={survey}&amp;lang=de&amp;force=1">German</a> ·
<a href="?survey={survey}&amp;lang=fr&amp;force=1">French</a> ·
<a href="?survey={survey}&amp;lang=es&amp;force=1">Spanish</a> ·
<a href="?survey={survey}">plain</a></p>
<pre>{escape(snippet)}</pre>
</main>"""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>Widget demo</title>'
        f'<style>{HOST_CSS}</style><style id="hostile" media="not all">{HOSTILE_CSS}</style></head>'
        f'<body>{body}<script id="conf" type="application/json">{conf}</script><script>{BOOT}</script></body></html>'
    )
