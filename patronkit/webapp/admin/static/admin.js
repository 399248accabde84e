/* patronkit admin pages. Everything works without this script; it only keeps the admin
   session alive inside the store's admin, where the platform's bridge (App Bridge, as
   window.shopify) can mint a fresh platform token, and retries a refused page load once
   with such a token. Without the bridge it does nothing. */
(function () {
  "use strict";

  function bridge() {
    var b = window.shopify;
    return b && typeof b.idToken === "function" ? b : null;
  }

  function withParam(href, name, value) {
    var url = new URL(href, window.location.href);
    if (url.origin !== window.location.origin || !url.searchParams.has(name)) return null;
    url.searchParams.set(name, value);
    return url.toString();
  }

  /* Put the new session everywhere the old one was: links, form fields, this page's URL. */
  function apply(meta, data) {
    var param = meta.dataset.param;
    var csrfField = meta.dataset.csrfField;
    meta.content = data.session;
    meta.dataset.csrf = data.csrf_token;
    meta.dataset.expiresIn = String(data.expires_in);
    document.querySelectorAll('input[name="' + param + '"]').forEach(function (input) {
      input.value = data.session;
    });
    document.querySelectorAll('input[name="' + csrfField + '"]').forEach(function (input) {
      input.value = data.csrf_token;
    });
    document.querySelectorAll("a[href]").forEach(function (link) {
      var href = withParam(link.getAttribute("href"), param, data.session);
      if (href) link.setAttribute("href", href);
    });
    var here = withParam(window.location.href, param, data.session);
    if (here) window.history.replaceState(window.history.state, "", here);
  }

  function refresh(meta, b) {
    return b.idToken()
      .then(function (token) {
        return fetch(meta.dataset.refreshUrl, {
          method: "POST",
          headers: { Authorization: "Bearer " + token, Accept: "application/json" },
          credentials: "omit"
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("session refresh refused: " + response.status);
        return response.json();
      })
      .then(function (data) {
        apply(meta, data);
        schedule(meta, b);
      });
  }

  /* Two minutes before the session expires, counted from now on this page's own clock;
     never sooner than in half a minute, so a refusal cannot turn into a loop. */
  function schedule(meta, b) {
    var delay = Math.max(Number(meta.dataset.expiresIn) * 1000 - 120000, 30000);
    window.setTimeout(function () {
      refresh(meta, b).catch(function () {
        /* The next navigation meets the refusal page, which retries with a fresh token. */
      });
    }, delay);
  }

  function retryRefused(b) {
    var param = document.body.dataset.retryParam;
    if (!param) return;
    var url = new URL(window.location.href);
    if (url.searchParams.has(param)) return; /* one attempt only: no loop */
    b.idToken().then(function (token) {
      url.searchParams.delete("pk_session");
      url.searchParams.set(param, token);
      window.location.replace(url.toString());
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var b = bridge();
    if (!b) return;
    var meta = document.querySelector('meta[name="patronkit-session"]');
    if (meta) schedule(meta, b);
    else retryRefused(b);
  });
})();
