/* The progress page of a document rendered in the background: poll its JSON status
 * (data-render-status) and show the stage, the pages laid out and, when it is done, the
 * download (started at once). A failed render reloads the page, which shows the error and the
 * retry form. Without JavaScript the page refreshes itself (<noscript> meta refresh).
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-render-status]");
  if (!box) { return; }
  var url = box.getAttribute("data-render-status");
  var state = box.getAttribute("data-render-state");
  if (state === "done" || state === "failed") { return; }

  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-render-label]");
  var detail = box.querySelector("[data-render-detail]");

  function showAll(selector, shown) {
    box.querySelectorAll(selector).forEach(function (el) { el.hidden = !shown; });
  }

  function show(status) {
    if (status.state === "queued") {
      bar.removeAttribute("value");  // indeterminate until a worker takes it
    } else {
      bar.value = status.percent;
    }
    bar.textContent = status.percent + "%";
    label.textContent = status.label;
    detail.textContent = status.detail || "";
    if (status.failed) {
      window.location.reload();
      return;
    }
    if (status.done) {
      box.setAttribute("data-render-state", "done");
      showAll("[data-render-pending]", false);
      showAll("[data-render-ready]", true);
      var heading = box.querySelector("h1 [data-render-ready]");
      if (heading) {  // the tab's title follows the heading: "… is ready"
        document.title = document.title.replace(box.getAttribute("data-render-title") || "", heading.textContent);
      }
      var link = box.querySelector("[data-render-download]");
      if (link) { link.focus(); }
      window.location.assign(status.download);
      return;
    }
    window.setTimeout(poll, 1000);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || response.redirected || type.indexOf("application/json") === -1) {
          // Logged out (401), gone (404), or an HTML page where JSON was expected: the page
          // itself knows what to show (the log-in page, the error), so load it again.
          window.location.reload();
          return null;
        }
        return response.json().then(show);
      })
      .catch(function () { window.setTimeout(poll, 3000); });  // the server is unreachable or restarting
  }

  window.setTimeout(poll, 500);
}());
