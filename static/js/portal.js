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

  // A section that comes back puts the focus on its [data-autofocus] field (the tag input, to
  // add the next tag; a field with an error), unless the operator has moved on to another
  // field meanwhile: the focus is only taken from nowhere or from inside the section.
  document.addEventListener("htmx:afterSettle", function (event) {
    var focusTarget = event.target.querySelector && event.target.querySelector("[data-autofocus]");
    if (!focusTarget) return;
    var active = document.activeElement;
    if (active && active !== document.body && !event.target.contains(active)) return;
    focusTarget.focus();
  });
})();
