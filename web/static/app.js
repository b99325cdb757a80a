/* 矛盾纠纷调处平台 — small progressive enhancements; every page works without them.
 * - [data-rows] lists (parties, agreement terms): add and remove rows. The server
 *   renders enough rows for use without JavaScript; a <template data-row-template>
 *   holds a blank row whose names and ids contain __index__.
 * - The filing form shows only the categories of the chosen kind of mediation.
 */
(function () {
  "use strict";

  var INDEX = /__index__/g;
  var ROW_INDEX = /^(?:.*?-)?(?:parties|terms|members)-(\d+)-/;

  function rowIndex(row) {
    var named = row.querySelector("[name]");
    var match = named && named.getAttribute("name").match(ROW_INDEX);
    return match ? parseInt(match[1], 10) : -1;
  }

  function renumber(list) {
    var rows = list.querySelectorAll(":scope > [data-row]");
    rows.forEach(function (row, i) {
      var number = row.querySelector("[data-row-number]");
      if (number) { number.textContent = String(i + 1); }
      var remove = row.querySelector("[data-remove-row]");
      if (remove) { remove.hidden = rows.length <= 1; }
    });
  }

  function isBlank(row) {
    var typed = row.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), textarea");
    return Array.prototype.every.call(typed, function (input) { return !input.value.trim(); }) &&
      !row.querySelector(".error");
  }

  function bindRemove(list, row) {
    var remove = row.querySelector("[data-remove-row]");
    if (!remove) { return; }
    remove.addEventListener("click", function () {
      row.remove();
      renumber(list);
    });
  }

  function setUpRows(container) {
    var list = container.querySelector("[data-rows]");
    var template = container.querySelector("template[data-row-template]");
    var add = container.querySelector("[data-add-row]");
    if (!list || !template || !add) { return; }
    // Without JavaScript the server offers several blank rows; with it, blank rows past
    // the first data-keep are dropped (the add button brings them back).
    var keep = parseInt(list.getAttribute("data-keep") || "1", 10);
    list.querySelectorAll(":scope > [data-row]").forEach(function (row, i) {
      if (i >= keep && isBlank(row)) { row.remove(); } else { bindRemove(list, row); }
    });
    add.hidden = false;
    add.addEventListener("click", function () {
      var next = 0;
      list.querySelectorAll(":scope > [data-row]").forEach(function (row) {
        next = Math.max(next, rowIndex(row) + 1);
      });
      var html = template.innerHTML.replace(INDEX, String(next));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      list.appendChild(row);
      bindRemove(list, row);
      renumber(list);
      var first = row.querySelector("input[type=text], input:not([type]), select, textarea");
      if (first) { first.focus(); }
    });
    renumber(list);
  }

  function setUpCategoryFilter(form) {
    var workflow = form.querySelector("select[name=workflow]");
    var category = form.querySelector("select[name=category]");
    if (!workflow || !category) { return; }
    function apply() {
      var chosen = workflow.value;
      category.querySelectorAll("optgroup").forEach(function (group) {
        var options = group.querySelectorAll("option");
        var match = options.length && options[0].getAttribute("data-workflow") === chosen;
        group.hidden = !match;
        group.disabled = !match;
      });
      var selected = category.options[category.selectedIndex];
      if (!selected || selected.parentElement.disabled) {
        var firstOk = category.querySelector("optgroup:not([disabled]) option");
        if (firstOk) { firstOk.selected = true; }
      }
    }
    workflow.addEventListener("change", apply);
    apply();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-rows]").forEach(function (list) { setUpRows(list.parentElement); });
    document.querySelectorAll("form.filing").forEach(setUpCategoryFilter);
    // After a refused submission, take the reader (and a screen reader) to what went wrong:
    // the first marked field of the refused form, else the message on top.
    var alert = document.querySelector(".alert[tabindex]");
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    var invalid = target && !target.classList.contains("alert") ? target.querySelector("[aria-invalid=true]") : null;
    if (invalid) { invalid.focus(); } else if (alert) { alert.focus(); }
  });
}());
