// What the single-page HTML holds that the PDF must hold too, read by
// scripts/make_pdf.py after MathJax has typeset the page and before anything
// is changed for print; tests/test_pdf.py looks for each item in the PDF.
//
// Text is the text a reader sees, the formulas left out. A formula is the
// glyphs MathJax draws for it (each a character of one of MathJax's fonts,
// the CSS ``content`` of its mjx-c element). Chromium writes them to the PDF
// in MathJax's own (Type 3) fonts in the order it paints them: the glyphs in
// the normal flow ("flow") in the HTML's order, the glyphs of positioned
// parts ("layered": matrices, stretched delimiters, braces) after them.
(setupMarker) => {
  const main = document.querySelector("main") || document.body;
  const glyph = (c) => {
    let content = c.textContent;
    if (!content) {
      content = getComputedStyle(c, "::before").content;
      content = content === "none" ? "" : content.replace(/^"|"$/g, "");
    }
    return content.replace(/\s+/g, "");
  };
  const positioned = (c, root) => {
    for (let e = c; e && e !== root; e = e.parentElement) {
      if (getComputedStyle(e).position !== "static") return true;
    }
    return false;
  };
  const glyphs = (root) => {
    let flow = "", layered = "";
    for (const c of root.querySelectorAll("mjx-c")) {
      if (positioned(c, root)) layered += glyph(c);
      else flow += glyph(c);
    }
    return { flow, layered };
  };
  const words = (element) => {
    const copy = element.cloneNode(true);
    copy.querySelectorAll("mjx-container, .headerlink, script").forEach((e) => e.remove());
    return copy.textContent.replace(/\s+/g, " ").trim();
  };
  const isSetup = (element) => {
    const cell = element.closest("div.cell");
    const pre = cell && cell.querySelector(".cell_input pre");
    return !!pre && pre.textContent.trimStart().startsWith(setupMarker);
  };
  const tables = [];
  for (const table of main.querySelectorAll("table")) {
    if (isSetup(table)) continue;
    tables.push([...table.rows].map((row) => [...row.cells].map((cell) => ({
      text: words(cell),
      math: glyphs(cell),
    }))));
  }
  const equations = [];
  for (const container of main.querySelectorAll('mjx-container[display="true"]')) {
    if (isSetup(container)) continue;
    const number = container.parentElement.querySelector(".eqno");
    equations.push({
      number: number ? words(number) : "",
      math: glyphs(container),
    });
  }
  const code = [];
  for (const pre of main.querySelectorAll("pre")) {
    if (isSetup(pre)) continue;
    code.push(pre.textContent);
  }
  return { tables, equations, code };
}
