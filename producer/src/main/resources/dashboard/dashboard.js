// Lovage dashboard: refreshes each page's [data-live] regions in place by reading the same page
// again (short polling), asks before a form with data-confirm is sent, copies text for
// [data-copy]. No framework, nothing loaded from elsewhere; the pages work without it.
"use strict";
(function () {
  var PERIOD_MS = 2000;

  function live() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live][id]"));
  }

  function refresh() {
    var regions = live();
    // A finished task's page does not change any more; a region being used keeps its focus.
    if (regions.length === 0 || document.hidden ||
        regions.every(function (r) { return r.hasAttribute("data-final"); })) {
      return;
    }
    fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || !response.ok) { throw new Error("status " + response.status); }
        return response.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html");
        regions.forEach(function (region) {
          var next = fresh.getElementById(region.id);
          if (next && !region.contains(document.activeElement) &&
              next.innerHTML !== region.innerHTML) {
            region.replaceWith(document.importNode(next, true));
          }
        });
      })
      .catch(function () { /* the next tick tries again */ });
  }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  document.addEventListener("click", function (event) {
    var id = event.target.getAttribute && event.target.getAttribute("data-copy");
    var source = id && document.getElementById(id);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent).then(function () {
        event.target.textContent = "Copied";
      });
    }
  });

  // A region may ask to be read less often (data-period, in ms): the workers page asks each worker.
  function period() {
    var asked = live().map(function (r) { return Number(r.getAttribute("data-period")) || 0; });
    return Math.max.apply(null, [PERIOD_MS].concat(asked));
  }

  (function tick() {
    setTimeout(function () { refresh(); tick(); }, period());
  })();
})();
