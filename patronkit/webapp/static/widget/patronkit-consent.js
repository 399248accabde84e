/*!
 * patronkit storefront consent widget. No framework, no cookies, no dependencies.
 *
 * Include it where the form should appear:
 *
 *   <script src="https://APP/static/widget/patronkit-consent.js" defer
 *     data-api="https://APP"                  where patronkit runs
 *     data-platform="shopify"                 platform of the shop connection
 *     data-shop="acme.myshopify.com"          the shop's domain as connected
 *     data-locale="en"                        optional; default: the page's <html lang>
 *     data-touchpoint="product_page"          product_page | cart | checkout | order_status |
 *                                             account | footer | popup | landing_page | other
 *     data-channels="email,sms"               optional; default: every channel with a wording
 *     data-target="#newsletter"></script>     optional; default: right after this tag
 *
 * It fetches the shop's consent form, shows one checkbox per channel labelled with the exact
 * wording (as text: server text is never parsed as HTML), and submits the wording version
 * and sha256 the shopper saw. "Manage my preferences" asks for the preference link by email.
 *
 * Where it can run: product, collection, cart and account pages of any theme. Shopify's
 * checkout runs no theme scripts: consent at checkout needs a Checkout UI extension (or
 * Shopify's own marketing checkbox, which reaches patronkit through webhooks); the order
 * status page accepts scripts through its additional-scripts setting where a shop still has
 * it. WooCommerce checkout is an ordinary page and can include the widget.
 *
 * The API (and this contract) is described in /storefront/v1/openapi.json.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    return;
  }
  var counter = (window.__patronkitWidgets = (window.__patronkitWidgets || 0) + 1);
  var config = {
    api: (script.getAttribute("data-api") || "").replace(/\/+$/, ""),
    platform: script.getAttribute("data-platform") || "",
    shop: script.getAttribute("data-shop") || "",
    locale: script.getAttribute("data-locale") || document.documentElement.lang || "en",
    touchpoint: script.getAttribute("data-touchpoint") || "other",
    channels: script.getAttribute("data-channels") || "",
    target: script.getAttribute("data-target") || ""
  };

  function shopUrl(path) {
    return (
      config.api + "/storefront/v1/shops/" + encodeURIComponent(config.platform) + "/" +
      encodeURIComponent(config.shop) + path
    );
  }

  function request(url, body) {
    var options = { mode: "cors", credentials: "omit", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          return { status: response.status, data: data };
        });
    });
  }

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text !== undefined) {
      node.textContent = text; // never innerHTML: wording and texts are shown as written
    }
    return node;
  }

  function injectStyle() {
    if (document.getElementById("patronkit-consent-style")) {
      return;
    }
    var style = element("style", { id: "patronkit-consent-style" });
    style.textContent =
      ".pk-consent{font:inherit;max-width:32rem;margin:1rem 0}" +
      ".pk-consent .pk-field{margin:.5rem 0}" +
      ".pk-consent .pk-field label{display:block;margin-bottom:.25rem}" +
      ".pk-consent .pk-field input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}" +
      ".pk-consent .pk-choice{display:flex;gap:.5rem;align-items:flex-start;margin:.75rem 0}" +
      ".pk-consent .pk-choice input{margin-top:.25rem;flex:none}" +
      ".pk-consent button{font:inherit;padding:.5rem 1rem;margin:.25rem .5rem .25rem 0;cursor:pointer}" +
      ".pk-consent .pk-status:empty{display:none}" +
      ".pk-consent :focus-visible{outline:3px solid #458fff;outline-offset:2px}";
    document.head.appendChild(style);
  }

  function mount() {
    var host = config.target ? document.querySelector(config.target) : null;
    var container = element("div", { class: "pk-consent", "data-patronkit": "consent" });
    if (host) {
      host.appendChild(container);
    } else {
      script.parentNode.insertBefore(container, script.nextSibling);
    }
    return container;
  }

  function load(container, notice) {
    var query = "?locale=" + encodeURIComponent(config.locale) +
      (config.channels ? "&channels=" + encodeURIComponent(config.channels) : "");
    request(shopUrl("/consent-form" + query))
      .then(function (answer) {
        if (answer.status !== 200 || !answer.data.channels || !answer.data.channels.length) {
          container.textContent = "";
          return;
        }
        render(container, answer.data, notice);
      })
      .catch(function () {
        container.textContent = ""; // the shop's page must not break because we are down
      });
  }

  function render(container, form, notice) {
    var texts = form.texts;
    var id = "pk" + counter;
    var needsPhone = form.channels.some(function (c) {
      return c.contact === "phone";
    });
    container.textContent = "";
    var formNode = element("form", { novalidate: "novalidate", "aria-labelledby": id + "-title" });
    formNode.appendChild(element("h2", { id: id + "-title", class: "pk-title" }, texts.title));

    var emailField = element("div", { class: "pk-field" });
    emailField.appendChild(element("label", { for: id + "-email" }, texts.email_label));
    var email = element("input", {
      id: id + "-email", type: "email", name: "email", autocomplete: "email", inputmode: "email"
    });
    emailField.appendChild(email);
    formNode.appendChild(emailField);

    var phone = null;
    if (needsPhone) {
      var phoneField = element("div", { class: "pk-field" });
      phoneField.appendChild(element("label", { for: id + "-phone" }, texts.phone_label));
      phone = element("input", { id: id + "-phone", type: "tel", name: "phone", autocomplete: "tel" });
      phoneField.appendChild(phone);
      formNode.appendChild(phoneField);
    }

    var boxes = form.channels.map(function (offered) {
      var row = element("div", { class: "pk-choice" });
      var box = element("input", {
        type: "checkbox",
        id: id + "-consent-" + offered.channel,
        name: "consent_" + offered.channel,
        "data-channel": offered.channel
      });
      row.appendChild(box);
      row.appendChild(element("label", { for: box.id }, offered.wording.text));
      formNode.appendChild(row);
      return { box: box, offered: offered };
    });

    var submit = element("button", { type: "submit", class: "pk-submit" }, texts.submit);
    var manage = element("button", { type: "button", class: "pk-manage" }, texts.manage);
    var status = element("p", { class: "pk-status", role: "status", "aria-live": "polite" });
    formNode.appendChild(submit);
    formNode.appendChild(manage);
    formNode.appendChild(status);
    container.appendChild(formNode);
    if (notice) {
      status.textContent = notice;
    }

    function busy(on) {
      submit.disabled = on;
      manage.disabled = on;
    }

    function fail(answer) {
      busy(false);
      if (answer && answer.status === 409) {
        // The wording changed since the page loaded: show the new one before asking again.
        load(container, answer.data.message || texts.error);
        return;
      }
      status.textContent = (answer && answer.data && answer.data.message) || texts.error;
    }

    formNode.addEventListener("submit", function (event) {
      event.preventDefault();
      var channels = {};
      var chosen = 0;
      boxes.forEach(function (item) {
        channels[item.offered.channel] = {
          consent: item.box.checked,
          wording_version: item.offered.wording.version,
          wording_sha256: item.offered.wording.sha256
        };
        chosen += item.box.checked ? 1 : 0;
      });
      if (!chosen) {
        status.textContent = texts.error;
        boxes[0].box.focus();
        return;
      }
      var body = {
        channels: channels,
        touchpoint: config.touchpoint,
        locale: form.locale
      };
      if (email.value.trim()) {
        body.email = email.value.trim();
      }
      if (phone && phone.value.trim()) {
        body.phone = phone.value.trim();
      }
      busy(true);
      status.textContent = "";
      request(shopUrl("/consents"), body)
        .then(function (answer) {
          if (answer.status !== 200) {
            fail(answer);
            return;
          }
          var done = element(
            "p",
            { class: "pk-done", role: "status", tabindex: "-1", "data-status": answer.data.status },
            answer.data.status === "confirmation_sent" ? texts.confirm_sent : texts.thanks
          );
          container.textContent = "";
          container.appendChild(done);
          done.focus();
        })
        .catch(function () {
          fail(null);
        });
    });

    manage.addEventListener("click", function () {
      if (!email.value.trim()) {
        status.textContent = texts.email_label;
        email.focus();
        return;
      }
      busy(true);
      request(shopUrl("/preference-link"), { email: email.value.trim(), locale: form.locale })
        .then(function (answer) {
          busy(false);
          status.textContent = answer.status === 202 ? texts.manage_sent : answer.data.message || texts.error;
        })
        .catch(function () {
          fail(null);
        });
    });
  }

  function start() {
    if (!config.api || !config.platform || !config.shop || !window.fetch) {
      return;
    }
    injectStyle();
    load(mount());
  }

  start();
})();
