//! Photo bytes across the FFI in one copy.
//!
//! uniffi lifts a `Vec<u8>` argument item by item (a length, then one `u8` read per byte): a
//! 4 MB camera JPEG cost ~85 ms in a debug build. [`PhotoBytes`] has the same wire format and
//! the same metadata as `Vec<u8>`, so the foreign side is unchanged (Kotlin `ByteArray`, Swift
//! `Data`, Python `bytes`), but its lift copies the slice at once.

// uniffi's converter traits are `unsafe trait`s (an implementation must match the generated
// foreign code); the workspace denies unsafe code, so this module allows exactly these impls.
#![allow(unsafe_code)]

use uniffi::deps::bytes::{Buf, BufMut};
use uniffi::{Lift, Lower, MetadataBuffer, RustBuffer, TypeId};

use crate::UniFfiTag;

/// The bytes of a photo (a camera JPEG, an evidence image) as the app hands them over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhotoBytes(pub Vec<u8>);

impl PhotoBytes {
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for PhotoBytes {
    fn from(bytes: Vec<u8>) -> Self {
        PhotoBytes(bytes)
    }
}

// SAFETY: the wire format is exactly `Vec<u8>`'s (an `i32` length, then the bytes) and the type
// metadata below is `Vec<u8>`'s, so the foreign code generated for `bytes` reads and writes it.
unsafe impl Lift<UniFfiTag> for PhotoBytes {
    type FfiType = RustBuffer;

    fn try_lift(buf: RustBuffer) -> uniffi::Result<Self> {
        Self::try_lift_from_rust_buffer(buf)
    }

    fn try_read(buf: &mut &[u8]) -> uniffi::Result<Self> {
        uniffi::check_remaining(buf, 4)?;
        let len = usize::try_from(buf.get_i32())?;
        uniffi::check_remaining(buf, len)?;
        // The one copy: the whole slice at once.
        let bytes = buf[..len].to_vec();
        buf.advance(len);
        Ok(PhotoBytes(bytes))
    }
}

// SAFETY: as for `Lift`: `Vec<u8>`'s wire format, written in one piece.
unsafe impl Lower<UniFfiTag> for PhotoBytes {
    type FfiType = RustBuffer;

    fn lower(obj: Self) -> RustBuffer {
        Self::lower_into_rust_buffer(obj)
    }

    fn write(obj: Self, buf: &mut Vec<u8>) {
        // A photo is capped far below 2 GiB (`MAX_PHOTO_BYTES`); saturating keeps this panic-free.
        let len = i32::try_from(obj.0.len()).unwrap_or(i32::MAX);
        buf.put_i32(len);
        buf.extend_from_slice(&obj.0[..usize::try_from(len).unwrap_or(0)]);
    }
}

impl TypeId<UniFfiTag> for PhotoBytes {
    const TYPE_ID_META: MetadataBuffer = <Vec<u8> as TypeId<UniFfiTag>>::TYPE_ID_META;
}

uniffi::derive_ffi_traits!(impl LiftRef<UniFfiTag> for PhotoBytes);
uniffi::derive_ffi_traits!(impl LiftReturn<UniFfiTag> for PhotoBytes);
uniffi::derive_ffi_traits!(impl LowerReturn<UniFfiTag> for PhotoBytes);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn wire(bytes: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        <Vec<u8> as Lower<UniFfiTag>>::write(bytes.to_vec(), &mut buf);
        buf
    }

    #[test]
    fn reads_what_vec_u8_writes() {
        let data: Vec<u8> = (0..=255u8).cycle().take(100_003).collect();
        let buf = wire(&data);
        let mut slice = buf.as_slice();
        let lifted = <PhotoBytes as Lift<UniFfiTag>>::try_read(&mut slice).unwrap();
        assert_eq!(lifted.0, data);
        assert!(slice.is_empty(), "the whole value was consumed");
    }

    #[test]
    fn writes_what_vec_u8_reads() {
        let data = vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3];
        let mut buf = Vec::new();
        <PhotoBytes as Lower<UniFfiTag>>::write(PhotoBytes(data.clone()), &mut buf);
        assert_eq!(buf, wire(&data));
        let mut slice = buf.as_slice();
        assert_eq!(<Vec<u8> as Lift<UniFfiTag>>::try_read(&mut slice).unwrap(), data);
    }

    #[test]
    fn refuses_a_length_beyond_the_buffer_or_negative() {
        let mut short = wire(&[1, 2, 3]);
        short.truncate(5);
        assert!(<PhotoBytes as Lift<UniFfiTag>>::try_read(&mut short.as_slice()).is_err());
        let negative = (-1i32).to_be_bytes();
        assert!(<PhotoBytes as Lift<UniFfiTag>>::try_read(&mut negative.as_slice()).is_err());
    }

    #[test]
    fn has_vec_u8_metadata_so_the_foreign_side_sees_bytes() {
        let ours = <PhotoBytes as TypeId<UniFfiTag>>::TYPE_ID_META;
        let vec = <Vec<u8> as TypeId<UniFfiTag>>::TYPE_ID_META;
        assert_eq!(ours.as_ref(), vec.as_ref());
    }
}
