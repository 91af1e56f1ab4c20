// Small behaviours of the operator UI; everything else is htmx attributes in the templates.
(function () {
  "use strict";

  // <button data-dialog-open="id"> opens the <dialog id="id"> as a modal (Escape closes it,
  // focus moves into it and back). <button data-dialog-close> closes its dialog.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && !dialog.open) {
        dialog.returnFocusTo = opener;
        dialog.showModal();
      }
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      var owner = closer.closest("dialog");
      if (owner) owner.close();
    }
  });

  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (dialog.returnFocusTo && document.body.contains(dialog.returnFocusTo)) {
      dialog.returnFocusTo.focus();
    }
  }, true);

  // A confirmed action inside a dialog: close the dialog before its element leaves the page.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var dialog = event.target.closest && event.target.closest("dialog[open]");
    if (dialog) dialog.close();
  });

  // The search filters (<details data-fold-on-phone>) fold away on a phone unless one of them
  // is set, so the box and the results make the first screen; on a wide screen they are open.
  // Without JavaScript they stay open, as the page renders them.
  var phone = window.matchMedia("(max-width: 640px)");
  function isSet(field) {
    if (field.type === "hidden" || field.disabled) return false;
    if (field.tagName === "SELECT") return field.selectedIndex > 0;
    return field.value.trim() !== "";
  }
  function foldFilters() {
    document.querySelectorAll("details[data-fold-on-phone]").forEach(function (details) {
      var anySet = Array.prototype.some.call(details.querySelectorAll("select, input"), isSet);
      details.open = !phone.matches || anySet;
    });
  }
  foldFilters();
  phone.addEventListener("change", foldFilters);

  // A table box that scrolls sideways (a phone, the history) takes the keyboard's focus, so
  // that the arrow keys scroll it; it is named after its section. One that fits does not.
  function markScrollables() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        if (box.getAttribute("tabindex") === "0") return;
        var heading = box.closest("section, figure");
        heading = heading && heading.querySelector("h2, h3");
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", (heading ? heading.textContent.trim() + ": " : "") + "table, scrolls sideways");
        box.dataset.scrollable = "marked";
      } else if (box.dataset.scrollable === "marked") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.scrollable;
      }
    });
  }
  markScrollables();
  window.addEventListener("resize", markScrollables);
  document.addEventListener("htmx:afterSettle", markScrollables);

  // A section that comes back puts the focus on its [data-autofocus] element (the tag input,
  // to add the next tag; a conflict) or else its first field with an error, unless the
  // operator has moved on to another field meanwhile: the focus is only taken from nowhere
  // or from inside the section.
  document.addEventListener("htmx:afterSettle", function (event) {
    var focusTarget = event.target.querySelector &&
      (event.target.querySelector("[data-autofocus]") || event.target.querySelector('[aria-invalid="true"]'));
    if (focusTarget) {
      var active = document.activeElement;
      if (!active || active === document.body || event.target.contains(active)) {
        focusTarget.focus();
      }
    }
    announceResults();
  });

  // What an action did: the answer marks its message [data-announce]. The message is read
  // out by the page's polite live region (#live-status: a region that was on the page before
  // the answer came, so that screen readers notice the change), and takes the focus when the
  // control that was used left the page with the old section (focus would drop to <body>).
  function announceResults() {
    var messages = document.querySelectorAll("[data-announce]");
    if (!messages.length) return;
    var texts = [];
    var first = null;
    messages.forEach(function (message) {
      message.removeAttribute("data-announce");
      texts.push(message.textContent.trim());
      if (!first) first = message;
    });
    announce(texts.join(" "));
    var active = document.activeElement;
    if (!active || active === document.body || !document.body.contains(active)) {
      if (!first.hasAttribute("tabindex")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
  }

  function announce(text) {
    var region = document.getElementById("live-status");
    if (!region || !text) return;
    // Emptied first, then filled: the same text twice in a row is read out twice.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  // -------------------------------------------------------------------------------------------
  // A request that fails: the message shows next to the form that sent it, what was typed
  // stays, and the focus stays where it was. A 422 is a form with its errors (base.html's
  // htmx-config swaps it like a 200); any other refusal (403, 404, 409, 5xx), a network
  // failure and a timeout are handled here, so htmx neither swaps an error page into the
  // section nor reports the status as an error of its own.
  if (window.htmx) {
    // An answer that takes longer than this is given up on (htmx:timeout below).
    window.htmx.config.timeout = 20000;
  }

  var FAILURES = {
    403: "You may not make this change: your role can only read profiles. Reload the page to see what you may do.",
    404: "This profile or item no longer exists (someone may have deleted or moved it). Reload the page.",
    409: "Someone else changed this at the same time. Reload the page to see the latest version, then try again.",
    413: "What was sent is too large.",
    429: "Too many requests in a short time. Wait a moment, then try again.",
  };

  function failureMessage(status) {
    if (FAILURES[status]) return FAILURES[status];
    if (status >= 500) return "The server could not save this (error " + status + "). What you typed is kept: try again, or reload the page.";
    return "The change was refused (error " + status + "). Reload the page and try again.";
  }

  function showFailure(element, text) {
    var form = (element && element.closest && element.closest("form")) || element;
    if (!form || !form.parentNode) return;
    // A form inside a dialog that was closed: the message goes beside the dialog's opener.
    var dialog = form.closest("dialog");
    var anchor = dialog || form;
    var message = anchor.nextElementSibling;
    if (!message || !message.hasAttribute("data-request-error")) {
      message = document.createElement("p");
      message.className = "error request-error";
      message.setAttribute("role", "alert");
      message.setAttribute("data-request-error", "");
      message.setAttribute("data-testid", "request-error");
      anchor.parentNode.insertBefore(message, anchor.nextSibling);
    }
    message.textContent = text;
  }

  function clearFailure(element) {
    var form = (element && element.closest && element.closest("form")) || element;
    if (!form) return;
    var anchor = form.closest("dialog") || form;
    var message = anchor.nextElementSibling;
    if (message && message.hasAttribute("data-request-error")) message.remove();
  }

  // A new attempt of the same write takes the old message away (a suggestion list fetched
  // while typing in that form does not: the message is about the write).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.verb === "get") return;
    clearFailure(event.detail.elt);
  });

  // With DEBUG on, django-htmx's debug script puts Django's error page in place of the whole
  // document for a 400, 403, 404 or 500 (its htmx:beforeOnLoad listener on the document): the
  // operator would lose the page and what they typed. The failure is shown at the form
  // instead (htmx:beforeSwap below), so the event stops here, before it reaches that listener.
  window.addEventListener("htmx:beforeOnLoad", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    if (status >= 400 && status !== 422) event.stopPropagation();
  }, true);

  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status < 400 || status === 422) return;
    event.detail.shouldSwap = false;
    event.detail.isError = false; // handled: shown at the form
    showFailure(event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt, failureMessage(status));
  });

  document.addEventListener("htmx:sendError", function (event) {
    showFailure(event.detail.elt, "The server could not be reached: check the connection, then try again. What you typed is kept.");
  });

  document.addEventListener("htmx:timeout", function (event) {
    showFailure(event.detail.elt, "The server did not answer in time. The change may not have been saved: reload the page to check, then try again.");
  });
  // -------------------------------------------------------------------------------------------
  // A section read as a profile, edited on demand. Its Edit ([data-edit-open="id"]) is a link
  // to ?edit=…, which opens the editors without JavaScript; here it opens them in place (the
  // class is-editing on #id shows .edit-only and hides .read-only) and puts the focus on the
  // first field. [data-edit-close="id"] closes them again (with data-edit-reset, dropping
  // what was typed) and gives the focus back to the Edit button.
  function firstField(section) {
    var fields = section.querySelectorAll(".edit-only input:not([type=hidden]), .edit-only select, .edit-only textarea");
    for (var i = 0; i < fields.length; i++) {
      if (!fields[i].disabled && fields[i].getClientRects().length) return fields[i];
    }
    return null;
  }

  function setEditing(id, on, reset) {
    var section = document.getElementById(id);
    if (!section) return;
    if (!on && reset) section.querySelectorAll("form").forEach(function (form) { form.reset(); });
    section.classList.toggle("is-editing", on);
    var opener = section.querySelector('[data-edit-open="' + id + '"]');
    if (on) {
      var field = firstField(section);
      if (field) field.focus();
    } else {
      if (opener) opener.focus();
      forgetEditing(section.getAttribute("data-edit-name"));
    }
  }

  // Closed: the address no longer asks for the editors (?edit=…), so a reload shows the values.
  function forgetEditing(name) {
    var url = new URL(window.location.href);
    var open = url.searchParams.getAll("edit");
    if (!name || open.indexOf(name) === -1) return;
    url.searchParams.delete("edit");
    open.forEach(function (other) { if (other !== name) url.searchParams.append("edit", other); });
    window.history.replaceState(window.history.state, "", url.toString());
  }

  // A save answers the section read as values again: the address forgets its editor too.
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("[data-edit-name]").forEach(function (section) {
      if (!section.classList.contains("is-editing")) forgetEditing(section.getAttribute("data-edit-name"));
    });
  });

  document.addEventListener("click", function (event) {
    var control = event.target.closest("[data-edit-open], [data-edit-close]");
    if (!control) return;
    var opening = control.hasAttribute("data-edit-open");
    var id = control.getAttribute(opening ? "data-edit-open" : "data-edit-close");
    if (!document.getElementById(id)) return;
    event.preventDefault();
    setEditing(id, opening, control.hasAttribute("data-edit-reset"));
  });

  // These links act as buttons (role="button"): Space presses them too.
  document.addEventListener("keydown", function (event) {
    if (event.key !== " ") return;
    var control = event.target.closest && event.target.closest("a[role=button]");
    if (!control) return;
    event.preventDefault();
    control.click();
  });

  // Copy buttons ([data-copy]): shown only where they work (the value beside them stays
  // selectable text); a copy says "Copied" on the button and in the live region.
  function showCopyButtons() {
    if (!(navigator.clipboard && window.isSecureContext)) return;
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }
  showCopyButtons();
  document.addEventListener("htmx:afterSettle", showCopyButtons);

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var value = button.getAttribute("data-copy");
    navigator.clipboard.writeText(value).then(function () {
      button.textContent = "Copied";
      button.classList.add("copied");
      announce("Copied " + value + ".");
      window.setTimeout(function () {
        button.textContent = "Copy";
        button.classList.remove("copied");
      }, 2000);
    }, function () {
      announce("Could not copy: select the text and copy it instead.");
    });
  });
})();
