// The PDF edition's page preparation, run by scripts/make_pdf.py in the
// single-page HTML (print media, the viewport as wide as the printed page)
// after MathJax has typeset every formula and pdf/print.css is in place.
//
// It opens hidden blocks and removes their "show/hide" labels, removes the
// chapters' set-up cells, marks where chapters start, gives every chapter and
// section heading an id (the PDF's named destinations), writes the title page
// and the contents (page numbers filled in by a second call, see NUMBER),
// wraps code lines longer than the page with a visible marker, scales tables
// and equations wider than the page, and reports what it did and anything
// still wider than the page.
(options) => {
  const { parts, setupMarker, title, author } = options;
  const main = document.querySelector("main") || document.body;
  const report = { setupCells: 0, wrappedLines: 0, scaledTables: [], scaledEquations: [],
                   overflow: [], figures: [], headings: [] };

  // Hidden blocks open, their toggles and labels gone.
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  // A hidden code cell's input is printed as any other (a details element
  // without its summary would show Chromium's own "Details" label).
  for (const details of document.querySelectorAll("details.hide")) {
    details.querySelector(":scope > summary")?.remove();
    details.replaceWith(...details.childNodes);
  }
  document.querySelectorAll(".toggle-hidden").forEach((e) => e.classList.remove("toggle-hidden"));
  document.querySelectorAll("button.toggle-button").forEach((b) => b.remove());

  // The set-up cell (installs relunet outside the book's environment) is not
  // for a reader of the printed book.
  for (const cell of main.querySelectorAll("div.cell")) {
    const pre = cell.querySelector(".cell_input pre");
    if (pre && pre.textContent.trimStart().startsWith(setupMarker)) {
      cell.remove();
      report.setupCells += 1;
    }
  }

  // Chapters: every page of the book after the landing page, each on a new
  // page, its part named above its title when it opens a part.
  const partOf = {};
  parts.forEach((part, p) => part.files.forEach((file, i) => {
    partOf[file] = { part: p, first: i === 0 };
  }));
  const clean = (h) => {
    const copy = h.cloneNode(true);
    copy.querySelectorAll("a.headerlink").forEach((a) => a.remove());
    return copy.textContent.replace(/\s+/g, " ").trim();
  };
  let counter = 0;
  const anchorFor = (h) => {
    if (!h.dataset.pdfId) {
      counter += 1;
      h.dataset.pdfId = `pdf-h${counter}`;
      h.id = h.dataset.pdfId;
    }
    return h.dataset.pdfId;
  };
  const intro = main.querySelector("article h1");
  const entries = [];  // the contents and the outline, in order
  if (intro) {
    entries.push({ level: 1, kind: "front", title: clean(intro), id: anchorFor(intro) });
  }
  const chapters = [];
  for (const anchor of main.querySelectorAll('span[id^="document-"]')) {
    const section = anchor.nextElementSibling;
    const heading = section && section.querySelector("h2");
    if (!heading) continue;
    const file = anchor.id.slice("document-".length);
    const where = partOf[file];
    section.classList.add("pdf-chapter-start");
    if (where && where.first) {
      const label = document.createElement("div");
      label.className = "pdf-part-label";
      label.textContent = parts[where.part].caption;
      heading.before(label);
      entries.push({ level: 0, kind: "part", title: parts[where.part].caption,
                     id: anchorFor(heading) });
    }
    const chapterTitle = clean(heading);
    chapters.push(chapterTitle);
    entries.push({ level: 1, kind: "chapter", title: chapterTitle, id: anchorFor(heading),
                   part: where ? where.part : null });
    for (const sub of section.querySelectorAll("h3")) {
      entries.push({ level: 2, kind: "section", title: clean(sub), id: anchorFor(sub) });
    }
  }

  // Title page and contents, every chapter and section with its page number
  // and a link (Chromium writes a named destination for every link target).
  const cover = document.createElement("div");
  cover.id = "pdf-cover";
  cover.innerHTML = `<h1></h1><p class="pdf-author"></p>
    <p>The PDF edition of the executable book: every chapter, with its stored outputs.</p>`;
  cover.querySelector("h1").textContent = title;
  cover.querySelector(".pdf-author").textContent = author;
  const contents = document.createElement("nav");
  contents.id = "pdf-contents";
  contents.innerHTML = "<h2>Contents</h2>";
  for (const entry of entries) {
    if (entry.kind === "part") {
      const part = document.createElement("div");
      part.className = "pdf-toc-part";
      part.textContent = entry.title;
      contents.append(part);
      continue;
    }
    const link = document.createElement("a");
    link.href = `#${entry.id}`;
    link.className = `pdf-toc-${entry.kind}`;
    link.innerHTML = '<span class="pdf-toc-title"></span><span class="pdf-toc-leader"></span>' +
      `<span class="pdf-toc-page" data-for="${entry.id}">000</span>`;
    link.querySelector(".pdf-toc-title").textContent = entry.title;
    contents.append(link);
  }
  main.prepend(cover, contents);

  // Inline code may break after a dot, an opening bracket, a comma or an
  // underscore (where a reader would), not inside a name.
  for (const code of main.querySelectorAll("code.literal")) {
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    for (const node of texts) {
      const parts = node.data.split(/(?<=[.(\[,_=/])(?=.)/);
      if (parts.length < 2) continue;
      const fragment = document.createDocumentFragment();
      parts.forEach((part, i) => {
        if (i) fragment.append(document.createElement("wbr"));
        fragment.append(part);
      });
      node.replaceWith(fragment);
    }
  }

  // Code and outputs: lines wider than the page are wrapped, at a space when
  // one is in the second half of the line, each continuation opened by a red
  // arrow and indented as its line.
  const probe = document.createElement("span");
  for (const pre of main.querySelectorAll("pre")) {
    probe.textContent = "0".repeat(100);
    pre.append(probe);
    const charWidth = probe.getBoundingClientRect().width / 100;
    probe.remove();
    const style = getComputedStyle(pre);
    const inner = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const columns = Math.floor(inner / charWidth) - 1;
    if (!(columns > 20)) continue;
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    const nodes = [];
    let text = "";
    while (walker.nextNode()) {
      nodes.push({ node: walker.currentNode, start: text.length });
      text += walker.currentNode.data;
    }
    const breaks = [];  // [offset, indent]
    let lineStart = 0;
    for (const line of text.split("\n")) {
      if (line.length > columns) {
        const indent = Math.min(line.match(/^ */)[0].length, columns / 2);
        let pos = 0;
        let width = columns;
        while (line.length - pos > width) {
          let cut = line.lastIndexOf(" ", pos + width - 1) + 1;
          if (cut <= pos + width / 2) cut = pos + width;
          breaks.push([lineStart + cut, indent]);
          pos = cut;
          width = columns - indent - 2;
        }
      }
      lineStart += line.length + 1;
    }
    for (const [offset, indent] of breaks.reverse()) {
      let k = nodes.length - 1;
      while (k > 0 && nodes[k].start > offset) k -= 1;
      const { node, start } = nodes[k];
      const rest = node.splitText(offset - start);
      const marker = document.createElement("span");
      marker.className = "pdf-wrap";
      marker.textContent = "\u21aa";
      rest.before(document.createTextNode("\n" + " ".repeat(indent)), marker);
      report.wrappedLines += 1;
    }
  }

  // Tables wider than the page are scaled to fit it.
  for (const table of main.querySelectorAll("table")) {
    const box = table.parentElement.getBoundingClientRect().width;
    const width = table.getBoundingClientRect().width;
    if (width > box + 0.5) {
      const scale = box / width;
      table.style.zoom = scale.toFixed(3);
      report.scaledTables.push({ text: table.innerText.slice(0, 60), scale });
    }
  }

  // Display equations wider than their line (beside their number) are set in
  // a smaller size.
  for (const container of main.querySelectorAll('mjx-container[display="true"]')) {
    const math = container.querySelector("mjx-math");
    if (!math) continue;
    const box = container.getBoundingClientRect().width;
    const width = math.getBoundingClientRect().width;
    if (width > box - 1) {
      const scale = Math.max(0.4, (box - 2) / width);
      container.style.fontSize = `${(100 * scale).toFixed(1)}%`;
      const number = container.parentElement.querySelector(".eqno");
      report.scaledEquations.push({ number: number ? number.textContent : "", scale });
    }
  }

  // Figures: never printed below 200 dpi. A raster image is shown no wider than
  // its pixels at CAP_DPI, 205, a margin for the layout's rounding of widths (the
  // chapters' figures have twice the pixels of their size on screen, 192 dpi at
  // that size). Then their resolution as printed is recorded (CSS px are 1/96 in).
  const CAP_DPI = 205;
  for (const img of main.querySelectorAll("img")) {
    if (!/\.svg$/i.test(img.getAttribute("src") || "") && img.naturalWidth) {
      const widest = (img.naturalWidth / CAP_DPI) * 96;
      if (img.getBoundingClientRect().width > widest) img.style.width = `${widest}px`;
    }
  }
  for (const img of main.querySelectorAll("img")) {
    const shown = img.getBoundingClientRect().width;
    if (!shown) continue;
    const caption = img.closest("figure")?.querySelector(".caption-number");
    report.figures.push({
      src: img.getAttribute("src"),
      caption: caption ? caption.textContent.trim() : "",
      dpi: Math.round((img.naturalWidth / shown) * 96),
      vector: /\.svg$/i.test(img.getAttribute("src") || ""),
    });
  }

  // Anything still wider than the page is reported.
  const right = main.getBoundingClientRect().right + 1;
  const selectors = "pre, table, mjx-math, img, figure, .admonition, p, li";
  for (const element of main.querySelectorAll(selectors)) {
    const rect = element.getBoundingClientRect();
    const scrolls = element.scrollWidth > element.clientWidth + 1 &&
      getComputedStyle(element).overflowX !== "visible";
    if (rect.width && (rect.right > right || scrolls)) {
      report.overflow.push(`${element.tagName.toLowerCase()}: ` +
        `${(element.innerText || element.getAttribute("src") || "").slice(0, 80)}`);
    }
  }

  report.entries = entries;
  report.chapters = chapters;
  return report;
}
