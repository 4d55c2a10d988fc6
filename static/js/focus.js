/*
 * Where focus goes when part of a page changes, so that keyboard and screen-reader users are
 * not sent back to the top of the page.
 *
 * After htmx swaps in new content, the element that had focus (the button just pressed) is
 * gone and the browser falls back to <body>. Focus moves into the new content instead, to the
 * first of:
 *   - the element that data-focus-after names on the element that made the request
 *     (Cancel in a confirmation step returns focus to the Remove button it came from);
 *   - [data-focus]: what the server marked (the question of a confirmation step);
 *   - [aria-invalid="true"]: the first refused control, read out with its label and error;
 *   - [role="status"]: the message saying what changed ("The place is added."), read out;
 *   - the first heading of the new content.
 * When the element that had focus is still there (a filter's <select> outside the list it
 * updates), focus stays on it: moving focus on input is a change of context (WCAG 3.2.2), and
 * a keyboard user arrowing through the options would lose the select after the first one.
 * A page that loads with an error summary starts with focus on the summary.
 *
 * Elements that cannot take focus by nature get tabindex="-1": focusable from here, but not
 * added to the tab order. Loaded by _base.html as a file of the site (the CSP allows no inline
 * script).
 */
(function () {
  "use strict";

  var TARGETS = [
    "[data-focus]",
    '[aria-invalid="true"]',
    '[role="status"]',
    "h1, h2, h3, h4, h5, h6",
  ];

  function focusOn(element) {
    if (!element || !element.isConnected) {
      return false;
    }
    if (element.tabIndex < 0 && !element.hasAttribute("tabindex")) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus();
    return document.activeElement === element;
  }

  function firstTarget(root) {
    for (var i = 0; i < TARGETS.length; i += 1) {
      var found = root.matches(TARGETS[i]) ? root : root.querySelector(TARGETS[i]);
      if (found) {
        return found;
      }
    }
    return root;
  }

  var focusedBeforeSwap = null;

  document.addEventListener("htmx:beforeSwap", function () {
    focusedBeforeSwap = document.activeElement;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var before = focusedBeforeSwap;
    focusedBeforeSwap = null;
    if (before && before !== document.body && before.isConnected) {
      return;
    }
    var swapped = event.target;
    var config = event.detail && event.detail.requestConfig;
    var returnTo = config && config.elt && config.elt.getAttribute("data-focus-after");
    if (returnTo && focusOn(document.querySelector(returnTo))) {
      return;
    }
    if (swapped instanceof Element) {
      focusOn(firstTarget(swapped));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    focusOn(document.querySelector(".error-summary"));
  });
})();
