// Progressive enhancement only: every page works without JavaScript.
// NHS.UK frontend starts only on a body marked as supported; the CSP forbids the usual inline
// snippet, and a module script runs only in browsers that support the design system anyway.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("nhsuk-frontend-supported");
initAll();

// A page showing something short-lived (the check-in code on a screen at a venue) renews
// itself; without JavaScript, the page's own button does the same.
const renewing = document.querySelector("[data-pitwall-refresh]");
if (renewing) {
  const seconds = Number(renewing.dataset.pitwallRefresh) || 240;
  window.setTimeout(() => window.location.reload(), seconds * 1000);
}
