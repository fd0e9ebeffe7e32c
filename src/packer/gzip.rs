//! The gzip wrapper packer with Sente's one-byte header; see [`GzipPacker`].

use std::borrow::Cow;
use std::io::{ErrorKind, Read as _, Write as _};

use flate2::Compression;
use flate2::bufread::GzDecoder;
use flate2::write::GzEncoder;

use super::{PackError, Packed, PackedRef, Packer, UnpackError, UnpackErrorKind};
use crate::value::Value;

const PACKER: &str = "gzip";

/// The header byte of a payload sent as is.
const RAW: u8 = 0x00;
/// The header byte of a gzipped payload.
const GZIPPED: u8 = 0x01;

/// Wraps another packer, as Sente's `taoensso.sente.packers.gzip/wrap-packer`
/// does.
///
/// The output is always binary: one header byte, then the inner packer's
/// output (text as UTF-8):
///
/// - `0x00` followed by the payload as is, when it is shorter than the
///   threshold (1024 bytes, as in Sente);
/// - `0x01` followed by the payload as a gzip stream (RFC 1952), otherwise.
///
/// Unpacking gunzips when the header is `0x01` and takes the rest as is for
/// any other header byte, as Sente does; decompression stops with
/// [`UnpackErrorKind::TooLarge`] past a limit (16 MiB by default), so a gzip
/// bomb costs no more than that. Bytes after the end of the gzip stream are
/// [`UnpackErrorKind::TrailingInput`]. Around a text packer (EDN, Transit,
/// JSON) the payload must be UTF-8 and is handed over as text.
///
/// Errors of the inner packer keep their kind; they are reported as the
/// wrapper's (`"gzip"`), with the inner packer's name at the start of the
/// detail. Their offset is shifted past the header byte when the payload was
/// not compressed; for a compressed payload the offset into the decompressed
/// bytes is only given in the detail.
///
/// # Example
///
/// ```
/// use sente::packer::{EdnPacker, GzipPacker, Packed, Packer};
/// use sente::Value;
///
/// let p = GzipPacker::new(EdnPacker::new());
/// let small = Value::vector([Value::keyword("chsk/ws-ping"), Value::Nil]);
/// let packed = p.pack(true, &small).unwrap();
/// assert_eq!(packed, Packed::Binary(b"\x00[:chsk/ws-ping nil]".to_vec()));
///
/// let big = Value::from("x".repeat(5000));
/// let packed = p.pack(true, &big).unwrap();
/// assert_eq!(packed.as_bytes()[..3], [0x01, 0x1f, 0x8b]);
/// assert!(packed.len() < 100);
/// assert_eq!(p.unpack(true, packed.as_ref()).unwrap(), big);
/// ```
#[derive(Debug, Clone)]
pub struct GzipPacker<P> {
    inner: P,
    threshold: usize,
    max_decompressed_len: usize,
}

impl<P: Packer> GzipPacker<P> {
    /// Sente's threshold: payloads of this many bytes or more are gzipped.
    pub const DEFAULT_THRESHOLD: usize = 1024;

    /// The default limit on a decompressed payload: 16 MiB.
    pub const DEFAULT_MAX_DECOMPRESSED_LEN: usize = 16 * 1024 * 1024;

    /// Wraps `inner` with Sente's threshold ([`Self::DEFAULT_THRESHOLD`]) and
    /// the default decompression limit ([`Self::DEFAULT_MAX_DECOMPRESSED_LEN`]).
    pub const fn new(inner: P) -> Self {
        Self {
            inner,
            threshold: Self::DEFAULT_THRESHOLD,
            max_decompressed_len: Self::DEFAULT_MAX_DECOMPRESSED_LEN,
        }
    }

    /// Sets the size, in bytes, from which a payload is gzipped (0: always).
    pub const fn with_threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// Sets the largest size, in bytes, a gzipped payload may decompress to.
    pub const fn with_max_decompressed_len(mut self, max_len: usize) -> Self {
        self.max_decompressed_len = max_len;
        self
    }

    /// The wrapped packer.
    pub const fn inner(&self) -> &P {
        &self.inner
    }

    /// Gunzips `stream`, the input after the header byte.
    fn gunzip(&self, stream: &[u8]) -> Result<Vec<u8>, UnpackError> {
        let input_len = stream.len() + 1;
        let mut decoder = GzDecoder::new(stream);
        let mut out = Vec::new();
        let cap = u64::try_from(self.max_decompressed_len)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        (&mut decoder)
            .take(cap)
            .read_to_end(&mut out)
            .map_err(|e| match e.kind() {
                ErrorKind::UnexpectedEof => error(
                    UnpackErrorKind::UnexpectedEnd,
                    Some(input_len),
                    format!("the gzip stream is cut short: {e}"),
                ),
                _ => error(
                    UnpackErrorKind::Syntax,
                    None,
                    format!("not a valid gzip stream: {e}"),
                ),
            })?;
        if out.len() > self.max_decompressed_len {
            return Err(error(
                UnpackErrorKind::TooLarge,
                None,
                format!(
                    "the payload decompresses to more than {} bytes",
                    self.max_decompressed_len
                ),
            ));
        }
        let unread = decoder.into_inner().len();
        if unread > 0 {
            return Err(error(
                UnpackErrorKind::TrailingInput,
                Some(input_len - unread),
                format!("{unread} bytes follow the gzip stream"),
            ));
        }
        Ok(out)
    }
}

impl<P: Packer> Packer for GzipPacker<P> {
    fn name(&self) -> &'static str {
        PACKER
    }

    fn is_binary(&self) -> bool {
        true
    }

    fn pack(&self, websocket: bool, value: &Value) -> Result<Packed, PackError> {
        let packed = self.inner.pack(websocket, value)?;
        let payload = packed.as_bytes();
        if payload.len() < self.threshold {
            let mut out = Vec::with_capacity(payload.len() + 1);
            out.push(RAW);
            out.extend_from_slice(payload);
            return Ok(Packed::Binary(out));
        }
        let mut encoder = GzEncoder::new(vec![GZIPPED], Compression::default());
        encoder
            .write_all(payload)
            .and_then(|()| encoder.finish())
            .map(Packed::Binary)
            .map_err(|e| PackError::Encoder {
                packer: PACKER,
                detail: e.to_string(),
            })
    }

    /// The inner packer's check: compression cannot fail on what it packs.
    fn check_pack(&self, websocket: bool, value: &Value, below: usize) -> Result<usize, PackError> {
        self.inner.check_pack(websocket, value, below)
    }

    fn unpack(&self, websocket: bool, packed: PackedRef<'_>) -> Result<Value, UnpackError> {
        let PackedRef::Binary(bytes) = packed else {
            return Err(error(
                UnpackErrorKind::WrongPayloadKind,
                None,
                "the gzip packer reads binary frames, not text",
            ));
        };
        let Some((&header, rest)) = bytes.split_first() else {
            return Err(error(
                UnpackErrorKind::UnexpectedEnd,
                Some(0),
                "an empty payload has no header byte",
            ));
        };
        // Where the payload starts in the input, when it was not compressed.
        let (payload, start): (Cow<'_, [u8]>, Option<usize>) = if header == GZIPPED {
            (Cow::Owned(self.gunzip(rest)?), None)
        } else {
            (Cow::Borrowed(rest), Some(1))
        };
        let unpacked = if self.inner.is_binary() {
            self.inner.unpack(websocket, PackedRef::Binary(&payload))
        } else {
            let text = std::str::from_utf8(&payload).map_err(|e| {
                let at = e.valid_up_to();
                error(
                    UnpackErrorKind::InvalidUtf8,
                    start.map(|s| s + at),
                    format!("the payload is not UTF-8 from byte {at}"),
                )
            })?;
            self.inner.unpack(websocket, PackedRef::Text(text))
        };
        unpacked.map_err(|e| {
            let detail = match (start, e.offset()) {
                (None, Some(at)) => format!(
                    "{}: {} (at byte {at} of the decompressed payload)",
                    e.packer(),
                    e.detail()
                ),
                _ => format!("{}: {}", e.packer(), e.detail()),
            };
            let offset = start.zip(e.offset()).map(|(s, at)| s + at);
            error(e.kind(), offset, detail)
        })
    }

    fn keeps_keywords(&self) -> bool {
        self.inner.keeps_keywords()
    }
}

fn error(
    kind: UnpackErrorKind,
    offset: Option<usize>,
    detail: impl Into<Cow<'static, str>>,
) -> UnpackError {
    UnpackError::new(PACKER, kind, offset, detail)
}

#[cfg(all(test, feature = "edn"))]
mod tests {
    use super::*;
    use crate::packer::EdnPacker;

    fn gz_edn() -> GzipPacker<EdnPacker> {
        GzipPacker::new(EdnPacker::new())
    }

    fn unpack(p: &impl Packer, bytes: &[u8]) -> Result<Value, UnpackError> {
        p.unpack(true, PackedRef::Binary(bytes))
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(vec![GZIPPED], Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn threshold_decides_the_header() {
        let p = gz_edn();
        let just_below = Value::from("x".repeat(1021)); // 1023 bytes of EDN
        assert_eq!(p.pack(true, &just_below).unwrap().as_bytes()[0], RAW);
        let at = Value::from("x".repeat(1022));
        let packed = p.pack(true, &at).unwrap();
        assert_eq!(packed.as_bytes()[..3], [GZIPPED, 0x1f, 0x8b]);
        assert_eq!(unpack(&p, packed.as_bytes()).unwrap(), at);
        let always = gz_edn().with_threshold(0);
        assert_eq!(
            always.pack(true, &Value::Nil).unwrap().as_bytes()[0],
            GZIPPED
        );
        let never = gz_edn().with_threshold(usize::MAX);
        assert_eq!(never.pack(true, &at).unwrap().as_bytes()[0], RAW);
        assert_eq!(p.inner().name(), "edn");
    }

    #[test]
    fn any_header_but_one_means_raw() {
        let p = gz_edn();
        assert_eq!(unpack(&p, b"\x00:a").unwrap(), Value::keyword("a"));
        assert_eq!(unpack(&p, b"\x7f:a").unwrap(), Value::keyword("a"));
        assert_eq!(unpack(&p, b"\x00").unwrap(), Value::Nil); // Sente's EDN reads "" as nil
        assert_eq!(unpack(&p, &gzip(b":a")).unwrap(), Value::keyword("a"));
    }

    #[test]
    fn errors_keep_their_kind_and_find_their_offset() {
        let p = gz_edn();
        let kind_and_offset = |bytes: &[u8]| {
            let e = unpack(&p, bytes).unwrap_err();
            assert_eq!(e.packer(), "gzip");
            (e.kind(), e.offset())
        };
        assert_eq!(
            kind_and_offset(b""),
            (UnpackErrorKind::UnexpectedEnd, Some(0))
        );
        assert_eq!(
            kind_and_offset(b"\x00[1"),
            (UnpackErrorKind::UnexpectedEnd, Some(3))
        );
        assert_eq!(
            kind_and_offset(b"\x00[1 ]]"),
            (UnpackErrorKind::TrailingInput, Some(5))
        );
        assert_eq!(
            kind_and_offset(b"\x00[\xff]"),
            (UnpackErrorKind::InvalidUtf8, Some(2))
        );
        assert_eq!(
            kind_and_offset(&gzip(b"[1")),
            (UnpackErrorKind::UnexpectedEnd, None)
        );
        assert_eq!(
            kind_and_offset(&gzip(b"[\xff]")),
            (UnpackErrorKind::InvalidUtf8, None)
        );
        let e = unpack(&p, &gzip(b"[1 2")).unwrap_err();
        assert!(e.detail().starts_with("edn: "), "{e}");
        assert!(
            e.detail().contains("at byte 4 of the decompressed payload"),
            "{e}"
        );
        assert_eq!(
            kind_and_offset(b"\x01"),
            (UnpackErrorKind::UnexpectedEnd, Some(1))
        );
        // A valid header, then a deflate block of the reserved type 3.
        let bad_block = b"\x01\x1f\x8b\x08\x00\x00\x00\x00\x00\xff\xff\xff\xff";
        assert_eq!(kind_and_offset(bad_block).0, UnpackErrorKind::Syntax);
        assert_eq!(
            kind_and_offset(b"\x01not gzip at all").0,
            UnpackErrorKind::Syntax
        );
        let whole = gzip(b"[1 2 3]");
        let cut = &whole[..whole.len() - 3];
        assert_eq!(
            kind_and_offset(cut),
            (UnpackErrorKind::UnexpectedEnd, Some(cut.len()))
        );
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"??");
        assert_eq!(
            kind_and_offset(&trailing),
            (UnpackErrorKind::TrailingInput, Some(whole.len()))
        );
        let mut bad_crc = whole.clone();
        let crc_at = bad_crc.len() - 8;
        bad_crc[crc_at] ^= 1;
        assert_eq!(kind_and_offset(&bad_crc).0, UnpackErrorKind::Syntax);
        let e = p.unpack(true, PackedRef::Text("[]")).unwrap_err();
        assert_eq!(e.kind(), UnpackErrorKind::WrongPayloadKind);
    }

    #[test]
    fn deep_nesting_inside_is_the_inner_packers_error() {
        let deep = "[".repeat(100_000);
        let p = gz_edn();
        let mut raw = vec![RAW];
        raw.extend_from_slice(deep.as_bytes());
        assert_eq!(
            unpack(&p, &raw).unwrap_err().kind(),
            UnpackErrorKind::TooDeep
        );
        let gzipped = gzip(deep.as_bytes());
        assert_eq!(
            unpack(&p, &gzipped).unwrap_err().kind(),
            UnpackErrorKind::TooDeep
        );
    }

    #[test]
    fn decompression_is_bounded() {
        let zeros = vec![b' '; 64 * 1024];
        let small = gz_edn().with_max_decompressed_len(64 * 1024 - 1);
        let e = unpack(&small, &gzip(&zeros)).unwrap_err();
        assert_eq!(e.kind(), UnpackErrorKind::TooLarge);
        let exact = gz_edn().with_max_decompressed_len(64 * 1024);
        assert_eq!(unpack(&exact, &gzip(&zeros)).unwrap(), Value::Nil);
    }

    #[test]
    fn passes_the_inner_packers_nature_through() {
        let p = gz_edn();
        assert_eq!(p.name(), "gzip");
        assert!(p.is_binary());
        assert!(p.keeps_keywords());
    }
}
