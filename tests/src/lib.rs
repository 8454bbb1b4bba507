//! Shared pieces of the end-to-end tests, the crash worker and the demo.

pub mod day;
pub mod fault_proxy;
pub mod fleet;
pub mod server;
pub mod storage;
pub mod web;

/// The reference data every test and the demo use: Shanghai stores (Chinese names), three reps,
/// two supervisors, the standard store check and the supervisor inspection.
pub const REFERENCE_JSON: &str = include_str!("../fixtures/reference.json");

/// The date the fixture's plans are for.
pub const FIXTURE_DAY: &str = "2026-11-23";

/// Path of a file in the repository's test data folder, `tests/data/` (see its README).
pub fn testdata(name: &str) -> std::path::PathBuf {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data")).join(name)
}

/// The demo's shelf photo: the real camera photo from `tests/data/`, else (a demo binary run
/// away from its source tree) a synthetic shelf (rows of coloured packs) made here.
pub fn demo_photo() -> Vec<u8> {
    if let Ok(bytes) = std::fs::read(testdata("photo-1920x1080.jpg")) {
        return bytes;
    }
    let (w, h) = (1600usize, 1200usize);
    let mut px = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let shelf = y / 300;
            let pack = x / 80;
            let on_shelf_edge = y % 300 > 280;
            let rgb: [u8; 3] = if on_shelf_edge {
                [90, 90, 95]
            } else {
                let hue = (pack * 37 + shelf * 11) % 6;
                [
                    [200, 40, 40],
                    [40, 160, 60],
                    [230, 200, 40],
                    [40, 90, 200],
                    [240, 240, 240],
                    [220, 120, 30],
                ][hue]
            };
            px[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&rgb);
        }
    }
    let image = turbojpeg::Image {
        pixels: px.as_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: turbojpeg::PixelFormat::RGB,
    };
    // A synthetic image of this size always encodes; an empty photo would be refused by capture.
    turbojpeg::compress(image, 90, turbojpeg::Subsamp::Sub2x2)
        .map(|b| b.to_vec())
        .unwrap_or_default()
}

/// A CJK font on this machine, if any: Debian's WenQuanYi or Noto CJK, or Android's Noto CJK.
pub fn system_cjk_font() -> Option<std::path::PathBuf> {
    [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/system/fonts/NotoSansCJK-Regular.ttc",
    ]
    .into_iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.exists())
}
