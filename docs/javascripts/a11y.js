// Accessibility: Material's search overlay has role="dialog" but no accessible
// name (axe: aria-dialog-name). Name it with the search field's own label, which
// Material already writes in the page's language. The header is never replaced
// by instant navigation, so doing it once is enough.
(() => {
  const dialog = document.querySelector(".md-search[role=dialog]");
  const input = dialog && dialog.querySelector(".md-search__input");
  if (dialog && input) dialog.setAttribute("aria-label", input.getAttribute("aria-label"));
})();
