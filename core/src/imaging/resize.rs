//! Area-average downscaling: the step after the DCT-scaled decode when n/8 cannot hit a size
//! exactly (a 1920 px photo decodes to 480 or 240 px, never 320). Every output pixel is the
//! mean of the source area it covers, so shrinking by less than 2x neither aliases nor blurs
//! the way a point or bilinear sample would.

use super::Rgb;

/// For each output index along one axis: the first source index and the weights of the
/// source indices from there (summing to 1).
fn weights(src: usize, dst: usize) -> Vec<(usize, Vec<f32>)> {
    let ratio = src as f64 / dst as f64;
    (0..dst)
        .map(|o| {
            let (lo, hi) = (o as f64 * ratio, ((o + 1) as f64 * ratio).min(src as f64));
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).clamp(first + 1, src);
            let w = (first..last)
                .map(|i| {
                    let covered = (hi.min((i + 1) as f64) - lo.max(i as f64)).max(0.0);
                    (covered / (hi - lo)) as f32
                })
                .collect();
            (first, w)
        })
        .collect()
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// `img` shrunk to `width` x `height` (each at most the source's and at least 1); the source
/// itself when the size is already right.
pub(crate) fn shrink(img: Rgb, width: usize, height: usize) -> Rgb {
    let (width, height) = (
        width.clamp(1, img.width.max(1)),
        height.clamp(1, img.height.max(1)),
    );
    if (width, height) == (img.width, img.height) {
        return img;
    }
    // Rows first (to `width`), then columns: the intermediate is `width` x source height.
    let wx = weights(img.width, width);
    let mut rows = vec![0u8; width * img.height * 3];
    for y in 0..img.height {
        let src = &img.pixels[y * img.width * 3..(y + 1) * img.width * 3];
        let dst = &mut rows[y * width * 3..(y + 1) * width * 3];
        for (o, (first, w)) in wx.iter().enumerate() {
            let mut acc = [0f32; 3];
            for (k, &wk) in w.iter().enumerate() {
                let p = (first + k) * 3;
                for c in 0..3 {
                    acc[c] += f32::from(src[p + c]) * wk;
                }
            }
            for c in 0..3 {
                dst[o * 3 + c] = to_u8(acc[c]);
            }
        }
    }
    let wy = weights(img.height, height);
    let stride = width * 3;
    let mut out = vec![0u8; stride * height];
    let mut acc = vec![0f32; stride];
    for (o, (first, w)) in wy.iter().enumerate() {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (k, &wk) in w.iter().enumerate() {
            let row = &rows[(first + k) * stride..(first + k + 1) * stride];
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += f32::from(v) * wk;
            }
        }
        for (d, &a) in out[o * stride..(o + 1) * stride].iter_mut().zip(&acc) {
            *d = to_u8(a);
        }
    }
    Rgb {
        pixels: out,
        width,
        height,
    }
}

/// The size that fits `width` x `height` within `max_long_edge`, keeping the aspect ratio
/// (never below 1 px, never enlarged).
pub(crate) fn fit(width: usize, height: usize, max_long_edge: usize) -> (usize, usize) {
    let long = width.max(height);
    if long <= max_long_edge || long == 0 {
        return (width, height);
    }
    let scale =
        |v: usize| ((v as u64 * max_long_edge as u64 + long as u64 / 2) / long as u64).max(1) as usize;
    (scale(width), scale(height))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn img(width: usize, height: usize, f: impl Fn(usize, usize) -> [u8; 3]) -> Rgb {
        let mut pixels = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            for x in 0..width {
                pixels.extend_from_slice(&f(x, y));
            }
        }
        Rgb {
            pixels,
            width,
            height,
        }
    }

    #[test]
    fn fits_the_long_edge_keeping_the_aspect() {
        assert_eq!(fit(480, 270, 320), (320, 180));
        assert_eq!(fit(500, 375, 320), (320, 240));
        assert_eq!(fit(270, 480, 320), (180, 320));
        assert_eq!(fit(200, 100, 320), (200, 100));
        assert_eq!(fit(10_000, 3, 320), (320, 1));
    }

    #[test]
    fn averages_the_covered_area() {
        // Columns alternate black and white: halving gives mid grey everywhere.
        let stripes = img(8, 4, |x, _| if x % 2 == 0 { [0; 3] } else { [255; 3] });
        let half = shrink(stripes, 4, 2);
        assert_eq!((half.width, half.height), (4, 2));
        assert!(half.pixels.iter().all(|&v| v == 128), "{:?}", half.pixels);
        // A 1.5x shrink of a flat colour stays that colour exactly.
        let flat = img(480, 270, |_, _| [10, 200, 77]);
        let small = shrink(flat, 320, 180);
        assert_eq!(small.pixels.len(), 320 * 180 * 3);
        assert!(small.pixels.chunks(3).all(|p| p == [10, 200, 77]));
        // The left half red, the right half blue: the sides keep their colour.
        let split = img(300, 10, |x, _| if x < 150 { [255, 0, 0] } else { [0, 0, 255] });
        let s = shrink(split, 200, 5);
        assert_eq!(&s.pixels[..3], &[255, 0, 0]);
        assert_eq!(&s.pixels[s.pixels.len() - 3..], &[0, 0, 255]);
    }

    #[test]
    fn the_right_size_is_returned_as_is() {
        let a = img(5, 3, |x, y| [x as u8, y as u8, 0]);
        assert_eq!(shrink(a.clone(), 5, 3), a);
        assert_eq!(shrink(a.clone(), 9, 9), a, "never enlarged");
    }
}
