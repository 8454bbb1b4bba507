#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The evidence image pipeline on real camera photos and on JPEGs made here: orientation,
//! DCT downscaling, progressive / greyscale / CMYK input, the watermark (Latin and Chinese), the
//! perceptual hash against re-encoded, cropped, brightened and shrunk copies, and every kind of
//! bad input.

use std::time::Instant;

use fieldproof_core::imaging::*;
use turbojpeg::{Compressor, Image, PixelFormat, ScalingFactor, Subsamp};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data");
const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

fn photo(name: &str) -> Vec<u8> {
    let path = format!("{TESTDATA}/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (the repository's tests/data)"))
}

fn photo_1080() -> Vec<u8> {
    photo("photo-1920x1080.jpg")
}

fn photo_12mp() -> Vec<u8> {
    photo("photo-4000x3000.jpg")
}

/// The CJK font CI installs (fonts-wqy-microhei). Elsewhere the tests that need it are skipped,
/// loudly; on CI a missing font fails.
fn cjk_font() -> Option<Vec<u8>> {
    match std::fs::read(CJK_FONT) {
        Ok(b) => Some(b),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED: {CJK_FONT}: {e} (apt-get install fonts-wqy-microhei)");
            None
        }
        Err(e) => panic!("{CJK_FONT}: {e}"),
    }
}

fn watermark() -> Vec<String> {
    [
        "2026-11-23 09:14:05 UTC+08:00",
        "31.230400N 121.520000E ±8 m",
        "SH-E-001 联华超市（浦东南路店）",
        "Rep 李伟 (rep-li) · Device 0b6f5a6e",
        "防伪码 Evidence code K7QF-3M2X",
    ]
    .map(String::from)
    .to_vec()
}

struct Pixels {
    rgb: Vec<u8>,
    width: usize,
    height: usize,
}

impl Pixels {
    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    fn crop(&self, x0: usize, y0: usize, w: usize, h: usize) -> Pixels {
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in y0..y0 + h {
            rgb.extend_from_slice(&self.rgb[(y * self.width + x0) * 3..(y * self.width + x0 + w) * 3]);
        }
        Pixels {
            rgb,
            width: w,
            height: h,
        }
    }

    fn map(&self, f: impl Fn(u8) -> u8) -> Pixels {
        Pixels {
            rgb: self.rgb.iter().map(|&v| f(v)).collect(),
            width: self.width,
            height: self.height,
        }
    }

    fn mirrored(&self) -> Pixels {
        let mut rgb = Vec::with_capacity(self.rgb.len());
        for row in self.rgb.chunks_exact(self.width * 3) {
            for px in row.chunks_exact(3).rev() {
                rgb.extend_from_slice(px);
            }
        }
        Pixels { rgb, ..*self }
    }

    fn jpeg(&self, quality: i32) -> Vec<u8> {
        let image = Image {
            pixels: self.rgb.as_slice(),
            width: self.width,
            pitch: self.width * 3,
            height: self.height,
            format: PixelFormat::RGB,
        };
        turbojpeg::compress(image, quality, Subsamp::Sub2x2)
            .unwrap()
            .to_vec()
    }
}

fn decode(jpeg: &[u8]) -> Pixels {
    decode_scaled(jpeg, ScalingFactor::ONE)
}

fn decode_scaled(jpeg: &[u8], scale: ScalingFactor) -> Pixels {
    let mut d = turbojpeg::Decompressor::new().unwrap();
    d.set_scaling_factor(scale).unwrap();
    let h = d.read_header(jpeg).unwrap().scaled(scale);
    let mut rgb = vec![0; h.width * h.height * 3];
    let image = Image {
        pixels: rgb.as_mut_slice(),
        width: h.width,
        pitch: h.width * 3,
        height: h.height,
        format: PixelFormat::RGB,
    };
    d.decompress(jpeg, image).unwrap();
    Pixels {
        rgb,
        width: h.width,
        height: h.height,
    }
}

/// A WxH test card: grey, with a solid red block in the top-left corner and a blue one in the
/// top-right, so every turn and flip shows.
fn card(w: usize, h: usize) -> Pixels {
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(match (x < w / 4 && y < h / 4, x >= w * 3 / 4 && y < h / 4) {
                (true, _) => &[230, 20, 20],
                (_, true) => &[20, 20, 230],
                _ => &[128, 128, 128],
            });
        }
    }
    Pixels {
        rgb,
        width: w,
        height: h,
    }
}

/// A synthetic scene unlike the photos (bands and blocks), per seed.
fn scene(seed: u32, w: usize, h: usize) -> Pixels {
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let band = ((y * 7 / h) as u32 + seed) % 5;
            let block = ((x / 97 + y / 61) as u32 * (seed + 3)) % 7;
            rgb.push((band * 50 + block * 9) as u8);
            rgb.push(((x * 255 / w) as u32 ^ (block * 31)) as u8);
            rgb.push((((y * 255 / h) as u32 + seed * 40) % 256) as u8);
        }
    }
    Pixels {
        rgb,
        width: w,
        height: h,
    }
}

/// `jpeg` with an APP1 Exif segment (big-endian TIFF, IFD0 with one Orientation entry) after SOI.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= 40)
}

fn opts() -> ProcessOptions {
    ProcessOptions::default()
}

#[test]
fn a_real_photo_is_stamped_at_full_size() {
    let original = photo_1080();
    let p = process(&original, &watermark(), &Fonts::bundled(), &opts()).unwrap();
    assert_eq!(
        (p.width, p.height, p.source_width, p.source_height),
        (1920, 1080, 1920, 1080)
    );
    assert_eq!(p.orientation, 1);
    let header = turbojpeg::read_header(&p.jpeg).unwrap();
    assert_eq!((header.width, header.height), (1920, 1080));
    assert_eq!(header.subsamp, Subsamp::Sub2x2);
    assert!(!header.is_progressive);
    // No EXIF comes along: the orientation is applied, and the original's metadata stays with it.
    assert!(!p.jpeg.windows(6).any(|w| w == b"Exif\0\0"));
    // The photo above the bar is untouched; the bar is darker.
    let (before, after) = (decode(&original), decode(&p.jpeg));
    let mean = |px: &Pixels, y0: usize, y1: usize| {
        let rows = &px.rgb[y0 * px.width * 3..y1 * px.width * 3];
        rows.iter().map(|&v| u64::from(v)).sum::<u64>() as f64 / rows.len() as f64
    };
    assert!((mean(&before, 0, 700) - mean(&after, 0, 700)).abs() < 1.0);
    assert!(mean(&after, 1040, 1080) < mean(&before, 1040, 1080) * 0.75);
    // The hash is of the content before the stamp: the same as the unstamped original's.
    let d = hamming(p.phash, phash_of_jpeg(&original).unwrap());
    assert!(d <= 2, "process and phash_of_jpeg differ by {d} bits");
}

#[test]
fn processing_is_deterministic() {
    let original = photo_1080();
    let fonts = Fonts::bundled();
    let a = process(&original, &watermark(), &fonts, &opts()).unwrap();
    let b = process(&original, &watermark(), &fonts.clone(), &opts()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn twelve_megapixels_downscale_to_2000x1500_in_the_dct_domain() {
    let original = photo_12mp();
    let o = ProcessOptions {
        max_long_edge: Some(2048),
        ..opts()
    };
    let p = process(&original, &watermark(), &Fonts::bundled(), &o).unwrap();
    assert_eq!((p.width, p.height), (2000, 1500));
    assert_eq!((p.source_width, p.source_height), (4000, 3000));
    // Exactly libjpeg-turbo's 1/2 scale: the same pixels as its own scaled decode, above the bar.
    let ours = decode(&p.jpeg);
    let theirs = decode_scaled(&original, ScalingFactor::ONE_HALF);
    let hash_ours = phash_of_jpeg(&ours.crop(0, 0, 2000, 1000).jpeg(95)).unwrap();
    let hash_theirs = phash_of_jpeg(&theirs.crop(0, 0, 2000, 1000).jpeg(95)).unwrap();
    assert!(hamming(hash_ours, hash_theirs) <= 2);

    // The decoded-pixel bound scales down even without a long-edge limit.
    let bounded = ProcessOptions {
        max_decoded_pixels: 4_000_000,
        ..opts()
    };
    let p = process(&original, &[], &Fonts::bundled(), &bounded).unwrap();
    assert_eq!((p.width, p.height), (2000, 1500));
}

#[test]
fn exif_orientations_turn_the_pixels() {
    let (w, h) = (96, 64);
    let src = card(w, h).jpeg(95);
    let red = [230, 20, 20];
    let blue = [20, 20, 230];
    // Where the red (top-left) and blue (top-right) blocks end up, probed inside each block.
    for (o, (ow, oh), red_at, blue_at) in [
        (1, (96, 64), (5, 5), (90, 5)),
        (2, (96, 64), (90, 5), (5, 5)),
        (3, (96, 64), (90, 58), (5, 58)),
        (4, (96, 64), (5, 58), (90, 58)),
        (5, (64, 96), (5, 5), (5, 90)),
        (6, (64, 96), (58, 5), (58, 90)),
        (7, (64, 96), (58, 90), (58, 5)),
        (8, (64, 96), (5, 90), (5, 5)),
    ] {
        let p = process(&with_orientation(&src, o), &[], &Fonts::bundled(), &opts()).unwrap();
        assert_eq!(p.orientation, o as u8);
        assert_eq!((p.width, p.height), (ow, oh), "orientation {o}");
        assert_eq!((p.source_width, p.source_height), (96, 64));
        let px = decode(&p.jpeg);
        assert!(
            close(px.at(red_at.0, red_at.1), red),
            "orientation {o}: red at {red_at:?}"
        );
        assert!(
            close(px.at(blue_at.0, blue_at.1), blue),
            "orientation {o}: blue at {blue_at:?}"
        );
        assert!(close(px.at(ow as usize / 2, oh as usize / 2), [128, 128, 128]));
    }
    // Out-of-range values are ignored, not applied.
    let p = process(&with_orientation(&src, 9), &[], &Fonts::bundled(), &opts()).unwrap();
    assert_eq!((p.orientation, p.width), (1, 96));
}

#[test]
fn a_portrait_12mp_capture_turns_in_place_and_downscaled() {
    let tagged = with_orientation(&photo_12mp(), 6);
    let full = process(&tagged, &watermark(), &Fonts::bundled(), &opts()).unwrap();
    assert_eq!((full.width, full.height, full.orientation), (3000, 4000, 6));
    let small = ProcessOptions {
        max_long_edge: Some(2048),
        ..opts()
    };
    let half = process(&tagged, &watermark(), &Fonts::bundled(), &small).unwrap();
    assert_eq!((half.width, half.height), (1500, 2000));
    // Full size and DCT-scaled, both turned in place, give the same picture.
    assert!(
        hamming(full.phash, half.phash) <= 2,
        "{}",
        hamming(full.phash, half.phash)
    );
    // The server's hash sees the same oriented content; the unturned photo is another picture.
    let server = phash_of_jpeg(&tagged).unwrap();
    assert!(
        hamming(server, half.phash) <= 2,
        "{}",
        hamming(server, half.phash)
    );
    let upright = process(&photo_12mp(), &[], &Fonts::bundled(), &small).unwrap();
    assert!(hamming(upright.phash, half.phash) > REUSE_THRESHOLD);
}

#[test]
fn progressive_and_greyscale_inputs_work() {
    let px = card(320, 240);
    let mut c = Compressor::new().unwrap();
    c.set_progressive(true).unwrap();
    c.set_quality(90).unwrap();
    let progressive = c
        .compress_to_vec(Image {
            pixels: px.rgb.as_slice(),
            width: 320,
            pitch: 960,
            height: 240,
            format: PixelFormat::RGB,
        })
        .unwrap();
    assert!(turbojpeg::read_header(&progressive).unwrap().is_progressive);
    let p = process(&progressive, &watermark(), &Fonts::bundled(), &opts()).unwrap();
    assert_eq!((p.width, p.height), (320, 240));
    assert!(close(decode(&p.jpeg).at(10, 10), [230, 20, 20]));
    let o = ProcessOptions {
        max_long_edge: Some(160),
        ..opts()
    };
    assert_eq!(
        process(&progressive, &[], &Fonts::bundled(), &o).unwrap().width,
        160
    );

    // Greyscale with texture (a flat gradient has no stable perceptual hash to compare).
    let grey: Vec<u8> = scene(2, 320, 240).rgb.chunks_exact(3).map(|p| p[1]).collect();
    let mut c = Compressor::new().unwrap();
    c.set_subsamp(Subsamp::Gray).unwrap();
    let grey_jpeg = c
        .compress_to_vec(Image {
            pixels: grey.as_slice(),
            width: 320,
            pitch: 320,
            height: 240,
            format: PixelFormat::GRAY,
        })
        .unwrap();
    let p = process(&grey_jpeg, &watermark(), &Fonts::bundled(), &opts()).unwrap();
    assert_eq!((p.width, p.height), (320, 240));
    let out = decode(&p.jpeg);
    for (x, y) in [(10, 10), (300, 20), (160, 100)] {
        let [r, g, b] = out.at(x, y);
        let expected = grey[y * 320 + x];
        assert!(
            r.abs_diff(expected) < 12 && r.abs_diff(g) < 4 && r.abs_diff(b) < 4,
            "{:?}",
            out.at(x, y)
        );
    }
    assert!(hamming(p.phash, phash_of_jpeg(&grey_jpeg).unwrap()) <= 2);
}

#[test]
fn cmyk_input_is_converted_to_rgb() {
    // Adobe-style inverted CMYK (what Photoshop, ImageMagick and libjpeg-turbo write): 255 is
    // "no ink". Red = no cyan, full magenta and yellow, no black.
    let (w, h) = (64usize, 48usize);
    let mut cmyk = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            cmyk.extend_from_slice(if x < 32 && y < 24 {
                &[255, 0, 0, 255] // red
            } else if y >= 24 {
                &[255, 255, 255, 128] // mid grey: black ink only
            } else {
                &[0, 0, 255, 255] // blue: cyan + magenta
            });
        }
    }
    let jpeg = turbojpeg::compress(
        Image {
            pixels: cmyk.as_slice(),
            width: w,
            pitch: w * 4,
            height: h,
            format: PixelFormat::CMYK,
        },
        95,
        Subsamp::None,
    )
    .unwrap()
    .to_vec();
    let header = turbojpeg::read_header(&jpeg).unwrap();
    assert!(matches!(
        header.colorspace,
        turbojpeg::Colorspace::YCCK | turbojpeg::Colorspace::CMYK
    ));
    let p = process(&jpeg, &[], &Fonts::bundled(), &opts()).unwrap();
    let px = decode(&p.jpeg);
    assert!(close(px.at(8, 8), [255, 0, 0]), "{:?}", px.at(8, 8));
    assert!(close(px.at(56, 8), [0, 0, 255]), "{:?}", px.at(56, 8));
    assert!(close(px.at(32, 40), [128, 128, 128]), "{:?}", px.at(32, 40));
    phash_of_jpeg(&jpeg).unwrap();
}

fn png_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 2, 2);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&[200; 12]).unwrap();
    out
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

/// `jpeg` with its SOF0 dimensions replaced.
fn claiming(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

#[test]
fn bad_inputs_give_typed_errors_never_panics() {
    let fonts = Fonts::bundled();
    let code = |bytes: &[u8]| {
        let a = process(bytes, &watermark(), &fonts, &opts()).unwrap_err();
        let b = phash_of_jpeg(bytes).unwrap_err();
        assert_eq!(a.code(), b.code(), "{a} / {b}");
        a
    };
    assert!(matches!(code(&[]), ImageError::Empty));
    assert!(matches!(code(&png_bytes()), ImageError::NotJpeg));
    assert!(matches!(code(&pseudo_random(5000, 7)), ImageError::NotJpeg));
    let mut fake = vec![0xFF, 0xD8, 0xFF];
    fake.extend(pseudo_random(5000, 9));
    assert_eq!(code(&fake).code(), "image_corrupt");

    let real = photo_1080();
    for cut in [3, 100, 20_000, real.len() / 2, real.len() - 2] {
        let e = code(&real[..cut]);
        assert_eq!(e.code(), "image_corrupt", "cut at {cut}: {e}");
    }

    // A bomb: a tiny file whose header claims 60000x60000 (3.6 G pixels, 10.8 GB as RGB).
    let small = card(64, 48).jpeg(80);
    let bomb = claiming(&small, 60000, 60000);
    let t = Instant::now();
    match code(&bomb) {
        ImageError::TooLarge {
            width,
            height,
            max_pixels,
        } => assert_eq!((width, height, max_pixels), (60000, 60000, 120_000_000)),
        e => panic!("{e}"),
    }
    assert!(t.elapsed().as_millis() < 200, "{:?}", t.elapsed());
    // Under max_pixels but over the decoded-pixel bound even at 1/8: refused, not allocated.
    let lenient = ProcessOptions {
        max_pixels: u64::MAX,
        max_decoded_pixels: 1_000_000,
        ..opts()
    };
    let e = process(&bomb, &[], &fonts, &lenient).unwrap_err();
    assert_eq!(e.code(), "image_too_large");
    // A header within limits over too little data: the stream ends early.
    assert_eq!(code(&claiming(&small, 4000, 3000)).code(), "image_corrupt");

    let tight = ProcessOptions {
        max_input_bytes: 1000,
        ..opts()
    };
    let e = process(&real, &[], &fonts, &tight).unwrap_err();
    assert!(matches!(e, ImageError::TooManyBytes { max_bytes: 1000, .. }));

    let mut c = Compressor::new().unwrap();
    c.set_lossless(true).unwrap();
    let lossless = c
        .compress_to_vec(Image {
            pixels: card(32, 32).rgb.as_slice(),
            width: 32,
            pitch: 96,
            height: 32,
            format: PixelFormat::RGB,
        })
        .unwrap();
    assert_eq!(code(&lossless).code(), "unsupported_image");

    // Damage inside the entropy-coded data: whatever libjpeg-turbo makes of it, no panic, and
    // a warning it raises is an error here.
    for seed in 0..40u64 {
        let mut bad = small.clone();
        let at = 300 + (seed as usize * 37) % (bad.len() - 302);
        bad[at] ^= 1 << (seed % 8);
        let _ = process(&bad, &watermark(), &fonts, &opts());
        let _ = phash_of_jpeg(&bad);
    }
}

#[test]
fn error_codes_are_stable() {
    let cases = [
        (ImageError::Empty, "image_empty"),
        (ImageError::NotJpeg, "not_jpeg"),
        (ImageError::Corrupt("x".into()), "image_corrupt"),
        (
            ImageError::TooLarge {
                width: 1,
                height: 1,
                max_pixels: 0,
            },
            "image_too_large",
        ),
        (
            ImageError::TooManyBytes {
                bytes: 2,
                max_bytes: 1,
            },
            "image_too_many_bytes",
        ),
        (ImageError::Unsupported("x".into()), "unsupported_image"),
        (ImageError::Font("x".into()), "bad_font"),
    ];
    for (e, code) in cases {
        assert_eq!(e.code(), code);
    }
}

#[test]
fn fonts_refuse_bad_bytes() {
    for bytes in [
        Vec::new(),
        pseudo_random(4096, 3),
        photo_1080(),
        b"ttcf\0\x01\0\0\0\0\0\x01".to_vec(),
    ] {
        let e = Fonts::with_cjk(bytes).unwrap_err();
        assert_eq!(e.code(), "bad_font", "{e}");
    }
    fn shareable<T: Clone + Send + Sync>(_: &T) {}
    let latin = Fonts::bundled();
    shareable(&latin);
    assert!(latin.covers("2026-11-23 09:14:05 UTC+08:00 31.2304N ±8 m · Evidence code K7QF-3M2X"));
    assert!(!latin.covers("联华"));
}

/// Bright pixels (text ink) in rows `y0..` of a decoded image.
fn ink(px: &Pixels, y0: usize) -> usize {
    px.rgb[y0 * px.width * 3..]
        .chunks_exact(3)
        .filter(|p| p.iter().all(|&v| v > 170))
        .count()
}

#[test]
fn chinese_store_names_render_with_the_cjk_font_and_are_never_boxed_without() {
    let Some(font) = cjk_font() else { return };
    let name = "联华超市（浦东南路店）";
    let latin = Fonts::bundled();
    let cjk = Fonts::with_cjk(font).unwrap();
    assert!(!latin.covers(name));
    assert!(cjk.covers(name));
    for c in name.chars() {
        assert!(cjk.covers(&c.to_string()), "{c}");
    }
    let font = std::fs::read(CJK_FONT).unwrap();
    // The collection's second face (WenQuanYi Micro Hei Mono) works too; a face it lacks does not.
    assert!(Fonts::with_cjk_face(font.clone(), 1).unwrap().covers(name));
    assert_eq!(Fonts::with_cjk_face(font, 7).unwrap_err().code(), "bad_font");

    // A dark-grey card, so only text is bright.
    let blank = Pixels {
        rgb: vec![60; 1100 * 200 * 3],
        width: 1100,
        height: 200,
    }
    .jpeg(95);
    let render = |line: &str, fonts: &Fonts| {
        let p = process(&blank, &[line.to_string()], fonts, &opts()).unwrap();
        ink(&decode(&p.jpeg), 100)
    };
    let code_only = render("SH-E-001", &latin);
    assert!(code_only > 100, "{code_only}");
    // Without a CJK font the Chinese is left out: exactly the ink of the code alone, no boxes.
    let skipped = render(&format!("SH-E-001{name}"), &latin);
    assert_eq!(skipped, code_only);
    // With it, each of the 11 glyphs adds ink (a CJK glyph at this size has well over 40 bright
    // pixels; the brackets fewer).
    let with_name = render(&format!("SH-E-001{name}"), &cjk);
    assert!(with_name > code_only + 9 * 40, "{with_name} vs {code_only}");
    // Glyph by glyph: every character draws something.
    for c in name.chars() {
        assert!(render(&c.to_string(), &cjk) > 10, "{c} drew nothing");
    }
    // Latin text comes from the Latin font even when a CJK font is present.
    assert_eq!(render("SH-E-001", &cjk), code_only);
}

/// The stamped bar of the 1080p photo, halved, as a PNG for people to look at:
/// `FIELDPROOF_WRITE_DOCS=1 cargo test -p fieldproof-core --test imaging watermark_png`.
#[test]
fn watermark_png_for_review() {
    let Some(font) = cjk_font() else { return };
    let fonts = Fonts::with_cjk(font).unwrap();
    let p = process(&photo_1080(), &watermark(), &fonts, &opts()).unwrap();
    let px = decode(&p.jpeg);
    let bar = px.crop(0, px.height - 280, px.width, 280);
    // 2x2 box average: 960x140.
    let (w, h) = (bar.width / 2, bar.height / 2);
    let mut half = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let s: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|(dx, dy)| u32::from(bar.at(2 * x + dx, 2 * y + dy)[c]))
                    .sum();
                half.push(((s + 2) / 4) as u8);
            }
        }
    }
    assert!(
        ink(
            &Pixels {
                rgb: half.clone(),
                width: w,
                height: h
            },
            20
        ) > 2000
    );
    if std::env::var_os("FIELDPROOF_WRITE_DOCS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/evidence-watermark.png");
        let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        let mut enc = png::Encoder::new(file, w as u32, h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        enc.write_header().unwrap().write_image_data(&half).unwrap();
    }
}

/// Reuse detection: edited copies of one photo stay within `REUSE_THRESHOLD`, distinct scenes
/// do not. Prints every distance (`--nocapture`).
#[test]
fn phash_matches_edited_copies_and_separates_distinct_images() {
    let original = photo_1080();
    let base = process(&original, &watermark(), &Fonts::bundled(), &opts())
        .unwrap()
        .phash;
    let px = decode(&original);
    let (w, h) = (px.width, px.height);
    let (cw, ch) = (w * 95 / 100, h * 95 / 100);
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("re-encoded at quality 60", px.jpeg(60)),
        (
            "5 % centre crop",
            px.crop((w - cw) / 2, (h - ch) / 2, cw, ch).jpeg(85),
        ),
        (
            "brightened 10 %",
            px.map(|v| (f32::from(v) * 1.1).min(255.0) as u8).jpeg(85),
        ),
        (
            "half size",
            decode_scaled(&original, ScalingFactor::ONE_HALF).jpeg(85),
        ),
    ];
    let mut false_negatives = 0;
    for (what, jpeg) in &variants {
        let d = hamming(base, phash_of_jpeg(jpeg).unwrap());
        println!("same shot, {what}: {d}");
        false_negatives += usize::from(d > REUSE_THRESHOLD);
    }
    let stamped = process(&original, &watermark(), &Fonts::bundled(), &opts())
        .unwrap()
        .jpeg;
    println!(
        "same shot, its own stamped output (bar over the bottom): {}",
        hamming(base, phash_of_jpeg(&stamped).unwrap())
    );

    // Distinct images: nine non-overlapping tiles of the 12 MP photo (a different scene from
    // the 1080p crop's framing only partly), the 1080p photo and its mirror image, and three
    // synthetic scenes.
    let big = decode_scaled(&photo_12mp(), ScalingFactor::ONE_HALF);
    let (tw, th) = (big.width / 3, big.height / 3);
    let mut distinct: Vec<(String, u64)> = vec![
        ("1080p photo".into(), base),
        (
            "1080p mirrored".into(),
            phash_of_jpeg(&px.mirrored().jpeg(85)).unwrap(),
        ),
    ];
    for ty in 0..3 {
        for tx in 0..3 {
            let tile = big.crop(tx * tw, ty * th, tw, th).jpeg(85);
            distinct.push((format!("12 MP tile ({tx},{ty})"), phash_of_jpeg(&tile).unwrap()));
        }
    }
    for seed in 1..=3 {
        distinct.push((
            format!("synthetic scene {seed}"),
            phash_of_jpeg(&scene(seed, 1280, 960).jpeg(90)).unwrap(),
        ));
    }
    let mut false_positives = Vec::new();
    let mut closest = u32::MAX;
    for i in 0..distinct.len() {
        for j in i + 1..distinct.len() {
            let d = hamming(distinct[i].1, distinct[j].1);
            println!("distinct, {} vs {}: {d}", distinct[i].0, distinct[j].0);
            closest = closest.min(d);
            if d <= REUSE_THRESHOLD {
                false_positives.push((distinct[i].0.clone(), distinct[j].0.clone(), d));
            }
        }
    }
    println!(
        "threshold {REUSE_THRESHOLD}; closest distinct pair {closest}; {} false negatives",
        false_negatives
    );
    assert_eq!(false_negatives, 0);
    assert!(false_positives.is_empty(), "{false_positives:?}");
    assert!(distinct.len() >= 10);
}

/// Head office's gallery previews: at most 320 px on the long edge, oriented, a small fraction
/// of the photo's bytes, and the same picture (its perceptual hash within the reuse threshold).
#[test]
fn thumbnails_of_real_photos_are_small_oriented_and_the_same_picture() {
    for (original, size) in [(photo_1080(), (320, 180)), (photo_12mp(), (320, 240))] {
        let started = Instant::now();
        let t = thumbnail(&original, 320, 75).unwrap();
        let took = started.elapsed();
        assert_eq!((t.width, t.height), size);
        let px = decode(&t.jpeg);
        assert_eq!((px.width as u32, px.height as u32), size);
        assert!(
            t.jpeg.len() * 20 < original.len() && t.jpeg.len() < 40_000,
            "{} bytes from {}",
            t.jpeg.len(),
            original.len()
        );
        let d = hamming(phash_of_jpeg(&t.jpeg).unwrap(), phash_of_jpeg(&original).unwrap());
        assert!(d <= REUSE_THRESHOLD, "distance {d}");
        eprintln!(
            "thumbnail {}x{} of {} bytes: {} bytes in {took:?}",
            t.width,
            t.height,
            original.len(),
            t.jpeg.len()
        );
    }
    // Orientation 6 (the phone held upright): a portrait preview, red corner top-right.
    let c = card(640, 480).jpeg(90);
    let t = thumbnail(&with_orientation(&c, 6), 320, 90).unwrap();
    assert_eq!((t.width, t.height), (240, 320));
    let px = decode(&t.jpeg);
    assert!(
        close(px.at(px.width - 10, 10), [230, 20, 20]),
        "{:?}",
        px.at(px.width - 10, 10)
    );
    // Small images are not enlarged; bad input is a typed error.
    let small = card(200, 100).jpeg(90);
    let t = thumbnail(&small, 320, 75).unwrap();
    assert_eq!((t.width, t.height), (200, 100));
    assert_eq!(
        thumbnail(b"\xff\xd8\xff\xd9", 320, 75).unwrap_err().code(),
        "image_corrupt"
    );
    assert_eq!(thumbnail(b"", 320, 75).unwrap_err().code(), "image_empty");
}
