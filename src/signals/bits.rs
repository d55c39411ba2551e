//! Base64url text to bits, and a reader that knows its bit offset so every
//! error can say where it happened.

/// The bits of one base64url segment, six per character, most significant
/// bit first (the IAB strings are bit streams, not byte streams: padding
/// to bytes would shift every field). Stored packed, eight to a byte, so a
/// field is read a byte at a time rather than a bit at a time.
pub(crate) struct BitReader {
    /// The bits, packed; the last byte is zero-padded.
    bytes: Vec<u8>,
    /// How many bits the text holds (six per character).
    len: usize,
    /// The next bit to read, counted from the segment's first bit.
    pos: usize,
}

/// A character outside the base64url alphabet, at this character index.
pub(crate) struct BadChar {
    pub(crate) index: usize,
    pub(crate) ch: char,
}

/// Each byte's 6-bit value in the base64url alphabet, or 0xFF.
pub(crate) const SEXTET: [u8; 256] = {
    let mut t = [0xFF; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

impl BitReader {
    /// Decodes base64url without padding, as the TCF specification and the
    /// reference library both require (`=` is rejected, like `+` and `/`).
    pub(crate) fn new(text: &str) -> Result<Self, BadChar> {
        let raw = text.as_bytes();
        let mut bytes = Vec::with_capacity(raw.len() * 3 / 4 + 1);
        let bad = |index: usize| {
            // Name the character, not the byte: the text may be UTF-8.
            let ch = text
                .get(index..)
                .and_then(|t| t.chars().next())
                .unwrap_or('\u{fffd}');
            let index = text.get(..index).map_or(index, |t| t.chars().count());
            BadChar { index, ch }
        };
        // Four characters are three bytes; valid values are below 64, so
        // one test of the high bits checks all four.
        let mut chunks = raw.chunks_exact(4);
        for (i, c) in chunks.by_ref().enumerate() {
            let v = [
                SEXTET[usize::from(c[0])],
                SEXTET[usize::from(c[1])],
                SEXTET[usize::from(c[2])],
                SEXTET[usize::from(c[3])],
            ];
            if (v[0] | v[1] | v[2] | v[3]) & 0xC0 != 0 {
                let at = v.iter().position(|x| *x == 0xFF).unwrap_or(0);
                return Err(bad(i * 4 + at));
            }
            let w = (u32::from(v[0]) << 18)
                | (u32::from(v[1]) << 12)
                | (u32::from(v[2]) << 6)
                | u32::from(v[3]);
            bytes.extend_from_slice(&[(w >> 16) as u8, (w >> 8) as u8, w as u8]);
        }
        let tail_start = raw.len() - chunks.remainder().len();
        let mut acc = 0u32;
        let mut held = 0u32;
        for (j, &b) in chunks.remainder().iter().enumerate() {
            let v = SEXTET[usize::from(b)];
            if v == 0xFF {
                return Err(bad(tail_start + j));
            }
            acc = (acc << 6) | u32::from(v);
            held += 6;
            if held >= 8 {
                held -= 8;
                bytes.push((acc >> held) as u8);
                acc &= (1 << held) - 1;
            }
        }
        if held > 0 {
            bytes.push((acc << (8 - held)) as u8);
        }
        Ok(Self {
            bytes,
            len: raw.len() * 6,
            pos: 0,
        })
    }

    /// The bit offset of the next read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bits left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.len - self.pos
    }

    /// Reads `n` (at most 64) bits as an unsigned integer, or `None` when
    /// fewer than `n` are left (the position is then unchanged).
    pub(crate) fn read(&mut self, n: usize) -> Option<u64> {
        debug_assert!(n <= 64);
        if n > self.remaining() {
            return None;
        }
        let mut out = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = *self.bytes.get(self.pos / 8)?;
            let avail = 8 - self.pos % 8;
            let take = avail.min(left);
            let v = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            out = (out << take) | v;
            self.pos += take;
            left -= take;
        }
        Some(out)
    }

    /// Reads `n` bits into bytes, most significant bit first; `None` when
    /// fewer than `n` are left. The caller has already bounded `n` by the
    /// input, so the allocation is never larger than the string.
    pub(crate) fn read_bytes(&mut self, n: usize) -> Option<Vec<u8>> {
        if n > self.remaining() {
            return None;
        }
        let start = self.pos / 8;
        let shift = self.pos % 8;
        let count = n.div_ceil(8);
        // Byte-wise, each output byte from two input bytes; a missing
        // second byte (the end of the text) reads as zero padding.
        let at = |i: usize| self.bytes.get(i).copied().unwrap_or(0);
        let mut out: Vec<u8> = (start..start + count)
            .map(|i| {
                if shift == 0 {
                    at(i)
                } else {
                    (at(i) << shift) | (at(i + 1) >> (8 - shift))
                }
            })
            .collect();
        // Bits past the n-th belong to the next field: clear them.
        if !n.is_multiple_of(8) {
            if let Some(last) = out.last_mut() {
                *last &= 0xFFu8 << (8 - n % 8);
            }
        }
        self.pos += n;
        Some(out)
    }
}
