//! Putting mobile-originated concatenated parts back together.
//!
//! Parts are keyed by (source address, reference), accepted in any order, and duplicates are
//! ignored. Their raw septets or UTF-16 units are kept until the last part arrives and decoded
//! as one run, so an escape pair or surrogate pair that a handset split across parts still
//! decodes. Memory is bounded: when `max_pending` messages are incomplete the oldest is dropped.

use std::collections::HashMap;

use super::udh::{self, ConcatInfo};
use super::{SegmentError, fill_bits};
use crate::{gsm7, ucs2};

/// The alphabets a received part can be decoded from (SMPP 3.4 §5.2.19 `data_coding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alphabet {
    Gsm7,
    Ucs2,
    /// IA5 (0x01) is ASCII, a subset of Latin-1 (0x03): one octet per character.
    Latin1,
}

impl Alphabet {
    fn from_data_coding(data_coding: u8) -> Result<Alphabet, SegmentError> {
        match data_coding {
            // 0xF0–0xF3: GSM message class with the default alphabet (TS 23.038 §4).
            0x00 | 0xF0..=0xF3 => Ok(Alphabet::Gsm7),
            0x01 | 0x03 => Ok(Alphabet::Latin1),
            0x08 => Ok(Alphabet::Ucs2),
            other => Err(SegmentError::UnsupportedDataCoding(other)),
        }
    }
}

/// One stored part: septets (GSM-7), UTF-16BE octets or Latin-1 octets.
#[derive(Debug, Clone)]
struct Part {
    alphabet: Alphabet,
    data: Vec<u8>,
}

#[derive(Debug)]
struct Pending {
    parts: Vec<Option<Part>>,
    received: usize,
    /// Arrival order of the first part, to find the oldest when full.
    age: u64,
}

/// Collects parts of concatenated messages until each is complete.
#[derive(Debug)]
pub struct Reassembler {
    pending: HashMap<(String, u16), Pending>,
    max_pending: usize,
    packed_gsm7: bool,
    clock: u64,
}

impl Reassembler {
    /// A reassembler holding at most `max_pending` incomplete messages (at least 1). GSM-7
    /// parts are taken as unpacked septets, the usual SMPP form.
    pub fn new(max_pending: usize) -> Reassembler {
        Reassembler {
            pending: HashMap::new(),
            max_pending: max_pending.max(1),
            packed_gsm7: false,
            clock: 0,
        }
    }

    /// Takes GSM-7 parts as packed septets (with fill bits after the UDH) instead.
    pub fn with_packed_gsm7(mut self, packed: bool) -> Reassembler {
        self.packed_gsm7 = packed;
        self
    }

    /// Incomplete messages held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Accepts a received `short_message`. With `udhi` set its UDH is parsed; a message without
    /// a concatenation element is complete by itself. Returns the full text when this part
    /// completes a message, `None` while parts are missing or when it is a duplicate.
    pub fn accept(
        &mut self,
        source: &str,
        short_message: &[u8],
        udhi: bool,
        data_coding: u8,
    ) -> Result<Option<String>, SegmentError> {
        let alphabet = Alphabet::from_data_coding(data_coding)?;
        let (concat, udh_len, text) = if udhi {
            let (header, text) = udh::parse(short_message)?;
            (header.concat, header.len, text)
        } else {
            (None, 0, short_message)
        };
        let part = self.part(alphabet, text, udh_len)?;
        match concat {
            Some(info) => Ok(self.store(source, info, part)),
            None => Ok(Some(decode_all(&[part]))),
        }
    }

    /// Accepts a part whose position came in the `sar_*` TLVs (no UDH in `payload`).
    /// An invalid `info` (total or seq 0, seq above total) makes the part a message by itself.
    pub fn accept_part(
        &mut self,
        source: &str,
        info: ConcatInfo,
        payload: &[u8],
        data_coding: u8,
    ) -> Result<Option<String>, SegmentError> {
        let alphabet = Alphabet::from_data_coding(data_coding)?;
        let part = self.part(alphabet, payload, 0)?;
        if !info.is_valid() {
            return Ok(Some(decode_all(&[part])));
        }
        Ok(self.store(source, info, part))
    }

    /// Converts received octets to a stored part, checking GSM-7 septets now so that a bad
    /// part is refused on arrival rather than spoiling the whole message later.
    fn part(&self, alphabet: Alphabet, text: &[u8], udh_len: usize) -> Result<Part, SegmentError> {
        let data = match alphabet {
            Alphabet::Gsm7 if self.packed_gsm7 => {
                let fill = fill_bits(udh_len);
                let mut septets = gsm7::unpack(text, fill);
                // Seven spare bits padded with CR (TS 23.038 §6.1.2.3.1) end on an octet
                // boundary; zero padding there would read as '@' and cannot be told apart.
                let bits = usize::from(fill) + septets.len() * 7;
                if bits.is_multiple_of(8) && septets.last() == Some(&0x0D) {
                    septets.pop();
                }
                septets
            }
            Alphabet::Gsm7 => {
                if let Some(offset) = text.iter().position(|&b| b > 0x7F) {
                    return Err(gsm7::Gsm7Error::NotASeptet {
                        value: text[offset],
                        offset,
                    }
                    .into());
                }
                text.to_vec()
            }
            Alphabet::Ucs2 | Alphabet::Latin1 => text.to_vec(),
        };
        Ok(Part { alphabet, data })
    }

    fn store(&mut self, source: &str, info: ConcatInfo, part: Part) -> Option<String> {
        if info.total == 1 {
            return Some(decode_all(&[part]));
        }
        let key = (source.to_owned(), info.reference);
        let total = usize::from(info.total);
        // A reference reused with another total is a new message; the stale one is dropped.
        if self
            .pending
            .get(&key)
            .is_some_and(|p| p.parts.len() != total)
        {
            self.pending.remove(&key);
        }
        if !self.pending.contains_key(&key) && self.pending.len() >= self.max_pending {
            self.evict_oldest();
        }
        self.clock += 1;
        let age = self.clock;
        let entry = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            parts: vec![None; total],
            received: 0,
            age,
        });
        let slot = &mut entry.parts[usize::from(info.seq) - 1];
        if slot.is_some() {
            return None;
        }
        *slot = Some(part);
        entry.received += 1;
        if entry.received < total {
            return None;
        }
        let done = self.pending.remove(&key)?;
        let parts: Vec<Part> = done.parts.into_iter().flatten().collect();
        Some(decode_all(&parts))
    }

    fn evict_oldest(&mut self) {
        if let Some(key) = self
            .pending
            .iter()
            .min_by_key(|(_, p)| p.age)
            .map(|(k, _)| k.clone())
        {
            self.pending.remove(&key);
        }
    }
}

/// Decodes parts in order, joining runs of the same alphabet before decoding so that pairs
/// split across parts survive. Septets were checked on arrival, so GSM-7 cannot fail here.
fn decode_all(parts: &[Part]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < parts.len() {
        let alphabet = parts[i].alphabet;
        let mut run = Vec::new();
        while i < parts.len() && parts[i].alphabet == alphabet {
            run.extend_from_slice(&parts[i].data);
            i += 1;
        }
        match alphabet {
            Alphabet::Gsm7 => out.push_str(&gsm7::decode(&run).unwrap_or_default()),
            Alphabet::Ucs2 => out.push_str(&ucs2::decode_lossy(&run)),
            Alphabet::Latin1 => out.extend(run.iter().map(|&b| char::from(b))),
        }
    }
    out
}

#[cfg(test)]
mod tests;
