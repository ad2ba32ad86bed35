// Language switcher: open the same lesson in the other language.
// 中文 pages live at <root>/<slug>/, English ones at <root>/en/<slug>/, and every
// page exists in both (tests/test_docs.py). Switching does a full page load: each
// language is its own build, with its own search index and interface strings.
// Material's instant navigation never re-renders the header, so the switcher's
// links can't be made per page on the server; we compute the target on click.
(() => {
  const config = JSON.parse(document.getElementById("__config").textContent);
  // This language's root, resolved once on the first page loaded.
  const root = new URL(config.base, location.href).href;
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest(".md-select__link[hreflang]");
      if (!link || !location.href.startsWith(root)) return;
      event.preventDefault();
      event.stopPropagation(); // keep instant navigation out of it
      const page = location.href.slice(root.length); // e.g. "autograd/#graph"
      location.href = new URL(page, link.href).href;
    },
    true,
  );
})();
