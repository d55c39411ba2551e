//! Base64url text to bits, and a reader that knows its bit offset so every
//! error can say where it happened.

/// The bits of one base64url segment, six per character, most significant
/// bit first (the IAB strings are bit streams, not byte streams: padding
/// to bytes would shift every field).
pub(crate) struct BitReader {
    /// The 6-bit values of the characters, one per byte.
    sextets: Vec<u8>,
    /// The next bit to read, counted from the segment's first bit.
    pos: usize,
}

/// A character outside the base64url alphabet, at this character index.
pub(crate) struct BadChar {
    pub(crate) index: usize,
    pub(crate) ch: char,
}

impl BitReader {
    /// Decodes base64url without padding, as the TCF specification and the
    /// reference library both require (`=` is rejected, like `+` and `/`).
    pub(crate) fn new(text: &str) -> Result<Self, BadChar> {
        let mut sextets = Vec::with_capacity(text.len());
        for (index, ch) in text.chars().enumerate() {
            let v = match ch {
                'A'..='Z' => ch as u8 - b'A',
                'a'..='z' => ch as u8 - b'a' + 26,
                '0'..='9' => ch as u8 - b'0' + 52,
                '-' => 62,
                '_' => 63,
                _ => return Err(BadChar { index, ch }),
            };
            sextets.push(v);
        }
        Ok(Self { sextets, pos: 0 })
    }

    /// The bit offset of the next read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bits left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.sextets.len() * 6 - self.pos
    }

    /// Reads `n` (at most 64) bits as an unsigned integer, or `None` when
    /// fewer than `n` are left (the position is then unchanged).
    pub(crate) fn read(&mut self, n: usize) -> Option<u64> {
        debug_assert!(n <= 64);
        if n > self.remaining() {
            return None;
        }
        let mut out = 0u64;
        for _ in 0..n {
            let sextet = self.sextets[self.pos / 6];
            let bit = (sextet >> (5 - self.pos % 6)) & 1;
            out = (out << 1) | u64::from(bit);
            self.pos += 1;
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
        let mut out = Vec::with_capacity(n.div_ceil(8));
        let mut left = n;
        while left > 0 {
            let take = left.min(8);
            let v = self.read(take)? as u8;
            out.push(v << (8 - take));
            left -= take;
        }
        Some(out)
    }
}
