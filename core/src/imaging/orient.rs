//! EXIF orientation on decoded pixels. Every orientation is a transpose (5–8) followed by flips;
//! flips are cheap and in place, and a transpose of a large image is in place too, so a
//! full-size 12 MP capture never holds a second RGB buffer.
//!
//! libjpeg-turbo's lossless transform was measured as the alternative and lost on both counts:
//! a 90° turn holds the source's and the destination's DCT coefficients at once (2 x 3 bytes a
//! pixel for 4:2:0: 85 MB peak for 12 MP) and costs 110 ms before decoding even starts; it also
//! trims partial MCUs off the edges.

use super::Rgb;

/// Above this buffer size a transpose runs in place instead of into a second buffer. In place
/// costs one cache miss a pixel once the image outgrows the cache: measured +8 ms for a 2000x1500
/// portrait (against copying), ~200 ms for 12 MP (against ~60 ms). The second buffer would cost
/// 9 MB and 36 MB of peak memory, which the budgets (32 MiB downscaled, 64 MiB full size, CJK
/// font included) do not have.
const IN_PLACE_ABOVE_BYTES: usize = 4 * 1024 * 1024;

/// Turn the stored image into the one the camera meant (EXIF orientation 1–8; others: none).
pub(crate) fn apply(img: &mut Rgb, orientation: u8) {
    apply_with(img, orientation, IN_PLACE_ABOVE_BYTES);
}

fn apply_with(img: &mut Rgb, orientation: u8, in_place_above: usize) {
    // For 5–8: a transpose, then whether the new columns and the new rows run backwards.
    let (reverse_cols, reverse_rows) = match orientation {
        2 => return hflip(img),
        3 => return rot180(img),
        4 => return vflip(img),
        5 => (false, false),
        6 => (true, false),
        7 => (true, true),
        8 => (false, true),
        _ => return,
    };
    if img.pixels.len() <= in_place_above && turn_into_new(img, reverse_cols, reverse_rows) {
        return;
    }
    transpose_in_place(&mut img.pixels, img.width, img.height);
    (img.width, img.height) = (img.height, img.width);
    if reverse_cols {
        hflip(img);
    }
    if reverse_rows {
        vflip(img);
    }
}

fn hflip(img: &mut Rgb) {
    let w = img.width;
    if w == 0 {
        return;
    }
    for row in img.pixels.chunks_exact_mut(w * 3) {
        for x in 0..w / 2 {
            let (a, b) = (x * 3, (w - 1 - x) * 3);
            for c in 0..3 {
                row.swap(a + c, b + c);
            }
        }
    }
}

fn vflip(img: &mut Rgb) {
    let stride = img.width * 3;
    for y in 0..img.height / 2 {
        let (top, bottom) = img.pixels.split_at_mut((img.height - 1 - y) * stride);
        top[y * stride..(y + 1) * stride].swap_with_slice(&mut bottom[..stride]);
    }
}

fn rot180(img: &mut Rgb) {
    let n = img.width * img.height;
    for i in 0..n / 2 {
        let (a, b) = (i * 3, (n - 1 - i) * 3);
        for c in 0..3 {
            img.pixels.swap(a + c, b + c);
        }
    }
}

/// Transpose (and flip) into a new buffer in one cache-blocked pass; false if that buffer
/// cannot be had. Source pixel (x, y) of WxH lands in row x (or W-1-x) and column y (or H-1-y)
/// of the HxW result.
fn turn_into_new(img: &mut Rgb, reverse_cols: bool, reverse_rows: bool) -> bool {
    const TILE: usize = 32;
    let (w, h) = (img.width, img.height);
    let mut out = Vec::new();
    if out.try_reserve_exact(img.pixels.len()).is_err() {
        return false;
    }
    out.resize(img.pixels.len(), 0);
    for ty in (0..h).step_by(TILE) {
        let rows = ty..(ty + TILE).min(h);
        for tx in (0..w).step_by(TILE) {
            for x in tx..(tx + TILE).min(w) {
                let out_row = if reverse_rows { w - 1 - x } else { x };
                for y in rows.clone() {
                    let out_col = if reverse_cols { h - 1 - y } else { y };
                    let (s, d) = ((y * w + x) * 3, (out_row * h + out_col) * 3);
                    out[d..d + 3].copy_from_slice(&img.pixels[s..s + 3]);
                }
            }
        }
    }
    img.pixels = out;
    (img.width, img.height) = (h, w);
    true
}

/// In-place transpose of a row-major WxH pixel matrix by following the permutation's cycles; a
/// bitset (1 bit a pixel) marks the positions already filled.
fn transpose_in_place(px: &mut [u8], w: usize, h: usize) {
    let n = w * h;
    if w <= 1 || h <= 1 {
        return; // the same bytes either way
    }
    if w == h {
        for y in 0..h {
            for x in y + 1..w {
                let (a, b) = ((y * w + x) * 3, (x * w + y) * 3);
                for c in 0..3 {
                    px.swap(a + c, b + c);
                }
            }
        }
        return;
    }
    let mut done = vec![0u64; n.div_ceil(64)];
    let is_done = |done: &[u64], i: usize| done[i / 64] & (1 << (i % 64)) != 0;
    // The first and last pixels stay where they are.
    for start in 1..n - 1 {
        if is_done(&done, start) {
            continue;
        }
        let mut carry = [px[start * 3], px[start * 3 + 1], px[start * 3 + 2]];
        let mut cur = start;
        loop {
            // The pixel at `cur` (x = cur % w, y = cur / w) belongs at x * h + y.
            let next = (cur % w) * h + cur / w;
            let slot = &mut px[next * 3..next * 3 + 3];
            let old = [slot[0], slot[1], slot[2]];
            slot.copy_from_slice(&carry);
            carry = old;
            done[next / 64] |= 1 << (next % 64);
            cur = next;
            if next == start {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each pixel holds its own coordinates, so any misplacement shows.
    fn coords(w: usize, h: usize) -> Rgb {
        let mut pixels = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(&[x as u8, y as u8, (x * 7 + y * 13) as u8]);
            }
        }
        Rgb {
            pixels,
            width: w,
            height: h,
        }
    }

    fn at(img: &Rgb, x: usize, y: usize) -> [u8; 3] {
        let i = (y * img.width + x) * 3;
        [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]]
    }

    /// Where a source pixel (x, y) of a WxH image ends up for each orientation.
    fn expected(o: u8, w: usize, h: usize, x: usize, y: usize) -> (usize, usize) {
        match o {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (h - 1 - y, x),
            7 => (h - 1 - y, w - 1 - x),
            8 => (y, w - 1 - x),
            _ => (x, y),
        }
    }

    #[test]
    fn all_orientations_move_every_pixel_where_exif_says() {
        for (w, h) in [(7, 5), (5, 7), (6, 6), (1, 9), (9, 1), (33, 17)] {
            let src = coords(w, h);
            for o in 1..=8u8 {
                let mut img = src.clone();
                apply(&mut img, o);
                let (ow, oh) = if o >= 5 { (h, w) } else { (w, h) };
                assert_eq!((img.width, img.height), (ow, oh), "orientation {o} of {w}x{h}");
                for y in 0..h {
                    for x in 0..w {
                        let (ex, ey) = expected(o, w, h, x, y);
                        assert_eq!(
                            at(&img, ex, ey),
                            at(&src, x, y),
                            "orientation {o} of {w}x{h} at {x},{y}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn in_place_and_copying_turns_agree() {
        for (w, h) in [
            (2, 3),
            (3, 2),
            (64, 48),
            (48, 64),
            (101, 37),
            (16, 16),
            (1, 5),
            (5, 1),
        ] {
            for o in 5..=8 {
                let mut a = coords(w, h);
                let mut b = a.clone();
                apply_with(&mut a, o, 0);
                apply_with(&mut b, o, usize::MAX);
                assert_eq!(a, b, "orientation {o} of {w}x{h}");
            }
        }
    }
}
