/* NPS widget: no dependencies, no third-party code. Embed with
     <script src="https://API/widget.js" data-survey="SURVEY_ID" async></script>
   Optional: data-api, data-question, data-lang, data-force="true", data-contact + data-identity (+ data-account).
   Before it shows its card it asks the API for its survey's words in its language (GET .../widget-strings), and
   uses its own table below when that answer fails or takes longer than FETCH_TIMEOUT_MS.
   window.NpsWidget.open() shows it on demand (even within the throttle); window.NpsWidget.close() hides it.
   Everything it draws lives in a shadow root whose styles are reset with `all: initial`, so the host page's CSS
   cannot reach in and none of ours leaks out. Sizes are in px: a host page's root font size must not scale us. */
(function () {
  'use strict';
  var me = document.currentScript || document.querySelector('script[data-survey]');
  if (!me || !me.getAttribute('data-survey')) return;
  var survey = me.getAttribute('data-survey');
  var api = (me.getAttribute('data-api') || me.src.replace(/\/widget\.js.*$/, '')).replace(/\/$/, '');
  var who = {contact_id: me.getAttribute('data-contact'), account_id: me.getAttribute('data-account'),
             identity: me.getAttribute('data-identity')};
  var forced = me.getAttribute('data-force') === 'true';
  var DAY_MS = 86400000;
  var DEFAULT_THROTTLE_DAYS = 90;  // the survey's default; the capture answer says the real value
  var HIDE_AFTER_MS = 4000;        // long enough to read the thanks
  var FETCH_TIMEOUT_MS = 1500;     // longer than this for the survey's words: the built-in ones, not a late card
  var STORE_KEY = 'nps-widget:' + survey;

  // The built-in words, the API's own for these languages (domain/widget_text.py): shown when its answer fails.
  var STRINGS = {
    en: {label: 'Feedback', question: 'How likely are you to recommend us to a friend or colleague?',
         scale: 'Your score, 0 (not at all likely) to 10 (extremely likely)',
         low: 'Not at all likely', high: 'Extremely likely', close: 'Close',
         recorded: 'Thank you! Your score is recorded.', more: 'Anything you would like to add? (optional)',
         send: 'Send', thanks: 'Thank you for your feedback!',
         failed: 'Sorry, your answer could not be sent. Please try again.'},
    de: {label: 'Feedback',
         question: 'Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen weiterempfehlen?',
         scale: 'Ihre Bewertung, von 0 (überhaupt nicht wahrscheinlich) bis 10 (äußerst wahrscheinlich)',
         low: 'Überhaupt nicht wahrscheinlich', high: 'Äußerst wahrscheinlich', close: 'Schließen',
         recorded: 'Vielen Dank! Ihre Bewertung wurde erfasst.', more: 'Möchten Sie noch etwas ergänzen? (optional)',
         send: 'Senden', thanks: 'Vielen Dank für Ihr Feedback!',
         failed: 'Ihre Antwort konnte leider nicht gesendet werden. Bitte versuchen Sie es erneut.'},
    fr: {label: 'Votre avis',
         question: 'Quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue\u00a0?',
         scale: 'Votre note, de 0 (pas du tout probable) à 10 (extrêmement probable)',
         low: 'Pas du tout probable', high: 'Extrêmement probable', close: 'Fermer',
         recorded: 'Merci\u00a0! Votre note a bien été enregistrée.',
         more: 'Souhaitez-vous ajouter quelque chose\u00a0? (facultatif)',
         send: 'Envoyer', thanks: 'Merci pour votre avis\u00a0!',
         failed: 'Désolés, votre réponse n\u2019a pas pu être envoyée. Veuillez réessayer.'},
    es: {label: 'Su opinión', question: '¿Qué probabilidad hay de que nos recomiende a un amigo o colega?',
         scale: 'Su puntuación, de 0 (nada probable) a 10 (extremadamente probable)',
         low: 'Nada probable', high: 'Extremadamente probable', close: 'Cerrar',
         recorded: '¡Gracias! Hemos registrado su puntuación.', more: '¿Desea añadir algo más? (opcional)',
         send: 'Enviar', thanks: '¡Gracias por su opinión!',
         failed: 'Lo sentimos, no se ha podido enviar su respuesta. Inténtelo de nuevo.'}
  };
  var NAMES = ['label', 'question', 'scale', 'low', 'high', 'close', 'recorded', 'more', 'send', 'thanks', 'failed'];
  // data-lang, else the host page's language, is what the API is asked for (without either, the browser's
  // Accept-Language). The built-in table: "de-AT" uses "de"; anything unknown falls back to English.
  var asked = me.getAttribute('data-lang') || document.documentElement.getAttribute('lang') || '';
  var lang = (asked || 'en').toLowerCase();
  if (!STRINGS[lang]) lang = STRINGS[lang.split('-')[0]] ? lang.split('-')[0] : 'en';
  var t = STRINGS[lang];
  var dir = 'ltr';  // every built-in language is written left to right
  var givenQuestion = me.getAttribute('data-question');

  var CSS = [
    // The host element is the only thing the page's rules can match; !important inside a shadow root beats
    // the page's !important, so even `* {font-size: 28px !important}` stops here.
    ':host{all:initial !important;display:block !important;position:static !important}',
    '*{box-sizing:border-box}',
    '[hidden]{display:none !important}',
    '.card{position:fixed;z-index:2147483000;left:8px;right:8px;bottom:8px;margin:0 0 0 auto;max-width:380px;',
    'background:#fff;color:#1d2433;border:1px solid #8792a2;border-radius:10px;padding:12px 10px 10px;',
    'font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;text-align:left;color-scheme:light;',
    'box-shadow:0 4px 18px rgba(0,0,0,.2)}',
    '.card[dir=rtl]{text-align:right}',
    '.card:focus{outline:none}',  // focus parks here after a step; the buttons show their own focus
    '@media (min-width:480px){.card{right:16px;bottom:16px;padding:14px 16px 12px}}',
    '.question{margin:0 34px 10px 0;font-weight:600;font-size:15px}',
    '.card[dir=rtl] .question{margin:0 0 10px 34px}',  // the close button sits at the start of the line
    // minmax(0,1fr): equal columns however wide a digit is; "10" never wraps onto a row of its own.
    '.scale{display:grid;grid-template-columns:repeat(11,minmax(0,1fr));gap:3px}',
    'button{font:inherit;margin:0;cursor:pointer}',
    '.scale button{min-width:0;height:38px;padding:0;border:1px solid #6b7588;border-radius:5px;',
    'background:#f6f7f9;color:#1d2433;font-weight:600;font-size:14px}',
    '.scale button:hover{background:#dfe5f0}',
    '.scale button[aria-disabled=true]{cursor:progress}',
    'button:focus-visible,input:focus-visible{outline:3px solid #1f4fd1;outline-offset:1px}',
    '.ends{display:flex;justify-content:space-between;gap:12px;margin-top:4px;font-size:12px;color:#4a5568}',
    '.ends span:last-child{text-align:right}',
    '.card[dir=rtl] .ends span:last-child{text-align:left}',
    '.close{position:absolute;top:4px;right:4px;width:32px;height:32px;padding:0;border:0;border-radius:5px;',
    'background:transparent;color:#4a5568;font-size:22px;line-height:1}',
    '.close:hover{background:#eef1f5;color:#1d2433}',
    '.card[dir=rtl] .close{right:auto;left:4px}',
    '.more{margin:8px 0 0}',
    '.more label{display:block;font-size:14px;margin:0 0 4px}',
    '.line{display:flex;gap:6px}',
    '.line input{flex:1;min-width:0;height:36px;padding:0 8px;border:1px solid #6b7588;border-radius:5px;',
    'font:inherit;color:#1d2433;background:#fff}',
    '.line button{height:36px;padding:0 14px;border:0;border-radius:5px;background:#1f4fd1;color:#fff;',
    'font-weight:600}',
    '.status{margin:8px 0 0;font-size:14px;color:#1a7f37}',
    '.status:empty{display:none}',
    '.status.error{color:#b42318}',
    '@media print{.card{display:none}}'
  ].join('');

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A constructed style sheet is not inline CSS to a host page's Content-Security-Policy, so a page whose
  // style-src refuses 'unsafe-inline' still styles the widget; a <style> element only where browsers lack them.
  function style(root) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(el('style', {}, CSS));
    }
  }

  // ---- the throttle: this browser answered recently, or closed the widget in this session -------------------

  function storedUntil(storage) {
    try {
      var value = JSON.parse(window[storage].getItem(STORE_KEY) || 'null');
      return value && typeof value.until === 'number' ? value.until : 0;
    } catch (e) { return 0; }  // storage blocked (private mode, sandboxed frame): behave as never answered
  }
  function remember(storage, until) {
    try { window[storage].setItem(STORE_KEY, JSON.stringify({until: until})); } catch (e) { /* see above */ }
  }
  function held() {
    var now = Date.now();
    return storedUntil('localStorage') > now || storedUntil('sessionStorage') > now;
  }

  // ---- one showing of the widget ----------------------------------------------------------------------------

  var host = null;

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return 'nps-' + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  function open() {
    if (host) return;
    // One key per showing: a retry or a comment after the score is the same answer; a later showing is a new one.
    var key = newKey();
    var score = null;
    var hideTimer = null;
    var mine = host = el('nps-widget', {'data-survey': survey, 'data-state': 'open'});
    var root = mine.attachShadow({mode: 'open'});
    // dir: the language's own, whatever the host page's direction (right to left, the scale runs from 0 on
    // the right).
    var card = el('section', {'class': 'card', 'aria-label': t.label, lang: lang, dir: dir, tabindex: '-1'});
    var q = el('p', {'class': 'question'}, givenQuestion || t.question);
    var scale = el('div', {'class': 'scale', role: 'group', 'aria-label': t.scale});
    var ends = el('div', {'class': 'ends'});
    ends.appendChild(el('span', {}, t.low));
    ends.appendChild(el('span', {}, t.high));
    var more = el('form', {'class': 'more', hidden: ''});
    var label = el('label', {'for': 'nps-comment'}, t.more);
    var line = el('div', {'class': 'line'});
    var input = el('input', {id: 'nps-comment', type: 'text', maxlength: '500', autocomplete: 'off'});
    var send = el('button', {type: 'submit'}, t.send);
    var status = el('p', {'class': 'status', role: 'status', 'aria-live': 'polite'});
    var close = el('button', {'class': 'close', type: 'button', 'aria-label': t.close}, '\u00d7');
    line.appendChild(input);
    line.appendChild(send);
    more.appendChild(label);
    more.appendChild(line);

    function setState(state) { mine.setAttribute('data-state', state); }
    // Only this showing: a thanks timer still running must not hide a later showing.
    function dismiss() {
      clearTimeout(hideTimer);
      mine.remove();
      if (host === mine) host = null;
    }
    function say(text, failed) { status.textContent = text; status.className = failed ? 'status error' : 'status'; }
    function busy(on) {
      [].forEach.call(scale.children, function (b) { b.setAttribute('aria-disabled', on ? 'true' : 'false'); });
    }

    function post(body, done, failed) {
      // Where the answer came from, without the query and fragment, which can carry a visitor's email or a token.
      body.page = (location.origin + location.pathname).slice(0, 2048);
      // Passed through as rendered by the site's server; the API checks the signature.
      if (who.contact_id && who.identity) {
        body.contact_id = who.contact_id;
        body.identity = who.identity;
        if (who.account_id) body.account_id = who.account_id;
      }
      var x = new XMLHttpRequest();
      x.open('POST', api + '/v1/surveys/' + encodeURIComponent(survey) + '/responses');
      x.setRequestHeader('Content-Type', 'application/json');
      x.setRequestHeader('Idempotency-Key', key);
      x.onload = function () {
        var answer = null;
        try { answer = JSON.parse(x.responseText); } catch (e) { /* not JSON: treated as a failure below */ }
        if ((x.status === 200 || x.status === 201) && answer) done(answer); else failed();
      };
      x.onerror = failed;
      x.send(JSON.stringify(body));
    }

    function choose(n, byKeyboard) {
      if (score !== null || scale.getAttribute('aria-busy') === 'true') return;
      scale.setAttribute('aria-busy', 'true');
      busy(true);
      say('');
      post({score: n}, function (answer) {
        score = n;
        var days = typeof answer.throttle_days === 'number' && answer.throttle_days >= 0
          ? answer.throttle_days : DEFAULT_THROTTLE_DAYS;
        remember('localStorage', Date.now() + days * DAY_MS);
        scale.remove();
        ends.remove();
        say(t.recorded);
        more.hidden = false;
        setState('recorded');
        // Keep focus in the widget (the button pressed is gone); a tap does not pop up a phone's keyboard.
        if (byKeyboard) input.focus(); else card.focus({preventScroll: true});
      }, function () {
        scale.removeAttribute('aria-busy');
        busy(false);
        say(t.failed, true);
        setState('error');
      });
    }

    for (var i = 0; i <= 10; i++) {
      (function (n) {
        var b = el('button', {type: 'button', 'data-score': String(n)}, String(n));
        // A click from Enter or Space has detail 0.
        b.addEventListener('click', function (e) { choose(n, e.detail === 0); });
        scale.appendChild(b);
      })(i);
    }

    more.addEventListener('submit', function (e) {
      e.preventDefault();
      var comment = input.value.trim();
      if (!comment) { finish(); return; }
      send.disabled = true;
      post({score: score, comment: comment}, finish, function () {
        send.disabled = false;
        say(t.failed, true);
      });
    });

    function finish() {
      more.remove();
      say(t.thanks);
      setState('sent');
      card.focus({preventScroll: true});
      hideTimer = setTimeout(dismiss, HIDE_AFTER_MS);
    }

    close.addEventListener('click', function () {
      // Closed without answering: not again in this browser session, unless asked.
      if (score === null) remember('sessionStorage', Date.now() + DAY_MS);
      dismiss();
    });
    card.addEventListener('keydown', function (e) { if (e.key === 'Escape') close.click(); });

    card.appendChild(q);
    card.appendChild(scale);
    card.appendChild(ends);
    card.appendChild(status);  // above the comment field: the confirmation is read first
    card.appendChild(more);
    card.appendChild(close);
    style(root);
    root.appendChild(card);
    mine.nps = {hide: dismiss};
    document.body.appendChild(mine);
  }

  // ---- the survey's own words, asked for once per page -------------------------------------------------------

  var words = 'unasked';  // then 'asking', then 'known' (the survey's words, or the built-in ones)
  var waiting = [];

  // All the words or none: an answer that lacks one leaves the built-in table.
  function adopt(text) {
    var got = null;
    try { got = JSON.parse(text); } catch (e) { return; }
    if (!got || typeof got !== 'object') return;
    var own = {};
    for (var i = 0; i < NAMES.length; i++) {
      if (typeof got[NAMES[i]] !== 'string' || !got[NAMES[i]]) return;
      own[NAMES[i]] = got[NAMES[i]];
    }
    t = own;
    if (typeof got.lang === 'string' && got.lang) lang = got.lang;
    dir = got.dir === 'rtl' ? 'rtl' : 'ltr';
  }

  function withWords(fn) {
    if (words === 'known') { fn(); return; }
    waiting.push(fn);
    if (words === 'asking') return;
    words = 'asking';
    var x = new XMLHttpRequest();
    function known() {
      if (words === 'known') return;
      if (x.status === 200) adopt(x.responseText);
      words = 'known';
      var queued = waiting;
      waiting = [];
      for (var i = 0; i < queued.length; i++) queued[i]();
    }
    try {
      x.open('GET', api + '/v1/surveys/' + encodeURIComponent(survey) + '/widget-strings' +
        (asked ? '?lang=' + encodeURIComponent(asked) : ''));
      x.timeout = FETCH_TIMEOUT_MS;  // a timeout or a network error: status 0, the built-in words
      x.onload = x.onerror = x.ontimeout = x.onabort = known;
      x.send();
    } catch (e) { known(); }  // a data-api the browser cannot ask
  }

  // ---- the page's handle: window.NpsWidget.open([survey_id]) / .close([survey_id]) ------------------------

  var wanted = false;  // asked to show while the words are on their way; close() takes that back
  function show() {
    wanted = true;
    withWords(function () {
      if (!wanted) return;
      wanted = false;
      whenReady(open);
    });
  }
  function hide() {
    wanted = false;
    if (host) host.nps.hide();
  }

  var registry = window.NpsWidget = window.NpsWidget || {surveys: {}};
  if (registry.surveys[survey]) return;  // the snippet twice on one page: one widget
  registry.surveys[survey] = {open: show, close: hide};
  function each(id, action) {
    for (var s in registry.surveys) if (id === undefined || id === s) registry.surveys[s][action]();
  }
  registry.open = function (id) { each(id, 'open'); };
  registry.close = function (id) { each(id, 'close'); };

  function whenReady(fn) {
    if (document.body) fn(); else document.addEventListener('DOMContentLoaded', fn);
  }
  if (forced || !held()) show();
})();
