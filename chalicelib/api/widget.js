/* NPS widget: no dependencies. Embed with
   <script src="https://API/widget.js" data-survey="SURVEY_ID" data-api="https://API" async></script>
   Optional: data-question, data-contact, data-account, data-identity (HMAC of the contact id). */
(function () {
  var me = document.currentScript || document.querySelector('script[data-survey]');
  if (!me) return;
  var survey = me.getAttribute('data-survey');
  var api = (me.getAttribute('data-api') || me.src.replace(/\/widget\.js.*$/, '')).replace(/\/$/, '');
  var question = me.getAttribute('data-question') || 'How likely are you to recommend us to a friend or colleague?';
  var who = {contact_id: me.getAttribute('data-contact'), account_id: me.getAttribute('data-account'),
             identity: me.getAttribute('data-identity')};
  var key = 'nps-' + Math.random().toString(36).slice(2) + Date.now().toString(36);

  var box = document.createElement('section');
  box.setAttribute('aria-label', 'Feedback');
  box.className = 'nps-widget';
  box.style.cssText = 'position:fixed;right:1rem;bottom:1rem;max-width:24rem;background:#fff;color:#1d2433;' +
    'border:1px solid #c5ccd8;border-radius:.6rem;padding:1rem;font:15px/1.4 system-ui,sans-serif;' +
    'box-shadow:0 4px 16px rgba(0,0,0,.15);z-index:2147483000';
  var p = document.createElement('p');
  p.style.margin = '0 1.5rem .6rem 0'; // clear of the close button
  p.style.fontWeight = '600';
  p.textContent = question;
  box.appendChild(p);
  var row = document.createElement('div');
  row.setAttribute('role', 'group');
  row.setAttribute('aria-label', 'Score from 0 to 10');
  row.style.cssText = 'display:flex;flex-wrap:wrap;gap:.25rem';
  var status = document.createElement('p');
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  status.style.margin = '.6rem 0 0';
  var close = document.createElement('button');
  close.type = 'button';
  close.textContent = '\u00d7';
  close.setAttribute('aria-label', 'Close');
  close.style.cssText = 'position:absolute;top:.2rem;right:.4rem;border:0;background:none;font-size:1.2rem;cursor:pointer';
  close.onclick = function () { box.remove(); };

  function post(score) {
    var body = {score: score, page: location.href.slice(0, 2048)};
    if (who.contact_id && who.identity) {
      body.contact_id = who.contact_id; body.identity = who.identity;
      if (who.account_id) body.account_id = who.account_id;
    }
    var x = new XMLHttpRequest();
    x.open('POST', api + '/v1/surveys/' + encodeURIComponent(survey) + '/responses');
    x.setRequestHeader('Content-Type', 'application/json');
    x.setRequestHeader('Idempotency-Key', key);
    x.onload = function () {
      if (x.status === 200 || x.status === 201) {
        row.remove();
        status.textContent = 'Thank you for your feedback!';
        box.setAttribute('data-state', 'sent');
      } else {
        status.textContent = 'Sorry, your answer could not be sent.';
        box.setAttribute('data-state', 'error');
      }
    };
    x.onerror = function () { status.textContent = 'Sorry, your answer could not be sent.'; };
    x.send(JSON.stringify(body));
  }

  for (var i = 0; i <= 10; i++) {
    (function (n) {
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = String(n);
      b.setAttribute('data-score', String(n));
      b.style.cssText = 'min-width:1.9rem;padding:.35rem 0;border:1px solid #9aa4b5;border-radius:.3rem;' +
        'background:#f6f7f9;cursor:pointer;font:inherit';
      b.onclick = function () { post(n); };
      row.appendChild(b);
    })(i);
  }
  box.appendChild(row);
  box.appendChild(status);
  box.appendChild(close);
  function mount() { document.body.appendChild(box); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
