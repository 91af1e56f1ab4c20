// The search page's keyboard: "/" goes to the search box, Esc clears it, the arrow keys move
// through the result rows (Enter opens the focused one: it is a link), "?" shows the
// shortcuts (the <dialog id="shortcuts-help">). The result count is read out after each
// update (the #results-status live region; #results itself is replaced by each answer).
(function () {
  "use strict";

  function box() { return document.getElementById("id_q"); }

  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("#results .row-link"));
  }

  // Typing in a field (or a dialog being open) keeps its keys: "/" and "?" are characters.
  function typing(target) {
    if (!target || !target.closest) return false;
    if (target.isContentEditable) return true;
    if (target.closest("dialog[open]")) return true;
    var field = target.closest("input, textarea, select");
    if (!field) return false;
    var type = (field.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) === -1;
  }

  function announce() {
    var status = document.getElementById("results-status");
    var summary = document.querySelector("#results [data-testid='result-summary']");
    if (status) status.textContent = summary ? summary.textContent.replace(/\s+/g, " ").trim() : "";
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    var search = box();
    if (!search) return;
    var target = event.target;

    if (event.key === "/" && !typing(target)) {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }
    if (event.key === "?" && !typing(target)) {
      var help = document.getElementById("shortcuts-help");
      if (help && !help.open) {
        event.preventDefault();
        help.returnFocusTo = target instanceof HTMLElement ? target : search;
        help.showModal();
      }
      return;
    }
    if (event.key === "Escape" && target === search && search.value !== "") {
      // The browser's own Escape on a search input clears it without an "input" event in
      // every engine: clear it here and let the live search show the start page again.
      event.preventDefault();
      search.value = "";
      search.dispatchEvent(new Event("input", { bubbles: true }));
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var links = rowLinks();
    if (!links.length) return;
    var at = links.indexOf(target);
    if (target === search) {
      if (event.key !== "ArrowDown") return;
      event.preventDefault();
      links[0].focus();
    } else if (at !== -1) {
      event.preventDefault();
      if (event.key === "ArrowDown") {
        links[Math.min(at + 1, links.length - 1)].focus();
      } else if (at === 0) {
        search.focus();
      } else {
        links[at - 1].focus();
      }
    }
  });

  // The box searches as it is typed in: its "change" (sent when the focus leaves it for a
  // result row) would only ask again, and replace the row the focus went to.
  document.addEventListener("change", function (event) {
    if (event.target === box()) event.stopPropagation();
  }, true);

  // New results keep the focus on the row it was on (by position), not lost to the page.
  var focusedRow = -1;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "results") {
      focusedRow = rowLinks().indexOf(document.activeElement);
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target || event.target.id !== "results") return;
    announce();
    var links = rowLinks();
    if (focusedRow !== -1 && links.length && document.activeElement === document.body) {
      links[Math.min(focusedRow, links.length - 1)].focus();
    }
    focusedRow = -1;
  });
  document.addEventListener("DOMContentLoaded", announce);
})();
