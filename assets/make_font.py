#!/usr/bin/env python3
"""Builds assets/NotoSansSC-xiezuo.ttf, the one font embedded in xiezuo's charts.

It is Noto Sans CJK SC Regular (SIL Open Font License 1.1, see NotoSansSC-xiezuo.LICENSE)
cut down to Latin (Basic, Latin-1, Extended-A and the pinyin tone letters), Greek and
Cyrillic, general and CJK punctuation, arrows and common math signs, full-width forms and
every character of GB2312, with its cubic CFF outlines converted to quadratic TrueType
(glyf) outlines, which every TrueType rasteriser reads (plotters draws with ab_glyph), and
a one-point contour at the origin of each glyph with a positive left side bearing (see
`to_truetype`), so that plotters spaces letters evenly.

    apt-get install -y fonts-noto-cjk      # /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
    pip install fonttools
    python3 assets/make_font.py [path/to/NotoSansCJK-Regular.ttc]

The output is deterministic for a given input file and fontTools version.
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, newTable

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = Path(__file__).resolve().parent / "NotoSansSC-xiezuo.ttf"
FAMILY = "Noto Sans CJK SC"


def gb2312() -> set:
    """Every character of GB2312 (rows 0xA1-0xF7, cells 0xA1-0xFE)."""
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return out


def wanted() -> set:
    ranges = [
        (0x0020, 0x007E),  # Basic Latin
        (0x00A0, 0x00FF),  # Latin-1 (·, ×, °, ±, accented letters)
        (0x0100, 0x017F),  # Latin Extended-A (pinyin ā, ē, ī, ō, ū; European names)
        (0x01CD, 0x01DC),  # pinyin ǎ, ǐ, ǒ, ǔ, ǖ, ǘ, ǚ, ǜ
        (0x02C6, 0x02DD),  # spacing modifiers (ˇ, ˉ, ˊ, ˋ)
        (0x0391, 0x03C9),  # Greek
        (0x0401, 0x0451),  # Cyrillic
        (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
        (0x2030, 0x203B),  # per mille, primes, reference mark
        (0x2070, 0x209F),  # super- and subscripts
        (0x20AC, 0x20AC),  # euro
        (0x2103, 0x2103),  # degree Celsius
        (0x2116, 0x2116),  # numero
        (0x2190, 0x2199),  # arrows (E→W)
        (0x2200, 0x22FF),  # mathematical operators (−, ≤, ≥, ≈, ∞)
        (0x2460, 0x2473),  # circled numbers
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0xFF01, 0xFF5E),  # full-width forms
        (0xFFE0, 0xFFE5),  # full-width signs
    ]
    chars = set()
    for a, b in ranges:
        chars.update(range(a, b + 1))
    return chars | gb2312()


def to_truetype(font) -> None:
    """Replaces the CFF table by glyf/loca with quadratic outlines (max error 1 unit)."""
    order = font.getGlyphOrder()
    glyphset = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphset)
        glyphset[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        bounds = ControlBoundsPen(glyphset)
        glyphset[name].draw(bounds)
        if bounds.bounds is not None and bounds.bounds[0] > 0:
            # plotters (0.3.7) places a glyph's bounding box, not its origin, at the pen
            # position, dropping the left side bearing, so letters would sit unevenly. A
            # one-point contour at (0, yMin) puts the box's left edge on the origin; it
            # draws nothing and leaves the advance and the vertical extent as they were.
            pen.moveTo((0, bounds.bounds[1]))
            pen.lineTo((0, bounds.bounds[1]))  # TTGlyphPen keeps one point of the two
            pen.closePath()
        glyphs[name] = pen.glyph()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = glyphs
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
        "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    font.sfntVersion = "\x00\x01\x00\x00"
    font.recalcBBoxes = True


def main() -> None:
    font = TTCollection(SRC).fonts[2]
    if font["name"].getDebugName(1) != FAMILY:
        sys.exit(f"{SRC}: font 2 is {font['name'].getDebugName(1)!r}, expected {FAMILY!r}")
    opts = subset.Options()
    opts.hinting = False
    opts.glyph_names = False
    opts.notdef_outline = True
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    opts.name_languages = [0x409]
    opts.drop_tables += ["VORG", "vhea", "vmtx", "DSIG", "BASE", "GSUB", "GPOS"]
    s = subset.Subsetter(opts)
    s.populate(unicodes=sorted(wanted()))
    s.subset(font)
    to_truetype(font)
    font.recalcTimestamp = False  # keep the source's date: same input, same bytes
    font.save(OUT, reorderTables=True)
    cmap = font.getBestCmap()
    missing = sorted(c for c in gb2312() if c not in cmap)
    print(f"{OUT.name}: {OUT.stat().st_size / 1e6:.2f} MB, {len(font.getGlyphOrder())} glyphs, "
          f"{len(cmap)} characters; GB2312 characters missing: {len(missing)}")


if __name__ == "__main__":
    main()
