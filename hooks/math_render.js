// Typeset TeX with MathJax at build time, for hooks/math_render.py.
//
// Usage: node math_render.js <MathJax es5 folder>  (the django-static-mathjax wheel's)
// stdin:  JSON list of {tex, display}
// stdout: JSON list, one entry per formula, in the same order:
//         {html, css, width}  the CHTML markup (with assistive MathML for screen
//                             readers), the CSS rules it needs (a list of blocks),
//                             and its width in em; or
//         {error}             MathJax's message, for a formula that doesn't parse.
//
// TeX errors throw instead of rendering red text, and \undefinedmacro is an error too
// (the noundefined package is left out), so a bad formula fails the build.
const es5 = process.argv[2];

require(`${es5}/node-main.js`)
  .init({
    loader: { load: ["input/tex", "output/chtml", "a11y/assistive-mml"] },
    tex: {
      packages: { "[-]": ["noundefined"] },
      formatError: (jax, err) => {
        throw err;
      },
    },
    // Fonts are served next to the stylesheet: assets/mathjax/output/chtml/fonts/woff-v2
    chtml: { fontURL: "output/chtml/fonts/woff-v2" },
    startup: { typeset: false },
  })
  .then((MathJax) => {
    const adaptor = MathJax.startup.adaptor;
    const doc = MathJax.startup.document;
    const output = MathJax.startup.output;
    const STATE = MathJax._.core.MathItem.STATE;

    // The formula's width in em, from MathJax's own font metrics (no browser needed).
    const width = (tex, display) => {
      const item = new doc.options.MathItem(tex, doc.inputJax[0], display);
      item.setMetrics(16, 8, 1e6, 1e6, 1);
      item.convert(doc, STATE.CONVERT);
      const box = output.getBBox(item, doc);
      return box.L + box.w + box.R;
    };

    const formulas = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const results = formulas.map(({ tex, display }) => {
      try {
        output.clearCache(); // so the stylesheet below holds this formula's rules only
        const html = adaptor.outerHTML(MathJax.tex2chtml(tex, { display }));
        const css = adaptor.textContent(MathJax.chtmlStylesheet()).split(/\n\n+/).filter((b) => b.trim());
        return { html, css, width: width(tex, display) };
      } catch (err) {
        return { error: String(err.message || err) };
      }
    });
    process.stdout.write(JSON.stringify(results));
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
