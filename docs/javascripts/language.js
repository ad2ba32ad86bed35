// Language switcher: open the same lesson in the other language.
// Each switcher link points at a language's root (中文 at ./, English at en/), and
// every page exists in both languages (tests/test_docs.py). On click we take the
// current page's path below its language's root (the longest root that prefixes
// the address) and open it below the chosen root, with a full page load.
// Why code: Material's instant navigation never re-renders the header, so
// per-page links rendered on the server go stale after the first click.
document.addEventListener(
  "click",
  (event) => {
    const link = event.target.closest && event.target.closest(".md-select__link[hreflang]");
    if (!link) return;
    const roots = [...document.querySelectorAll(".md-select__link[hreflang]")]
      .map((a) => a.href)
      .filter((root) => location.href.startsWith(root))
      .sort((a, b) => b.length - a.length);
    if (!roots.length) return;
    event.preventDefault();
    event.stopPropagation(); // keep instant navigation out of it
    const page = location.href.slice(roots[0].length); // e.g. "autograd/#graph"
    location.href = new URL(page, link.href).href;
  },
  true,
);
