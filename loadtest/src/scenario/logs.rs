//! Reading the engines' logs after a run: the distinct SMSC ids of receipts they reported as
//! never matched.

/// Distinct SMSC ids of the receipts the engines logged as never matched (`engine-*.log` in
/// `dir`; the engines log at `warn` or more verbose, which includes those lines).
pub fn unmatched_ids(dir: &std::path::Path) -> u64 {
    let mut ids = std::collections::HashSet::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with("engine-") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        for line in text.lines().filter(|l| l.contains("never matched")) {
            let line = strip_ansi(line);
            if let Some(at) = line.find("smsc_id=") {
                let id: String = line[at + 8..]
                    .chars()
                    .skip_while(|c| !c.is_ascii_alphanumeric())
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                ids.insert(id);
            }
        }
    }
    ids.len() as u64
}

/// `text` without ANSI colour sequences (`ESC [ … m`), as a terminal-bound log has them.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmatched_ids_are_counted_once_from_coloured_logs() {
        let dir = std::env::temp_dir().join(format!("sl-unmatched-{:08x}", fastrand::u32(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let line = |id: &str| {
            format!(
                "\u{1b}[33m WARN\u{1b}[0m receipt never matched a submit_sm_resp \u{1b}[3msmsc_id\u{1b}[0m\u{1b}[2m=\u{1b}[0m{id} stat=\"DELIVRD\"\n"
            )
        };
        std::fs::write(dir.join("engine-0.log"), line("17") + &line("18")).unwrap();
        std::fs::write(dir.join("engine-1.log"), line("17") + "other line\n").unwrap();
        std::fs::write(dir.join("redis.log"), line("99")).unwrap();
        assert_eq!(unmatched_ids(&dir), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
