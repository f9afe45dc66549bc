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
  // The views answer 200 only when every filter value is valid; errors shown in the form from an
  // earlier, invalid address are then out of date, and htmx swapped only the results.
  function clearFormErrors(form) {
    for (const error of form.querySelectorAll(".error, .form-errors")) {
      error.remove();
    }
    for (const field of form.querySelectorAll(".field--error")) {
      field.classList.remove("field--error");
    }
    for (const control of form.querySelectorAll("[aria-invalid]")) {
      control.removeAttribute("aria-invalid");
      const described = (control.getAttribute("aria-describedby") || "")
        .split(/\s+/)
        .filter((id) => id && !id.endsWith("_error"));
      if (described.length) {
        control.setAttribute("aria-describedby", described.join(" "));
      } else {
        control.removeAttribute("aria-describedby");
      }
    }
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    // A Back or Forward restored from htmx's history cache swaps with no target.
    if (event.detail.target) {
      event.detail.target.classList.remove("is-stale");
    }
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    const form = source && source.closest("form");
    if (form && event.detail.xhr && event.detail.xhr.status === 200) {
      clearFormErrors(form);
    }
  });
})();
