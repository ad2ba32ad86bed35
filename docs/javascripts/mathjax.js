// MathJax configuration for pymdownx.arithmatex (generic mode).
// Material's documented setup typesets each formula twice: MathJax typesets the
// page at startup, then document$ fires and typesets it again. We turn off the
// startup pass and typeset once per page (first load and every instant
// navigation) from document$. We also load tex-chtml.js, not tex-mml-chtml.js:
// the MathML input would re-typeset MathJax's own assistive MathML.
// Only two kinds of element are typeset: arithmatex's (lesson pages, \( \) and
// \[ \]) and notebook markdown cells (jp-RenderedMarkdown, $ $ and $$ $$ as in
// Jupyter). Everything else is skipped, so a $ in ordinary text stays a dollar sign:
// ignoreHtmlClass matches every element that has a class, so MathJax skips them
// unless processHtmlClass matches. Material's ".*|" also matches class-less
// elements, which would skip the <p> inside a notebook cell.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".+",
    processHtmlClass: "arithmatex|jp-RenderedMarkdown",
  },
  startup: {
    typeset: false,
  },
};

document$.subscribe(() => {
  MathJax.startup.promise.then(() => {
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    return MathJax.typesetPromise();
  });
});
