// Copying text that holds formulas gives their TeX, e.g. "the gradient \(h^\top\) ...".
// Formulas are typeset at build time (hooks/math_render.py), and what a reader sees of
// them is drawn by CSS, which the browser would copy as nothing. Each formula's element
// keeps its TeX in data-tex; this puts it in place of the formula in the copied text.
// Covered by tests/test_browser.py (test_copying_a_formula_gives_its_tex).
document.addEventListener("copy", (event) => {
  const selection = document.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return;
  const range = selection.getRangeAt(0);
  const inside = range.commonAncestorContainer;
  const formula = (inside.nodeType === 1 ? inside : inside.parentElement).closest("[data-tex]");
  let text;
  if (formula) {
    text = formula.dataset.tex; // the selection is within one formula: copy all of it
  } else {
    const copy = document.createElement("div");
    copy.append(range.cloneContents());
    if (!copy.querySelector("[data-tex]")) return; // no formula: the browser copies as usual
    copy.querySelectorAll("[data-tex]").forEach((m) => m.replaceWith(m.dataset.tex));
    copy.querySelectorAll("mjx-assistive-mml").forEach((m) => m.remove());
    text = copy.textContent;
  }
  event.clipboardData.setData("text/plain", text);
  event.preventDefault();
});
