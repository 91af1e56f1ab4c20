// The search page's selection for bulk actions (templates/populations/_bulk_bar.html): a
// checkbox per row (form="bulk-selection"), one for the whole page, and, once the whole page
// is selected and the search has more, "Select all N matching this search" (the bar's
// hidden "all"). The Actions menu shows while something is selected. Every
// control lives inside #results, which each search answer replaces: the listeners are on the
// document and the state is read from the page each time.
(function () {
  "use strict";

  function bar() { return document.getElementById("bulk-selection"); }
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#results input.bulk-row"));
  }
  function pageBox() { return document.getElementById("bulk-select-page"); }

  function show(element, on) { if (element) element.hidden = !on; }

  // "1,234 people", "about 1.2 million people": the search's total once it is known.
  function totalText() {
    var total = document.querySelector("#results [data-testid='result-total']");
    var text = total ? total.textContent.replace(/\s+/g, " ").trim() : "";
    if (!text || !/\d/.test(text) || /counting|several/i.test(text)) return "people";
    return text;
  }

  function update() {
    var form = bar();
    if (!form) return;
    var boxes = rows();
    var checked = boxes.filter(function (box) { return box.checked; }).length;
    var all = form.querySelector("[data-bulk-all]");
    var everyone = all && all.value === "1";
    var wholePage = boxes.length > 0 && checked === boxes.length;
    var box = pageBox();
    if (box) {
      box.checked = wholePage;
      box.indeterminate = checked > 0 && !wholePage;
    }
    form.querySelectorAll("[data-bulk-count]").forEach(function (count) {
      count.textContent = String(checked);
    });
    form.querySelectorAll("[data-bulk-total]").forEach(function (total) {
      total.textContent = totalText();
    });
    form.classList.toggle("is-selecting", checked > 0 || everyone);
    show(form.querySelector(".bulk-actions"), checked > 0 || everyone);
    show(form.querySelector("[data-bulk-selected]"), checked > 0 && !everyone && !(wholePage && form.dataset.morePages === "yes"));
    show(form.querySelector("[data-bulk-page-banner]"), wholePage && !everyone && form.dataset.morePages === "yes");
    show(form.querySelector("[data-bulk-all-banner]"), everyone);
  }

  function setAll(on) {
    var form = bar();
    var all = form && form.querySelector("[data-bulk-all]");
    if (all) all.value = on ? "1" : "";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target === pageBox()) {
      rows().forEach(function (box) { box.checked = target.checked; });
      setAll(false);
      update();
    } else if (target.classList && target.classList.contains("bulk-row")) {
      setAll(false);
      update();
    }
  });

  document.addEventListener("click", function (event) {
    var selectAll = event.target.closest("[data-bulk-select-all]");
    if (selectAll) {
      setAll(true);
      update();
      var clear = bar() && bar().querySelector("[data-bulk-clear]");
      if (clear) clear.focus();
      return;
    }
    if (event.target.closest("[data-bulk-clear]")) {
      rows().forEach(function (box) { box.checked = false; });
      setAll(false);
      update();
      var box = pageBox();
      if (box) box.focus();
    }
  });

  // A new answer of the search (its rows, or its total counted later) starts from its own
  // state: what the browser kept checked, nothing more.
  document.addEventListener("htmx:afterSettle", update);
  document.addEventListener("DOMContentLoaded", update);
  window.addEventListener("pageshow", update);
})();
