//! The one font embedded in every chart (a Latin + GB2312 subset of Noto Sans CJK SC, see
//! `assets/make_font.py`), so that Chinese region and scenario names render as text on a
//! machine with no fonts installed, and the check that warns when a name has a character
//! the font lacks (it would be drawn as a box).

use std::collections::BTreeSet;
use std::sync::{Mutex, Once, OnceLock};

use plotters::style::FontStyle;

/// The embedded font (TrueType outlines), registered with plotters as `sans-serif`.
pub const FONT_BYTES: &[u8] = include_bytes!("../../assets/NotoSansSC-xiezuo.ttf");

static REGISTER: Once = Once::new();

/// Registers the embedded font with plotters (once per process).
pub fn register() {
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate (a unit test loads it).
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]) as u32)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// The code points that `font` maps to a glyph other than `.notdef`, sorted (from its
/// Unicode `cmap` subtable, format 12 or 4). `None` if the font has no such subtable.
pub fn coverage(font: &[u8]) -> Option<Vec<u32>> {
    let tables = be16(font, 4)? as usize;
    let cmap = (0..tables).find_map(|i| {
        let rec = 12 + 16 * i;
        (font.get(rec..rec + 4)? == b"cmap").then(|| be32(font, rec + 8))?
    })? as usize;
    let subtables = be16(font, cmap + 2)? as usize;
    let mut best: Option<(u32, usize)> = None; // (format, offset)
    for i in 0..subtables {
        let rec = cmap + 4 + 8 * i;
        let (platform, encoding) = (be16(font, rec)?, be16(font, rec + 2)?);
        let unicode = platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10));
        if !unicode {
            continue;
        }
        let off = cmap + be32(font, rec + 4)? as usize;
        let format = be16(font, off)?;
        if (format == 12 || format == 4) && best.is_none_or(|(f, _)| format > f) {
            best = Some((format, off));
        }
    }
    let (format, off) = best?;
    let mut out = Vec::new();
    if format == 12 {
        let groups = be32(font, off + 12)? as usize;
        for g in 0..groups {
            let at = off + 16 + 12 * g;
            let (start, end, glyph) = (be32(font, at)?, be32(font, at + 4)?, be32(font, at + 8)?);
            for c in start..=end.min(0x10_FFFF) {
                if glyph + (c - start) != 0 {
                    out.push(c);
                }
            }
        }
    } else {
        let seg2 = be16(font, off + 6)? as usize;
        let ends = off + 14;
        let starts = ends + seg2 + 2;
        let deltas = starts + seg2;
        let ranges = deltas + seg2;
        for s in (0..seg2).step_by(2) {
            let (end, start) = (be16(font, ends + s)?, be16(font, starts + s)?);
            let (delta, range) = (be16(font, deltas + s)?, be16(font, ranges + s)?);
            for c in start..=end {
                if c == 0xFFFF {
                    continue;
                }
                let glyph = if range == 0 {
                    (c + delta) & 0xFFFF
                } else {
                    let at = ranges + s + range as usize + 2 * (c - start) as usize;
                    match be16(font, at)? {
                        0 => 0,
                        g => (g + delta) & 0xFFFF,
                    }
                };
                if glyph != 0 {
                    out.push(c);
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

fn embedded() -> &'static [u32] {
    static COVER: OnceLock<Vec<u32>> = OnceLock::new();
    COVER.get_or_init(|| coverage(FONT_BYTES).unwrap_or_default())
}

/// Whether the embedded font has a glyph for `c` (controls and spaces need none).
pub fn covers(c: char) -> bool {
    c.is_control() || embedded().binary_search(&(c as u32)).is_ok()
}

/// The distinct characters of `text` that the embedded font lacks, in order of appearance.
pub fn missing(text: &str) -> Vec<char> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if !covers(c) && !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The warning for `text` (a name shown as `what`), or `None` if the font covers it.
pub fn warning(what: &str, text: &str) -> Option<String> {
    let miss = missing(text);
    if miss.is_empty() {
        return None;
    }
    let list = miss
        .iter()
        .map(|c| format!("'{c}' (U+{:04X})", *c as u32))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "warning: the chart font has no glyph for {list} in {what} \"{text}\"; charts draw it as a box (the embedded font covers Latin and GB2312)"
    ))
}

/// Prints [`warning`] on stderr, once per process and text.
pub fn warn_missing(what: &str, text: &str) {
    static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if let Some(w) = warning(what, text) {
        let mut done = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        if done.insert(text.to_string()) {
            eprintln!("{w}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    #[test]
    fn the_font_covers_latin_gb2312_names_and_chart_punctuation() {
        let cover = embedded();
        assert!(cover.len() > 7_000, "only {} characters", cover.len());
        for name in [
            "Chun'an",
            "Inner Mongolia",
            "甘肃",
            "青海",
            "内蒙古",
            "新疆维吾尔自治区",
            "宁夏回族自治区",
            "浙江山海协作",
            "两路协作（东西部）",
            "Kaplan–Meier, 95% band: E→W ≥ 1.2 bn yuan · ±",
            "Zhèjiāng Lǐshuǐ",
        ] {
            assert_eq!(missing(name), Vec::<char>::new(), "{name}");
            assert!(warning("region", name).is_none());
        }
        // GB2312's first and last hanzi and a few from the middle.
        for c in ['啊', '齄', '协', '作', '贫', '困', '县'] {
            assert!(covers(c), "{c}");
        }
    }

    #[test]
    fn a_name_outside_the_font_gets_a_warning_naming_the_character() {
        // U+20000 (CJK Extension B) and an emoji are not in GB2312.
        let w = warning("region name", "𠀀村").expect("a warning");
        assert!(w.contains("U+20000") && w.contains("𠀀村"), "{w}");
        assert_eq!(missing("a😀b😀"), vec!['😀']);
    }

    /// Pixels of `text` drawn with the embedded font.
    fn render(text: &str) -> Vec<u8> {
        register();
        let mut buf = vec![255u8; 200 * 40 * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (200, 40)).into_drawing_area();
            root.draw(&Text::new(text, (4, 4), ("sans-serif", 24).into_font()))
                .expect("draws");
            root.present().expect("presents");
        }
        buf
    }

    #[test]
    fn chinese_text_renders_as_glyphs_not_as_the_missing_glyph_box() {
        let blank = vec![255u8; 200 * 40 * 3];
        let gansu = render("甘肃");
        let qinghai = render("青海");
        let boxes = render("\u{E000}\u{E001}"); // private use: no glyph, .notdef boxes
        assert_ne!(gansu, blank, "nothing drawn");
        assert_ne!(gansu, boxes, "drawn as missing-glyph boxes");
        assert_ne!(gansu, qinghai, "two names drawn alike");
    }
}
