// feedsvc web admin: confirm dialogs, forms sent once and the topic editor's live preview
// (no dependencies).
"use strict";

(function () {
  // Forms marked data-confirm ask before submitting (delete buttons).
  // Forms marked data-once are sent once: a second click on Save (a double-click sent two
  // POSTs ~30 ms apart) is ignored and the buttons are disabled while the answer is awaited.
  // The server answers the same create sent again as the first anyway; this only spares it.
  // The buttons come back after ONCE_MS (no answer: the admin may press again) and when the
  // page is shown again from the back-forward cache.
  var ONCE_MS = 15000;

  function release(form) {
    delete form.dataset.sent;
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-once")) return;
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    // disabled after this event: the submission is under way, and no button has a name
    window.setTimeout(function () {
      var buttons = form.querySelectorAll("button");
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
    window.setTimeout(function () {
      release(form);
    }, ONCE_MS);
  });

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var forms = document.querySelectorAll("form[data-once]");
    for (var i = 0; i < forms.length; i++) release(forms[i]);
  });

  var query = document.getElementById("query");
  if (!query || !query.dataset.preview) return;
  var summary = document.getElementById("preview-summary");
  var slugBox = document.getElementById("slug");
  var errorBox = document.getElementById("preview-error");
  var warnings = document.getElementById("preview-warnings");
  var samples = document.getElementById("preview-samples");
  var timer = null;
  var seq = 0; // only the answer to the latest request is shown

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function safeUrl(url) {
    return /^https?:\/\//i.test(url) ? url : null;
  }

  function showError(data) {
    clear(errorBox);
    errorBox.appendChild(el("strong", null, data.label || query.dataset.errorLabel));
    if (data.where) errorBox.appendChild(el("span", "muted", " (" + data.where + ")"));
    errorBox.appendChild(el("p", "message", data.error)); // worded by the server, hint included
    if (data.position !== null && data.position !== undefined) {
      // The query with a caret under the offending character. The server counts characters
      // (code points); a string here counts UTF-16 units, two for an emoji: split by code point.
      var chars = Array.from(query.value);
      var at = data.position;
      var pre = el("pre", "caret");
      pre.setAttribute("translate", "no");
      pre.appendChild(document.createTextNode(chars.slice(0, at).join("")));
      pre.appendChild(el("span", "at", chars[at] || " "));
      pre.appendChild(document.createTextNode(chars.slice(at + 1).join("")));
      errorBox.appendChild(pre);
    }
    errorBox.hidden = false;
    query.setAttribute("aria-invalid", "true");
  }

  function showResult(data) {
    errorBox.hidden = true;
    query.removeAttribute("aria-invalid");
    summary.textContent = data.summary;
    clear(warnings);
    (data.warnings || []).forEach(function (w) {
      warnings.appendChild(el("li", null, w));
    });
    warnings.hidden = !(data.warnings && data.warnings.length);
    clear(samples);
    data.samples.forEach(function (s) {
      var li = el("li", "sample");
      var url = safeUrl(s.url);
      var title = el(url ? "a" : "span", "title", s.title);
      title.setAttribute("translate", "no"); // data, not a label: the admin's language checks skip it
      if (url) {
        title.href = url;
        title.rel = "noopener noreferrer";
        title.target = "_blank";
      }
      li.appendChild(title);
      li.appendChild(el("span", "muted small", " " + s.published)); // local time, from the server
      s.hits.forEach(function (h) {
        var p = el("p", "snippet");
        p.appendChild(el("span", "field", h.field + ": "));
        var body = el("span");
        body.setAttribute("translate", "no");
        body.innerHTML = h.snippet_html; // escaped by the server; only <mark> is markup
        p.appendChild(body);
        li.appendChild(p);
      });
      samples.appendChild(li);
    });
  }

  // Every word the preview shows is the admin's: the server's, or the page's (data-*, from
  // the catalogue); never the browser's ("TypeError: Failed to fetch") or an English default.
  function failed(status) {
    return query.dataset.failed.replace("{status}", String(status));
  }

  // An answer as {status, data}: JSON as sent; anything else (the admin's body cap answers
  // 413 in plain words; a proxy, a page) as its words when plain text, never a parser's error.
  function read(r) {
    var type = r.headers.get("Content-Type") || "";
    return r.text().then(function (body) {
      if (type.indexOf("application/json") === 0) {
        try {
          return { status: r.status, data: JSON.parse(body) || {} };
        } catch (e) {
          return { status: r.status, data: {} }; // cut short or not JSON: its status alone
        }
      }
      var words = type.indexOf("text/plain") === 0 ? body.trim() : "";
      return { status: r.status, data: { error: words } };
    });
  }

  function run() {
    var mine = ++seq;
    var text = query.value;
    if (!text.trim()) {
      errorBox.hidden = true;
      clear(samples);
      warnings.hidden = true;
      summary.textContent = query.dataset.hint;
      return;
    }
    summary.textContent = query.dataset.loading;
    fetch(query.dataset.preview, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": query.dataset.csrf },
      // the topic being edited: its query may not name it (a cycle Save would refuse)
      body: JSON.stringify({ query: text, slug: slugBox ? slugBox.value : "" }),
    })
      .then(read, function () {
        return { status: 0, data: {} }; // no answer at all: the server could not be reached
      })
      .then(function (res) {
        if (mine !== seq) return;
        if (res.status === 0) {
          summary.textContent = query.dataset.unreachable;
        } else if (res.status !== 200) {
          summary.textContent = res.data.error || failed(res.status);
        } else if (res.data.empty) {
          summary.textContent = query.dataset.hint;
        } else if (res.data.error) {
          showError(res.data);
          summary.textContent = "";
          clear(samples);
          warnings.hidden = true;
        } else if (Array.isArray(res.data.samples)) {
          showResult(res.data);
        } else {
          summary.textContent = failed(res.status); // a 200 this script cannot show
        }
      })
      .catch(function () {
        // the answer broke off while it was read: as good as no answer
        if (mine === seq) summary.textContent = query.dataset.unreachable;
      });
  }

  query.addEventListener("input", function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, 300);
  });
  if (query.value.trim()) run();
})();
