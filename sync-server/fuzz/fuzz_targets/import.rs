//! The import's readers on arbitrary bytes: `parse_file` (XLSX) and `parse_csv` must return a
//! typed error or rows within the limits, never panic, hang, or allocate past them (ASan, and
//! libFuzzer's -malloc_limit_mb / -rss_limit_mb from run.sh).

#![no_main]

use fieldproof_sheets::{ImportKind, ImportLimits, Parsed, parse_csv, parse_file};
use libfuzzer_sys::fuzz_target;

/// What a successful read kept is within what it was allowed.
fn within(p: &Parsed, limits: &ImportLimits) {
    assert!(p.max_sheet_rows() as u64 <= u64::from(limits.max_rows) + 1);
    assert!(p.max_row_cells() as u64 <= u64::from(limits.max_columns));
    assert!(p.cells() <= limits.max_cells);
    assert!(p.text_bytes() <= limits.max_text_bytes);
}

fuzz_target!(|data: &[u8]| {
    // Small limits, so mutations reach every limit check within a short run; and the defaults,
    // which must hold whatever the file claims.
    let small = ImportLimits {
        max_rows: 50,
        max_columns: 12,
        max_cells: 400,
        max_cell_bytes: 64,
        max_text_bytes: 4096,
        max_members: 20,
        max_member_bytes: 256 * 1024,
        max_unpacked_bytes: 512 * 1024,
        max_shared_strings_bytes: 64 * 1024,
        max_sheets: 3,
        ..ImportLimits::default()
    };
    for limits in [small, ImportLimits::default()] {
        if let Ok(p) = parse_file("fuzz.xlsx", data, None, &limits) {
            within(&p, &limits);
        }
        if let Ok(p) = parse_csv(ImportKind::Stores, data, &limits) {
            within(&p, &limits);
        }
    }
});
