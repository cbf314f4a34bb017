// What the single-page HTML holds that the PDF must hold too, read by
// scripts/make_pdf.py after MathJax has typeset the page and before anything
// is changed for print; tests/test_pdf.py looks for each item in the PDF.
//
// Text is the text a reader sees, the formulas left out. A formula is the
// glyphs MathJax draws for it (each a character of one of MathJax's fonts,
// the CSS ``content`` of its mjx-c element), in two groups: "glyphs", and the
// pieces of stretched delimiters, braces and arrows ("stretchy"), which
// Chromium may paint after the rest of the page, and the extenders repeated to
// stretch them (mjx-ext), whose number depends on the width.
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
  const glyphs = (root) => {
    let plain = "", stretchy = "", extenders = "";
    for (const c of root.querySelectorAll("mjx-c")) {
      if (c.closest("mjx-ext")) extenders += glyph(c);
      else if (c.closest("mjx-stretchy-h, mjx-stretchy-v")) stretchy += glyph(c);
      else plain += glyph(c);
    }
    return { glyphs: plain, stretchy, extenders };
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
