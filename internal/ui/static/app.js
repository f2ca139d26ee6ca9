// Live updates: every element with a data-live attribute (and an id) is
// refreshed from a fresh copy of the page every 10 s, without reloading it
// (forms being filled in stay as they are). window.trailwatchRefresh()
// refreshes at once and returns a Promise (tests call it).
(function () {
  "use strict";
  function live() { return document.querySelectorAll("[data-live][id]"); }
  function refresh() {
    if (live().length === 0) return Promise.resolve(false);
    return fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (!html) return false;
        var doc = new DOMParser().parseFromString(html, "text/html");
        live().forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh && fresh.innerHTML !== el.innerHTML) {
            el.innerHTML = fresh.innerHTML;
            el.className = fresh.className;
          }
        });
        return true;
      })
      .catch(function () { return false; });
  }
  window.trailwatchRefresh = refresh;
  setInterval(function () {
    if (!document.hidden) refresh();
  }, 10000);
})();
