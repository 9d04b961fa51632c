//! The embedded prefix table (`configs/mno_prefixes.tsv`) and its in-memory digit trie.
//!
//! The file is parsed once, on first use, into a trie with one node per prefix digit; a lookup
//! walks at most 15 nodes (E.164 maximum length), remembering the last node that ends a
//! prefix, so the longest prefix wins without allocation and without hashing.

use std::sync::LazyLock;

use super::{MnoId, Operator};

/// The generated table, embedded at compile time (see `scripts/gen_mno_prefixes.py`).
pub(super) const SOURCE: &str = include_str!("../../../configs/mno_prefixes.tsv");

/// Longest possible E.164 number, in digits (ITU-T E.164 §6).
const MAX_DIGITS: usize = 15;

/// No child / no row. Indexes are u16 to keep a node at 22 bytes (cache-friendly walks).
const NONE: u16 = u16::MAX;

/// One data row: a prefix and what it resolves to.
#[derive(Debug)]
pub(super) struct Row {
    pub(super) prefix: &'static str,
    pub(super) country: &'static str,
    /// Index into [`Table::operators`].
    pub(super) operator: Option<u16>,
}

/// One trie node: children by digit, and the row whose prefix ends here.
#[derive(Debug, Clone, Copy)]
struct Node {
    children: [u16; 10],
    row: u16,
}

const EMPTY: Node = Node {
    children: [NONE; 10],
    row: NONE,
};

/// Rows, operators and the trie over the rows' prefixes.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) rows: Vec<Row>,
    /// Distinct operators, sorted by id (binary-searchable).
    pub(super) operators: Vec<Operator>,
    nodes: Vec<Node>,
}

/// Built on first use. The embedded file is checked by the unit tests, so a malformed table
/// cannot ship; the `expect` only guards a build from an edited, untested file.
pub(super) static TABLE: LazyLock<Table> =
    LazyLock::new(|| Table::parse(SOURCE).expect("configs/mno_prefixes.tsv is malformed"));

impl Table {
    /// Parses the TSV text: `prefix TAB country TAB mno_id TAB operator`, `#` comments.
    pub(super) fn parse(text: &'static str) -> Result<Table, String> {
        let mut parsed = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let at = |what: &str| format!("line {}: {what}: {line:?}", index + 1);
            let mut fields = line.split('\t');
            let (Some(prefix), Some(country), Some(id), Some(name), None) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                return Err(at("expected 4 tab-separated fields"));
            };
            if prefix.is_empty()
                || prefix.len() > MAX_DIGITS
                || !prefix.bytes().all(|b| b.is_ascii_digit())
                || prefix.starts_with('0')
            {
                return Err(at("prefix must be 1 to 15 digits, not starting with 0"));
            }
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(at("country must be an ISO 3166-1 alpha-2 code"));
            }
            let operator = match (id, name) {
                ("", "") => None,
                (id, name) if valid_id(id, country) && !name.trim().is_empty() => Some((id, name)),
                _ => return Err(at("mno_id must be <country>-<slug> with an operator name")),
            };
            parsed.push((prefix, country, operator));
        }

        let mut operators: Vec<Operator> = Vec::new();
        for &(_, country, operator) in &parsed {
            if let Some((id, name)) = operator
                && !operators.iter().any(|o| o.id.0 == id)
            {
                operators.push(Operator {
                    id: MnoId(id),
                    name,
                    country,
                });
            }
        }
        operators.sort_by_key(|o| o.id.0);
        let operator_index = |id: &str| operators.binary_search_by_key(&id, |o| o.id.0).ok();

        let mut table = Table {
            rows: Vec::with_capacity(parsed.len()),
            operators: Vec::new(),
            nodes: vec![EMPTY],
        };
        for (prefix, country, operator) in parsed {
            let operator = match operator {
                Some((id, _)) => {
                    let index = operator_index(id).ok_or("operator index")?;
                    Some(u16::try_from(index).map_err(|_| "too many operators")?)
                }
                None => None,
            };
            let row = u16::try_from(table.rows.len())
                .ok()
                .filter(|&r| r != NONE)
                .ok_or("too many rows")?;
            let node = table.insert(prefix)?;
            if table.nodes[node].row != NONE {
                return Err(format!("duplicate prefix {prefix}"));
            }
            table.nodes[node].row = row;
            table.rows.push(Row {
                prefix,
                country,
                operator,
            });
        }
        table.operators = operators;
        Ok(table)
    }

    /// Adds the path for `prefix` (ASCII digits) and returns its last node.
    fn insert(&mut self, prefix: &str) -> Result<usize, String> {
        let mut node = 0;
        for digit in prefix.bytes().map(|b| usize::from(b - b'0')) {
            let child = self.nodes[node].children[digit];
            node = if child == NONE {
                let next = self.nodes.len();
                let index = u16::try_from(next)
                    .ok()
                    .filter(|&i| i != NONE)
                    .ok_or("too many trie nodes")?;
                self.nodes.push(EMPTY);
                self.nodes[node].children[digit] = index;
                next
            } else {
                usize::from(child)
            };
        }
        Ok(node)
    }

    /// The row of the longest prefix of `digits`, or `None` if no prefix matches or `digits`
    /// holds anything but ASCII digits (a leading `+` is allowed).
    pub(super) fn longest_prefix(&self, digits: &str) -> Option<&Row> {
        let digits = digits.strip_prefix('+').unwrap_or(digits).as_bytes();
        if digits.len() > MAX_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut node = &self.nodes[0];
        let mut best = NONE;
        for &b in digits {
            let child = node.children[usize::from(b - b'0')];
            if child == NONE {
                break;
            }
            node = &self.nodes[usize::from(child)];
            if node.row != NONE {
                best = node.row;
            }
        }
        self.rows.get(usize::from(best))
    }
}

/// `ke-safaricom`: the lowercase country, a dash, then lowercase letters, digits and dashes.
fn valid_id(id: &str, country: &str) -> bool {
    let Some(slug) = id
        .strip_prefix(&*country.to_ascii_lowercase())
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return false;
    };
    !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
