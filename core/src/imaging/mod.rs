//! The image pipeline for stamped shelf-photo evidence: decode the camera's JPEG, apply its EXIF
//! orientation, downscale in the DCT domain, burn the watermark bar, encode. Pure functions of
//! their inputs: no storage, no signing, no hashing of outputs.
//!
//! Memory is the constraint that shapes it (a 12 MP capture on a low-end phone): limits are
//! checked from the header before anything image-sized is allocated, the decoder scales while it
//! decodes, orientation and watermark work in place on the one decoded buffer, and the encoder
//! writes into a buffer whose untouched tail never becomes resident.

mod exif;
mod jpeg;
mod orient;
mod phash;
mod resize;
mod stamp;

pub use phash::hamming;
pub use stamp::Fonts;

/// Hamming distance at or below which two photos count as the same shot (`possible_reuse`).
///
/// Measured (`core/tests/imaging.rs`, 1080p and 12 MP test photos): re-encoding at quality 30–60,
/// half and quarter size and ±10–30 % brightness stay within 2 bits; a centred crop keeping
/// 90–95 % is 8 bits, a corner crop keeping 95 % 12. Distinct images (non-overlapping tiles of
/// one photo, its mirror, synthetic scenes; 331 pairs) are at least 18 bits apart, most near
/// 32. Distances are even in practice (both hashes have 31 bits set), so 12 sits between 8 and
/// 18 with a step to spare on each side.
pub const REUSE_THRESHOLD: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the image is empty")]
    Empty,
    #[error("not a JPEG image")]
    NotJpeg,
    #[error("corrupt JPEG: {0}")]
    Corrupt(String),
    #[error("image is {width}x{height}, more than {max_pixels} pixels")]
    TooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error("image file is {bytes} bytes, more than {max_bytes}")]
    TooManyBytes { bytes: usize, max_bytes: usize },
    #[error("unsupported JPEG: {0}")]
    Unsupported(String),
    #[error("unusable font: {0}")]
    Font(String),
}

impl ImageError {
    /// Stable reason code for apps. Never reworded once shipped.
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::Empty => "image_empty",
            ImageError::NotJpeg => "not_jpeg",
            ImageError::Corrupt(_) => "image_corrupt",
            ImageError::TooLarge { .. } => "image_too_large",
            ImageError::TooManyBytes { .. } => "image_too_many_bytes",
            ImageError::Unsupported(_) => "unsupported_image",
            ImageError::Font(_) => "bad_font",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOptions {
    /// Downscale so the long edge is at most this, with the largest libjpeg-turbo DCT scaling
    /// factor (n/8) that fits. Images more than 8x larger get 1/8 and stay above the limit:
    /// there is no second resampling pass.
    pub max_long_edge: Option<u32>,
    /// JPEG quality of the stamped output, 1–100.
    pub quality: u8,
    /// Refuse images whose header claims more pixels (decompression bombs); checked before any
    /// image-sized allocation.
    pub max_pixels: u64,
    /// Above this many decoded pixels, DCT-scale down anyway to bound memory.
    pub max_decoded_pixels: u64,
    pub max_input_bytes: usize,
}

impl Default for ProcessOptions {
    fn default() -> Self {
        ProcessOptions {
            max_long_edge: None,
            quality: 85,
            max_pixels: 120_000_000,
            max_decoded_pixels: 24_000_000,
            max_input_bytes: 32 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The stamped JPEG: baseline, 4:2:0, JFIF only (no EXIF: orientation is already applied,
    /// and the original's metadata stays with the original).
    pub jpeg: Vec<u8>,
    /// Of the output, after orientation and scaling.
    pub width: u32,
    pub height: u32,
    /// As stored in the input file, before orientation.
    pub source_width: u32,
    pub source_height: u32,
    /// The EXIF orientation that was applied (1 if none or invalid).
    pub orientation: u8,
    /// Perceptual hash of the oriented image before the stamp (see [`phash_of_jpeg`]).
    pub phash: u64,
}

/// Decode, apply EXIF orientation, optionally downscale, burn the watermark bar with `lines`
/// (top to bottom), encode. Pure: the same input gives the same bytes.
pub fn process(
    original: &[u8],
    lines: &[String],
    fonts: &Fonts,
    opts: &ProcessOptions,
) -> Result<Processed, ImageError> {
    let info = jpeg::inspect(original, opts.max_input_bytes, opts.max_pixels)?;
    let scale = jpeg::choose_scale(&info, opts.max_long_edge, opts.max_decoded_pixels)?;
    let mut img = jpeg::decode(original, &info, scale)?;
    orient::apply(&mut img, info.orientation);
    let phash = phash::phash(&img);
    stamp::burn(&mut img, lines, fonts);
    let jpeg = jpeg::encode(&img, opts.quality)?;
    Ok(Processed {
        jpeg,
        width: img.width as u32,
        height: img.height as u32,
        source_width: info.width,
        source_height: info.height,
        orientation: info.orientation,
        phash,
    })
}

/// Perceptual hash of any JPEG's oriented content: 63 bits from the low frequencies of a 32x32
/// grey thumbnail. Decodes at the smallest DCT scale that still gives 32 px, so it is cheap
/// enough for a server to run on every upload.
pub fn phash_of_jpeg(bytes: &[u8]) -> Result<u64, ImageError> {
    let limits = ProcessOptions::default();
    let info = jpeg::inspect(bytes, limits.max_input_bytes, limits.max_pixels)?;
    let scale = jpeg::thumbnail_scale(&info, phash::SIZE as u32);
    let mut img = jpeg::decode(bytes, &info, scale)?;
    orient::apply(&mut img, info.orientation);
    Ok(phash::phash(&img))
}

/// A small preview of a photo (see [`thumbnail`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// Baseline, 4:2:0, JFIF only, orientation applied.
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// A preview of any JPEG: oriented, at most `max_long_edge` px on its long edge (never
/// enlarged), encoded at `quality`. Decodes at the smallest DCT scale that still covers
/// `max_long_edge` (1/4 or 1/8 for a camera photo, so a 12 MP file never becomes 36 MB of
/// pixels), then area-averages down to the exact size. The input limits are
/// [`ProcessOptions::default`]'s.
pub fn thumbnail(bytes: &[u8], max_long_edge: u32, quality: u8) -> Result<Thumbnail, ImageError> {
    let limits = ProcessOptions::default();
    let info = jpeg::inspect(bytes, limits.max_input_bytes, limits.max_pixels)?;
    let max_long_edge = max_long_edge.max(1);
    let mut img = jpeg::decode(bytes, &info, jpeg::preview_scale(&info, max_long_edge))?;
    orient::apply(&mut img, info.orientation);
    let (width, height) = resize::fit(img.width, img.height, max_long_edge as usize);
    let img = resize::shrink(img, width, height);
    Ok(Thumbnail {
        jpeg: jpeg::encode(&img, quality)?,
        width: img.width as u32,
        height: img.height as u32,
    })
}

/// An 8-bit RGB image, rows packed without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rgb {
    pub pixels: Vec<u8>,
    pub width: usize,
    pub height: usize,
}
