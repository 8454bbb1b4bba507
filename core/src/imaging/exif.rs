//! The one EXIF field the pipeline needs: IFD0's Orientation (tag 0x0112). A few dozen lines of
//! bounds-checked reading instead of a full EXIF crate, because this runs on untrusted bytes and
//! every other field is irrelevant here.

const TAG_ORIENTATION: u16 = 0x0112;
const TYPE_SHORT: u16 = 3;
const TYPE_LONG: u16 = 4;

/// The orientation in an APP1 payload (starting with `Exif\0\0`), if present and valid (1–8).
pub(crate) fn orientation(app1: &[u8]) -> Option<u8> {
    let tiff = app1.strip_prefix(b"Exif\0\0")?;
    let big_endian = match tiff.get(0..2)? {
        b"II" => false,
        b"MM" => true,
        _ => return None,
    };
    let r = Reader {
        data: tiff,
        big_endian,
    };
    if r.u16(2)? != 42 {
        return None;
    }
    let ifd0 = r.u32(4)? as usize;
    let count = r.u16(ifd0)? as usize;
    for i in 0..count {
        let entry = ifd0.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if r.u16(entry)? != TAG_ORIENTATION {
            continue;
        }
        // The value fits in the entry's 4-byte value field, left-aligned.
        let field = entry.checked_add(8)?;
        let value = match r.u16(entry.checked_add(2)?)? {
            TYPE_SHORT => u32::from(r.u16(field)?),
            TYPE_LONG => r.u32(field)?,
            _ => return None,
        };
        return u8::try_from(value).ok().filter(|v| (1..=8).contains(v));
    }
    None
}

struct Reader<'a> {
    data: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.data.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.bytes::<2>(at)?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes::<4>(at)?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
}

/// An APP1 payload holding only an orientation, as a camera would write it. For tests.
#[cfg(test)]
pub(crate) fn app1_with_orientation(orientation: u16, big_endian: bool) -> Vec<u8> {
    let mut v = b"Exif\0\0".to_vec();
    let w16 = |n: u16| {
        if big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        }
    };
    let w32 = |n: u32| {
        if big_endian {
            n.to_be_bytes()
        } else {
            n.to_le_bytes()
        }
    };
    v.extend_from_slice(if big_endian { b"MM" } else { b"II" });
    v.extend_from_slice(&w16(42));
    v.extend_from_slice(&w32(8));
    v.extend_from_slice(&w16(2));
    // An unrelated entry first (ImageWidth), so the reader has to walk the IFD.
    v.extend_from_slice(&w16(0x0100));
    v.extend_from_slice(&w16(TYPE_LONG));
    v.extend_from_slice(&w32(1));
    v.extend_from_slice(&w32(640));
    v.extend_from_slice(&w16(TAG_ORIENTATION));
    v.extend_from_slice(&w16(TYPE_SHORT));
    v.extend_from_slice(&w32(1));
    v.extend_from_slice(&w16(orientation));
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&w32(0));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_orientation_in_both_byte_orders() {
        for o in 1..=8 {
            assert_eq!(orientation(&app1_with_orientation(o, false)), Some(o as u8));
            assert_eq!(orientation(&app1_with_orientation(o, true)), Some(o as u8));
        }
    }

    #[test]
    fn invalid_values_and_damaged_payloads_give_none() {
        assert_eq!(orientation(&app1_with_orientation(0, false)), None);
        assert_eq!(orientation(&app1_with_orientation(9, true)), None);
        let good = app1_with_orientation(6, false);
        // Every truncation and every single-byte corruption: never a panic.
        for len in 0..good.len() {
            let _ = orientation(&good[..len]);
        }
        for i in 0..good.len() {
            for b in [0x00, 0xff, 0x7f, 0x80] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = orientation(&bad);
            }
        }
        assert_eq!(orientation(b"Exif\0\0II\x2a\0\xff\xff\xff\xff"), None);
        assert_eq!(orientation(b"JFIF\0"), None);
    }
}
