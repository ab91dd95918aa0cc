// Lepton's only hand-written script. Polling elements (data-poll) skip their request while
// the tab is hidden, so a page left open in the background costs the server nothing; the
// next tick after the tab is shown again brings it up to date.
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.hidden && event.detail.elt.hasAttribute("data-poll")) {
    event.preventDefault();
  }
});
