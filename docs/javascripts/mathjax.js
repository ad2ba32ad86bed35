// MathJax configuration for pymdownx.arithmatex (generic mode).
// Material's documented setup typesets each formula twice: MathJax typesets the
// page at startup, then document$ fires and typesets it again. We turn off the
// startup pass and typeset once per page (first load and every instant
// navigation) from document$. We also load tex-chtml.js, not tex-mml-chtml.js:
// the MathML input would re-typeset MathJax's own assistive MathML.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
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
