//! libjpeg-turbo, through the `turbojpeg` crate: header inspection, scaled decode, encode.

use turbojpeg::{Colorspace, Compressor, Decompressor, Image, PixelFormat, ScalingFactor, Subsamp};

use super::{ImageError, Rgb, exif};

/// Progressive scans libjpeg-turbo will decode. Real encoders write about 10; a crafted file
/// with thousands of tiny scans makes decoding quadratic (the "two issues with the JPEG
/// standard" report), so anything far above is refused.
const SCAN_LIMIT: u32 = 100;

/// What the header says, read without decoding any pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Info {
    pub width: u32,
    pub height: u32,
    /// EXIF orientation, 1 when absent or invalid.
    pub orientation: u8,
    /// CMYK or YCCK: libjpeg-turbo cannot convert these to RGB, so they are decoded as CMYK.
    pub cmyk: bool,
    /// An Adobe APP14 marker: its CMYK values are stored inverted (Photoshop's convention, which
    /// libjpeg-turbo's own writer and ImageMagick follow too).
    pub adobe: bool,
}

/// Validate the container and read the header. Nothing image-sized is allocated here, so a
/// header claiming billions of pixels costs microseconds.
pub(crate) fn inspect(data: &[u8], max_bytes: usize, max_pixels: u64) -> Result<Info, ImageError> {
    if data.is_empty() {
        return Err(ImageError::Empty);
    }
    if data.len() > max_bytes {
        return Err(ImageError::TooManyBytes {
            bytes: data.len(),
            max_bytes,
        });
    }
    if !data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(ImageError::NotJpeg);
    }
    let markers = scan_markers(data);
    if let Some(p) = markers.precision.filter(|&p| p != 8) {
        return Err(ImageError::Unsupported(format!("{p}-bit samples")));
    }
    if markers.lossless {
        return Err(ImageError::Unsupported("lossless JPEG".into()));
    }
    let header = Decompressor::new()
        .and_then(|mut d| d.read_header(data))
        .map_err(corrupt)?;
    if header.is_lossless {
        return Err(ImageError::Unsupported("lossless JPEG".into()));
    }
    let (Ok(width), Ok(height)) = (u32::try_from(header.width), u32::try_from(header.height)) else {
        return Err(ImageError::Corrupt("image dimensions out of range".into()));
    };
    if width == 0 || height == 0 {
        return Err(ImageError::Corrupt("image has no pixels".into()));
    }
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageError::TooLarge {
            width,
            height,
            max_pixels,
        });
    }
    Ok(Info {
        width,
        height,
        orientation: markers.orientation.unwrap_or(1),
        cmyk: matches!(header.colorspace, Colorspace::CMYK | Colorspace::YCCK),
        adobe: markers.adobe,
    })
}

/// Size of an `n`/8 DCT-scaled decode, rounded up as libjpeg-turbo does.
pub(crate) fn scaled(info: &Info, eighths: u8) -> (usize, usize) {
    let f = ScalingFactor::new(usize::from(eighths), 8);
    (f.scale(info.width as usize), f.scale(info.height as usize))
}

/// The largest n/8 scale whose result meets the long-edge limit and the decoded-pixel bound.
/// Falls back to 1/8 when no scale meets the long edge (no second resampling pass exists); an
/// image still over the pixel bound at 1/8 is refused.
pub(crate) fn choose_scale(
    info: &Info,
    max_long_edge: Option<u32>,
    max_decoded_pixels: u64,
) -> Result<u8, ImageError> {
    let pixels_ok = |n| {
        let (w, h) = scaled(info, n);
        (w as u64) * (h as u64) <= max_decoded_pixels
    };
    let edge_ok = |n| {
        let (w, h) = scaled(info, n);
        max_long_edge.is_none_or(|m| w.max(h) as u64 <= u64::from(m))
    };
    if let Some(n) = (1..=8).rev().find(|&n| pixels_ok(n) && edge_ok(n)) {
        return Ok(n);
    }
    if pixels_ok(1) {
        return Ok(1);
    }
    Err(ImageError::TooLarge {
        width: info.width,
        height: info.height,
        max_pixels: max_decoded_pixels,
    })
}

/// The smallest n/8 scale whose short edge is still at least `min_edge` (8/8 if none is).
pub(crate) fn thumbnail_scale(info: &Info, min_edge: u32) -> u8 {
    (1..=8)
        .find(|&n| {
            let (w, h) = scaled(info, n);
            w.min(h) as u64 >= u64::from(min_edge)
        })
        .unwrap_or(8)
}

/// The smallest n/8 scale whose long edge is still at least `min_long_edge` (8/8 if none is):
/// the cheapest decode that a final area-average shrink can take to exactly that size.
pub(crate) fn preview_scale(info: &Info, min_long_edge: u32) -> u8 {
    (1..=8)
        .find(|&n| {
            let (w, h) = scaled(info, n);
            w.max(h) as u64 >= u64::from(min_long_edge)
        })
        .unwrap_or(8)
}

/// Decode at `eighths`/8 scale into RGB. A libjpeg-turbo warning (a truncated or damaged
/// stream, which it would otherwise paper over with grey) is an error here: evidence is decoded
/// whole or not at all.
pub(crate) fn decode(data: &[u8], info: &Info, eighths: u8) -> Result<Rgb, ImageError> {
    let mut d = Decompressor::new().map_err(corrupt)?;
    d.set_scan_limit(SCAN_LIMIT).map_err(corrupt)?;
    d.set_scaling_factor(ScalingFactor::new(usize::from(eighths), 8))
        .map_err(corrupt)?;
    let (width, height) = scaled(info, eighths);
    let format = if info.cmyk {
        PixelFormat::CMYK
    } else {
        PixelFormat::RGB
    };
    let mut pixels = zeroed(width, height, format.size())?;
    let image = Image {
        pixels: pixels.as_mut_slice(),
        width,
        pitch: width * format.size(),
        height,
        format,
    };
    d.decompress(data, image).map_err(corrupt)?;
    if info.cmyk {
        cmyk_to_rgb(&mut pixels, info.adobe);
    }
    Ok(Rgb {
        pixels,
        width,
        height,
    })
}

/// Baseline, 4:2:0, standard Huffman tables: what `cjpeg -quality N` writes, at the same speed.
pub(crate) fn encode(img: &Rgb, quality: u8) -> Result<Vec<u8>, ImageError> {
    let encoder = |e: turbojpeg::Error| ImageError::Corrupt(format!("encoder: {e}"));
    let mut c = Compressor::new().map_err(encoder)?;
    c.set_quality(i32::from(quality.clamp(1, 100))).map_err(encoder)?;
    c.set_subsamp(Subsamp::Sub2x2).map_err(encoder)?;
    // Worst-case size, zero-allocated: pages the encoder never writes are never resident, and
    // there is no grow-and-copy as with the library's own buffer.
    let mut out = vec![0u8; c.buf_len(img.width, img.height).map_err(encoder)?];
    let image = Image {
        pixels: img.pixels.as_slice(),
        width: img.width,
        pitch: img.width * 3,
        height: img.height,
        format: PixelFormat::RGB,
    };
    let len = c.compress_to_slice(image, &mut out).map_err(encoder)?;
    out.truncate(len);
    out.shrink_to_fit();
    Ok(out)
}

fn corrupt(e: turbojpeg::Error) -> ImageError {
    ImageError::Corrupt(e.to_string())
}

/// A buffer for a decoded image, refused rather than aborting when the allocation fails (a
/// 32-bit phone can run out of address space long before `max_pixels`). That refusal reports
/// `max_pixels: 0`: no configured limit was crossed, the device had no room.
fn zeroed(width: usize, height: usize, channels: usize) -> Result<Vec<u8>, ImageError> {
    let too_large = || ImageError::TooLarge {
        width: width as u32,
        height: height as u32,
        max_pixels: 0,
    };
    let len = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels))
        .ok_or_else(too_large)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| too_large())?;
    v.resize(len, 0);
    Ok(v)
}

/// CMYK (4 bytes a pixel) to RGB (3) in place, then the buffer shrinks.
fn cmyk_to_rgb(px: &mut Vec<u8>, adobe_inverted: bool) {
    let n = px.len() / 4;
    for i in 0..n {
        let s = i * 4;
        let (mut c, mut m, mut y, mut k) = (px[s], px[s + 1], px[s + 2], px[s + 3]);
        if !adobe_inverted {
            (c, m, y, k) = (255 - c, 255 - m, 255 - y, 255 - k);
        }
        // Inverted values are "amount of white": channel = (1 - C)(1 - K) = C' * K'.
        let mix = |v: u8| ((u32::from(v) * u32::from(k) + 127) / 255) as u8;
        let d = i * 3;
        px[d] = mix(c);
        px[d + 1] = mix(m);
        px[d + 2] = mix(y);
    }
    px.truncate(n * 3);
    px.shrink_to_fit();
}

#[derive(Debug, Default)]
struct Markers {
    orientation: Option<u8>,
    adobe: bool,
    precision: Option<u8>,
    lossless: bool,
}

/// Walk the marker segments up to the first scan. Stops quietly at anything malformed: the
/// decoder reports real damage with a better message.
fn scan_markers(data: &[u8]) -> Markers {
    let mut m = Markers::default();
    let mut seen_exif = false;
    let mut pos = 2;
    while data.get(pos) == Some(&0xFF) {
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = data.get(pos) else { break };
        pos += 1;
        match marker {
            0x01 | 0xD0..=0xD8 => continue,
            0xD9 | 0xDA => break,
            _ => {}
        }
        let Some(&[hi, lo]) = data.get(pos..pos + 2) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let Some(segment) = len.checked_sub(2).and_then(|n| data.get(pos + 2..pos + 2 + n)) else {
            break;
        };
        match marker {
            // Only the first Exif block counts, as in every other reader.
            0xE1 if !seen_exif && segment.starts_with(b"Exif\0\0") => {
                seen_exif = true;
                m.orientation = exif::orientation(segment);
            }
            0xEE if segment.starts_with(b"Adobe") => m.adobe = true,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                m.precision = segment.first().copied();
                m.lossless = matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
            }
            _ => {}
        }
        pos += len;
    }
    m
}

/// `jpeg` with an APP1 Exif segment holding `orientation`, right after SOI. For tests.
#[cfg(test)]
pub(crate) fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let app1 = exif::app1_with_orientation(orientation, true);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn info(width: u32, height: u32) -> Info {
        Info {
            width,
            height,
            orientation: 1,
            cmyk: false,
            adobe: false,
        }
    }

    #[test]
    fn picks_the_largest_dct_scale_that_fits() {
        let i = info(4000, 3000);
        assert_eq!(choose_scale(&i, Some(2048), u64::MAX).unwrap(), 4);
        assert_eq!(choose_scale(&i, Some(4000), u64::MAX).unwrap(), 8);
        assert_eq!(choose_scale(&i, Some(3500), u64::MAX).unwrap(), 7);
        assert_eq!(choose_scale(&i, None, u64::MAX).unwrap(), 8);
        // Under the decoded-pixel bound even without a long-edge limit.
        assert_eq!(choose_scale(&i, None, 6_000_000).unwrap(), 5);
        // Nothing meets a tiny long edge: 1/8 (500 px), not an error.
        assert_eq!(choose_scale(&i, Some(100), u64::MAX).unwrap(), 1);
        assert!(matches!(
            choose_scale(&i, None, 100),
            Err(ImageError::TooLarge { .. })
        ));
        assert_eq!(scaled(&info(4001, 3001), 4), (2001, 1501));
    }

    #[test]
    fn thumbnail_scale_keeps_32_px() {
        assert_eq!(thumbnail_scale(&info(4000, 3000), 32), 1);
        assert_eq!(thumbnail_scale(&info(200, 100), 32), 3);
        assert_eq!(thumbnail_scale(&info(20, 20), 32), 8);
    }

    #[test]
    fn preview_scale_keeps_the_long_edge() {
        assert_eq!(preview_scale(&info(1920, 1080), 320), 2);
        assert_eq!(preview_scale(&info(4000, 3000), 320), 1);
        assert_eq!(preview_scale(&info(1080, 1920), 320), 2);
        assert_eq!(preview_scale(&info(640, 480), 320), 4);
        assert_eq!(preview_scale(&info(200, 100), 320), 8);
    }

    #[test]
    fn marker_scan_finds_orientation_and_survives_garbage() {
        let jpeg = turbojpeg::compress(
            Image {
                pixels: &[128u8; 16 * 16 * 3][..],
                width: 16,
                pitch: 48,
                height: 16,
                format: PixelFormat::RGB,
            },
            80,
            Subsamp::Sub2x2,
        )
        .unwrap()
        .to_vec();
        let tagged = with_orientation(&jpeg, 6);
        let m = scan_markers(&tagged);
        assert_eq!(
            (m.orientation, m.precision, m.lossless, m.adobe),
            (Some(6), Some(8), false, false)
        );
        for len in 0..tagged.len().min(200) {
            let _ = scan_markers(&tagged[..len]);
        }
    }
}
