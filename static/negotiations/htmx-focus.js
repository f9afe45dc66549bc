// A swap that works like following a link (the next page of a list) replaces the link that was
// focused, which would drop focus to the top of the document. The link names, in
// data-focus-after-swap, what takes focus instead: focusing it scrolls it into view and has a
// screen reader read where the reader now is. Swaps without the attribute leave focus alone, so
// a filter control keeps focus while its results change.
(() => {
  "use strict";

  document.addEventListener("htmx:afterSwap", (event) => {
    const trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
    const selector = trigger && trigger.dataset && trigger.dataset.focusAfterSwap;
    const next = selector && document.querySelector(selector);
    if (next) {
      next.focus();
    }
  });
})();
