// Starts govuk-frontend's JavaScript enhancements. Loaded as a module, so only
// browsers that govuk-frontend supports run it; pages work without it.
// (A file rather than an inline script, so the Content-Security-Policy can forbid
// inline scripts.)
import { initAll } from "/assets/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
