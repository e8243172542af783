// Pages that change while open (the overview, a request that is still moving) reload themselves
// every few seconds, but only while the tab is visible. Nothing else runs in the browser.
(function () {
  var seconds = parseInt(document.body.getAttribute("data-refresh-s") || "0", 10);
  if (!seconds || seconds < 1) { return; }
  setInterval(function () {
    if (document.visibilityState === "visible") { window.location.reload(); }
  }, seconds * 1000);
}());
