//! Perceptual hash (the DCT "pHash"): grey, area-averaged to 32x32, 2-D DCT-II, the 8x8 lowest
//! frequencies without DC, one bit per coefficient: above the median or not. 63 bits; the top
//! bit is always 0. Survives re-encoding, rescaling, small crops and brightness changes, which is
//! what a reused shelf photo goes through.

use std::f64::consts::PI;

use super::Rgb;

/// Side of the grey thumbnail the DCT runs on.
pub(crate) const SIZE: usize = 32;
const LOW: usize = 8;

pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

pub(crate) fn phash(img: &Rgb) -> u64 {
    let grid = thumbnail(img);
    let coef = low_frequencies(&grid);
    let mut ac: Vec<f64> = coef.iter().flatten().skip(1).copied().collect();
    let values = ac.clone();
    ac.sort_by(f64::total_cmp);
    let median = ac[ac.len() / 2];
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > median)
        .fold(0u64, |h, (i, _)| h | 1 << i)
}

/// Grey 32x32 by exact area averaging: each source pixel contributes to the cells it overlaps,
/// weighted by the overlap. Any source size, so a 1/8-scale decode and a full-size one give
/// nearly the same grid. Rows are summed first, channel bytes as they lie (contiguous, so it
/// vectorises), into 32 full-width accumulators; grey and the horizontal reduction then run on
/// those alone.
fn thumbnail(img: &Rgb) -> [[f64; SIZE]; SIZE] {
    let mut grid = [[0.0; SIZE]; SIZE];
    let stride = img.width * 3;
    if stride == 0 || img.height == 0 {
        return grid;
    }
    let ys = overlaps(img.height);
    let mut acc = vec![0.0f32; SIZE * stride];
    for (y, line) in img.pixels.chunks_exact(stride).enumerate() {
        for &(cell, weight) in &ys[y] {
            let weight = weight as f32;
            for (a, &v) in acc[cell * stride..(cell + 1) * stride].iter_mut().zip(line) {
                *a += f32::from(v) * weight;
            }
        }
    }
    let xs = overlaps(img.width);
    for (cell_row, sums) in grid.iter_mut().zip(acc.chunks_exact(stride)) {
        for (cells, px) in xs.iter().zip(sums.chunks_exact(3)) {
            let grey = 0.299 * f64::from(px[0]) + 0.587 * f64::from(px[1]) + 0.114 * f64::from(px[2]);
            for &(cell, weight) in cells {
                cell_row[cell] += grey * weight;
            }
        }
    }
    grid
}

/// For each of `n` source pixels, the thumbnail cells it overlaps and by how much (in cell
/// widths, so each cell's weights sum to 1).
fn overlaps(n: usize) -> Vec<Vec<(usize, f64)>> {
    let scale = SIZE as f64 / n as f64;
    (0..n)
        .map(|i| {
            let (a, b) = (i as f64 * scale, (i + 1) as f64 * scale);
            let first = a.floor() as usize;
            let last = ((b.ceil() as usize).max(first + 1)).min(SIZE);
            (first..last)
                .map(|cell| (cell, b.min(cell as f64 + 1.0) - a.max(cell as f64)))
                .filter(|&(_, w)| w > 0.0)
                .collect()
        })
        .collect()
}

/// The 8x8 lowest-frequency coefficients of the orthonormal 2-D DCT-II, `[v][u]`.
fn low_frequencies(grid: &[[f64; SIZE]; SIZE]) -> [[f64; LOW]; LOW] {
    let mut basis = [[0.0; SIZE]; LOW];
    for (u, b) in basis.iter_mut().enumerate() {
        let norm = if u == 0 {
            (1.0 / SIZE as f64).sqrt()
        } else {
            (2.0 / SIZE as f64).sqrt()
        };
        for (x, v) in b.iter_mut().enumerate() {
            *v = norm * ((2 * x + 1) as f64 * u as f64 * PI / (2 * SIZE) as f64).cos();
        }
    }
    // Columns first: cols[v][x] = sum over y of basis[v][y] * grid[y][x].
    let mut cols = [[0.0; SIZE]; LOW];
    for (v, c) in cols.iter_mut().enumerate() {
        for (y, line) in grid.iter().enumerate() {
            for (x, g) in line.iter().enumerate() {
                c[x] += basis[v][y] * g;
            }
        }
    }
    let mut out = [[0.0; LOW]; LOW];
    for (v, o) in out.iter_mut().enumerate() {
        for (u, value) in o.iter_mut().enumerate() {
            *value = (0..SIZE).map(|x| basis[u][x] * cols[v][x]).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize, flip: bool) -> Rgb {
        let mut pixels = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let v = ((x * 255 / w + y * 64 / h) % 256) as u8;
                let v = if flip { 255 - v } else { v };
                let blob = if (x * 4 / w + y * 3 / h).is_multiple_of(2) {
                    40
                } else {
                    0
                };
                pixels.extend_from_slice(&[v, v.saturating_add(blob), v / 2]);
            }
        }
        Rgb {
            pixels,
            width: w,
            height: h,
        }
    }

    #[test]
    fn area_weights_cover_every_cell_once() {
        for n in [1, 7, 31, 32, 33, 250, 1920, 4001] {
            let mut sums = [0.0; SIZE];
            for cells in overlaps(n) {
                for (c, w) in cells {
                    sums[c] += w;
                }
            }
            for s in sums {
                assert!((s - 1.0).abs() < 1e-9, "{n}: {sums:?}");
            }
        }
    }

    #[test]
    fn scale_invariant_and_discriminating() {
        let big = phash(&gradient(1600, 1200, false));
        let small = phash(&gradient(200, 150, false));
        let inverted = phash(&gradient(1600, 1200, true));
        assert!(hamming(big, small) <= 2, "{}", hamming(big, small));
        assert!(hamming(big, inverted) > 20, "{}", hamming(big, inverted));
        assert_eq!(big >> 63, 0);
    }
}
