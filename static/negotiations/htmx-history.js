// The filter forms update the results while someone types, and every update pushes its URL so
// the address bar shows what is on screen. Left alone, each typing pause would add a history
// entry ("cease", "ceasefire", "ceasefire monit"), and Back would walk through half-typed
// queries. Here a typing stretch makes one entry: its first update pushes, the later ones
// replace that entry. A submit or a change of another control is a new view and still pushes.
// Loading the URL already shown replaces too, so submitting twice leaves no duplicate entry.
// A file, not an inline script: the Content-Security-Policy allows only this site's own scripts.
(() => {
  "use strict";

  // Whether the current history entry is the one the ongoing typing stretch pushed.
  let typing = false;

  document.addEventListener("htmx:beforeHistoryUpdate", (event) => {
    const update = event.detail.history;
    const trigger = event.detail.requestConfig.triggeringEvent;
    // Only the forms' live updates are triggered by "input" (hx-trigger="input changed delay…").
    const live = Boolean(trigger) && trigger.type === "input";
    const same = new URL(update.path, window.location.href).href === window.location.href;
    // htmx reads the type back from this object after the event.
    if (update.type === "push" && (same || (live && typing))) {
      update.type = "replace";
    }
    typing = live;
  });

  // After Back or Forward the current entry is another view: the next typing starts afresh.
  window.addEventListener("popstate", () => {
    typing = false;
  });
  // A committed value (Enter, or leaving the box) ends the stretch, as does any other control.
  document.addEventListener("change", () => {
    typing = false;
  });
})();
