//! The watermark: a translucent dark bar across the bottom with white text lines, burned into
//! the decoded pixels. Glyphs come from the bundled Latin font, then the app's CJK font; a
//! character neither has is left out, never drawn as an empty box.

use std::sync::{Arc, OnceLock};

use ab_glyph::{Font, FontArc, FontRef, FontVec, Glyph, GlyphId, PxScale, ScaleFont, point};

use super::{ImageError, Rgb};

static LATIN_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// Text size as a share of the image width: about 36 px on a 2000 px photo, which reads at
/// arm's length on a phone showing the whole photo.
const EM_PER_WIDTH: f32 = 1.0 / 55.0;
const MIN_EM: f32 = 14.0;
const LINE_HEIGHT: f32 = 1.3;
const PADDING: f32 = 0.6;
/// What remains of the photo under the bar, in 1/5: 40 %, dark enough for white text on a
/// white shelf, light enough that the shelf edge still shows through.
const BAR_KEEP_FIFTHS: u16 = 2;

/// The fonts the watermark draws with, in fallback order. Cheap to clone and share.
#[derive(Clone, Debug)]
pub struct Fonts {
    faces: Arc<[FontArc]>,
}

impl Fonts {
    /// The bundled Latin font only (DejaVu Sans).
    pub fn bundled() -> Fonts {
        Fonts {
            faces: latin().into_iter().collect(),
        }
    }

    /// The bundled Latin font plus a CJK font the app supplies (TTF/OTF, or the first face of a
    /// TTC), used for every character the Latin font lacks.
    pub fn with_cjk(font_bytes: Vec<u8>) -> Result<Fonts, ImageError> {
        Fonts::with_cjk_face(font_bytes, 0)
    }

    /// The same with face `index` of a TTC. Collections order their faces by region: Android's
    /// `NotoSansCJK-Regular.ttc` has Japanese first and Simplified Chinese at 2, whose forms a
    /// Chinese store name should use.
    pub fn with_cjk_face(font_bytes: Vec<u8>, index: u32) -> Result<Fonts, ImageError> {
        if font_bytes.is_empty() {
            return Err(ImageError::Font("the font file is empty".into()));
        }
        let cjk = FontVec::try_from_vec_and_index(font_bytes, index)
            .map_err(|e| ImageError::Font(format!("face {index}: {e}")))?;
        if cjk.units_per_em().is_none() || cjk.glyph_count() == 0 {
            return Err(ImageError::Font("the font has no usable glyphs".into()));
        }
        Ok(Fonts {
            faces: latin().into_iter().chain([FontArc::from(cjk)]).collect(),
        })
    }

    /// Whether every char of `s` has a glyph in some font: callers leave out what would not
    /// show.
    pub fn covers(&self, s: &str) -> bool {
        s.chars().all(|c| self.glyph(c).is_some())
    }

    /// The first font with a real glyph for `c` (glyph 0 is `.notdef`, the empty box).
    fn glyph(&self, c: char) -> Option<(&FontArc, GlyphId)> {
        self.faces.iter().find_map(|f| {
            let id = f.glyph_id(c);
            (id.0 != 0).then_some((f, id))
        })
    }
}

/// Parsed once per process. Only a build with a damaged font file could fail here; the unit
/// tests parse it, and a failure would leave the stamp without Latin text rather than panic.
fn latin() -> Option<FontArc> {
    static LATIN: OnceLock<Option<FontArc>> = OnceLock::new();
    LATIN
        .get_or_init(|| FontRef::try_from_slice(LATIN_TTF).ok().map(FontArc::from))
        .clone()
}

/// One laid-out glyph: which font, and the glyph positioned on a baseline at y = 0.
struct Placed<'a> {
    font: &'a FontArc,
    glyph: Glyph,
}

/// Lay out one line at `em` px per em from x = 0; returns the glyphs and the advance width.
fn layout<'a>(line: &str, fonts: &'a Fonts, em: f32) -> (Vec<Placed<'a>>, f32) {
    let mut placed = Vec::new();
    let mut x = 0.0f32;
    let mut prev: Option<(&FontArc, GlyphId)> = None;
    for c in line.chars() {
        let Some((font, id)) = fonts.glyph(c) else {
            continue;
        };
        let scaled = font.as_scaled(px_scale(font, em));
        // Kerning only between glyphs of one font: the faces are distinct slice elements.
        if let Some((pf, pid)) = prev
            && std::ptr::eq(pf, font)
        {
            x += scaled.kern(pid, id);
        }
        placed.push(Placed {
            font,
            glyph: id.with_scale_and_position(scaled.scale(), point(x, 0.0)),
        });
        x += scaled.h_advance(id);
        prev = Some((font, id));
    }
    (placed, x)
}

/// The scale that makes one em `em` px in this font (ab_glyph scales by ascent - descent, which
/// differs between fonts; the em keeps Latin and CJK text the same size).
fn px_scale(font: &FontArc, em: f32) -> PxScale {
    let per_em = font.units_per_em().unwrap_or(1000.0);
    PxScale::from(em * font.height_unscaled() / per_em)
}

/// Burn the bar with `lines` (top to bottom) into the bottom of `img`. No lines, no bar.
pub(crate) fn burn(img: &mut Rgb, lines: &[String], fonts: &Fonts) {
    if lines.is_empty() || img.width == 0 || img.height == 0 {
        return;
    }
    let width = img.width as f32;
    let mut em = (width * EM_PER_WIDTH).max(MIN_EM).floor();
    // Shrink (not below the minimum) so the widest line fits between the paddings; text width
    // is proportional to the em.
    let widest = lines
        .iter()
        .map(|l| layout(l, fonts, em).1)
        .fold(0.0f32, f32::max);
    let room = width - 2.0 * PADDING * em;
    if widest > room && widest > 0.0 {
        em = (em * width / (widest + 2.0 * PADDING * em)).floor().max(MIN_EM);
    }
    let line_h = (em * LINE_HEIGHT).ceil();
    let pad = (em * PADDING).ceil();
    let bar_h = ((2.0 * pad + line_h * lines.len() as f32) as usize).min(img.height);
    let top = img.height - bar_h;

    for p in &mut img.pixels[top * img.width * 3..] {
        *p = ((u16::from(*p) * BAR_KEEP_FIFTHS + 2) / 5) as u8;
    }

    // One baseline per line for every font: the Latin font's ascent..descent box, centred.
    let Some(first) = fonts.faces.first() else { return };
    let metrics = first.as_scaled(px_scale(first, em));
    let (ascent, descent) = (metrics.ascent(), metrics.descent());
    for (i, line) in lines.iter().enumerate() {
        let (placed, _) = layout(line, fonts, em);
        let line_top = top as f32 + pad + i as f32 * line_h;
        let baseline = line_top + (line_h - (ascent - descent)) / 2.0 + ascent;
        for p in placed {
            let mut glyph = p.glyph;
            glyph.position = point(glyph.position.x + pad, glyph.position.y + baseline.round());
            let Some(outline) = p.font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let (ox, oy) = (bounds.min.x as i64, bounds.min.y as i64);
            outline.draw(|gx, gy, coverage| {
                let (x, y) = (ox + i64::from(gx), oy + i64::from(gy));
                if x < 0 || y < top as i64 || x >= img.width as i64 || y >= img.height as i64 {
                    return;
                }
                let at = (y as usize * img.width + x as usize) * 3;
                let cov = coverage.clamp(0.0, 1.0);
                for v in &mut img.pixels[at..at + 3] {
                    *v += (f32::from(255 - *v) * cov + 0.5) as u8;
                }
            });
        }
    }
}
