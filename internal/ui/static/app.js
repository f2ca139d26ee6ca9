// Reloads the alerts list every 10 s without reloading the page.
(function () {
  var list = document.getElementById("alerts");
  if (!list) return;
  setInterval(function () {
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("alerts");
        if (fresh) list.innerHTML = fresh.innerHTML;
      })
      .catch(function () {});
  }, 10000);
})();
