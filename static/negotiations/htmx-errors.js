// htmx swaps nothing when a request fails, so the page would go on showing the old results and
// count under controls that no longer match them. Say so in the live region that announces the
// count, and mark what is out of date until the next successful swap. A file, not an inline
// script: the Content-Security-Policy allows only this site's own scripts.
(() => {
  "use strict";

  function showFailure(event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    const reason = status ? `error ${status}` : "no connection";
    const count = document.querySelector(".result-count[role=status]");
    if (count) {
      count.textContent = `The page could not be updated (${reason}). Reload to try again.`;
      count.classList.add("result-count--error");
    }
    // A failed Back or Forward leaves the whole page behind the address bar, controls included.
    (event.detail.target || document.getElementById("main")).classList.add("is-stale");
  }

  for (const name of ["htmx:responseError", "htmx:sendError", "htmx:historyCacheMissLoadError"]) {
    document.addEventListener(name, showFailure);
  }
  document.addEventListener("htmx:afterSwap", (event) => {
    event.detail.target.classList.remove("is-stale");
  });
})();
