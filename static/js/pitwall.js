// Progressive enhancement only: every page works without JavaScript.
// NHS.UK frontend starts only on a body marked as supported; the CSP forbids the usual inline
// snippet, and a module script runs only in browsers that support the design system anyway.
import { initAll } from "../nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("nhsuk-frontend-supported");
initAll();
