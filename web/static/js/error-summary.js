// A refused form's error summary (pages/_macros.html error_summary): it takes focus
// when the page shows it, so a screen reader reads every problem first, and each
// link moves focus into its field (a plain #link only scrolls), opening a closed
// <details> around it.
const summary = document.querySelector("[data-error-summary]");
if (summary) {
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    const details = target.closest("details");
    if (details) details.open = true;
    const field = target.matches("input, select, textarea")
      ? target : target.querySelector("input, select, textarea");
    (field || target).focus();
    (target.closest(".field, fieldset") || target).scrollIntoView({ block: "center" });
    history.replaceState(null, "", link.getAttribute("href"));
  });
}
