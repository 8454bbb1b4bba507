//! The bounded readers: an XLSX's zip members measured before calamine opens it, its sheets
//! through calamine's streaming cell reader into sparse rows, CSV field by field through
//! csv-core. Every cell's position, length and the running totals are checked against the
//! [`ImportLimits`] before anything is stored.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};

use crate::kinds::ImportKind;
use crate::limits::{ImportLimits, LimitError, ReadError, cell_name, unreadable};

/// What the file makes the server hold, counted against the limits as it is read.
pub(crate) struct Budget<'l> {
    limits: &'l ImportLimits,
    cells: u64,
    text: u64,
}

impl Budget<'_> {
    fn cells(&mut self, n: u64) -> Result<(), LimitError> {
        self.cells = self.cells.saturating_add(n);
        if self.cells > self.limits.max_cells {
            return Err(LimitError::TooManyCells {
                limit: self.limits.max_cells,
            });
        }
        Ok(())
    }

    /// A cell's text, checked before it is copied.
    fn text(&mut self, sheet: &str, row: u32, column: u32, s: &str) -> Result<(), LimitError> {
        if s.len() > self.limits.max_cell_bytes {
            return Err(LimitError::CellTooLong {
                sheet: sheet.to_string(),
                cell: cell_name(row, column),
                limit: self.limits.max_cell_bytes,
            });
        }
        self.text = self.text.saturating_add(s.len() as u64);
        if self.text > self.limits.max_text_bytes {
            return Err(LimitError::TooMuchText {
                limit: self.limits.max_text_bytes,
            });
        }
        Ok(())
    }

    /// Room for `cells` (0-based) to hold column `column`, the blanks before it counted.
    fn place(&mut self, cells: &mut Vec<Raw>, column: u32, value: Raw) -> Result<(), LimitError> {
        let at = column as usize;
        if cells.len() <= at {
            self.cells((at + 1 - cells.len()) as u64)?;
            cells.resize(at + 1, Raw::Empty);
        }
        cells[at] = value;
        Ok(())
    }
}

/// A cell as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A date cell: Excel's serial (days from 1899-12-30), within Excel's dates
    /// (1900-01-01 to 9999-12-31). The server turns it into a day with its one calendar.
    Date(f64),
}

/// One sheet (or CSV file) as read: its rows with their Excel row numbers.
pub struct Grid {
    pub kind: ImportKind,
    pub sheet: String,
    /// A Chinese sheet name (problems then name missing columns by their Chinese headers).
    pub zh: bool,
    /// (row number as Excel shows it, cells); the first is the header.
    pub rows: Vec<(u32, Vec<Raw>)>,
}

/// A file as read and bounded, before it is checked against the server's data. The pure half of
/// an import (no database): the fuzz target drives it, and tests look at what it kept.
pub struct Parsed {
    pub grids: Vec<Grid>,
}

/// A summary: the cells themselves can be a million.
impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field("sheets", &self.sheets())
            .field("rows", &self.rows())
            .field("cells", &self.cells())
            .field("text_bytes", &self.text_bytes())
            .finish()
    }
}

impl Parsed {
    /// Sheets read (sheets of other names are skipped).
    pub fn sheets(&self) -> usize {
        self.grids.len()
    }

    /// Rows kept over all sheets, headers included.
    pub fn rows(&self) -> usize {
        self.grids.iter().map(|g| g.rows.len()).sum()
    }

    /// The most rows kept in one sheet, header included.
    pub fn max_sheet_rows(&self) -> usize {
        self.grids.iter().map(|g| g.rows.len()).max().unwrap_or(0)
    }

    /// The widest row kept, in cells.
    pub fn max_row_cells(&self) -> usize {
        self.grids
            .iter()
            .flat_map(|g| g.rows.iter().map(|(_, c)| c.len()))
            .max()
            .unwrap_or(0)
    }

    /// Cells kept, blanks left of a row's last value included.
    pub fn cells(&self) -> u64 {
        self.grids
            .iter()
            .flat_map(|g| g.rows.iter().map(|(_, c)| c.len() as u64))
            .sum()
    }

    /// Bytes of text kept in cells.
    pub fn text_bytes(&self) -> u64 {
        self.grids
            .iter()
            .flat_map(|g| g.rows.iter().flat_map(|(_, c)| c.iter()))
            .map(|c| match c {
                Raw::Text(s) => s.len() as u64,
                // Held as a number; as text it is a day, `YYYY-MM-DD`.
                Raw::Date(_) => 10,
                _ => 0,
            })
            .sum()
    }
}

/// Read an XLSX or CSV file within `limits`. A workbook is told by its content (a zip) or an
/// `.xlsx` name; anything else is read as CSV of the chosen `kind`. The kind of data is never
/// taken from the file's name: a workbook's sheet names say it, or `kind` (the form's choice).
pub fn parse_file(
    file_name: &str,
    bytes: &[u8],
    kind: Option<ImportKind>,
    limits: &ImportLimits,
) -> Result<Parsed, ReadError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ReadError::Limit(LimitError::FileTooLarge {
            limit: limits.max_file_bytes,
        }));
    }
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .to_lowercase();
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") || base.ends_with(".xlsx") {
        return Ok(Parsed {
            grids: read_xlsx(bytes, kind, limits)?,
        });
    }
    if base.ends_with(".xls") || base.ends_with(".numbers") || base.ends_with(".ods") {
        return Err(unreadable("import_not_a_spreadsheet", file_name));
    }
    match kind {
        Some(kind) => parse_csv(kind, bytes, limits),
        None => Err(unreadable("import_csv_needs_kind", file_name)),
    }
}

/// Read one CSV file of a known kind within `limits`.
pub fn parse_csv(kind: ImportKind, bytes: &[u8], limits: &ImportLimits) -> Result<Parsed, ReadError> {
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ReadError::Limit(LimitError::FileTooLarge {
            limit: limits.max_file_bytes,
        }));
    }
    Ok(Parsed {
        grids: vec![read_csv(kind, bytes, limits)?],
    })
}

/// Read a file for `admin import`, refusing it past `limits.max_file_bytes` without reading
/// more than that (the path may be a huge file or a device that never ends).
pub fn read_file(path: &std::path::Path, limits: &ImportLimits) -> Result<Vec<u8>, ReadError> {
    let cannot = |e: std::io::Error| unreadable("import_cannot_read", format!("{}: {e}", path.display()));
    let too_large = || {
        ReadError::Limit(LimitError::FileTooLarge {
            limit: limits.max_file_bytes,
        })
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    if file.metadata().map_err(cannot)?.len() > limits.max_file_bytes {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(too_large());
    }
    Ok(bytes)
}

/// CSV through csv-core field by field into a buffer of `max_cell_bytes`: a field, a record
/// or a row count past the limits is refused before it is stored (the `csv` crate's records
/// would first grow to hold a whole line of any length).
fn read_csv(kind: ImportKind, bytes: &[u8], limits: &ImportLimits) -> Result<Grid, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(unreadable("import_csv_not_utf8", ""));
    }
    let sheet = kind.sheet_name();
    let mut budget = Budget {
        limits,
        cells: 0,
        text: 0,
    };
    let too_long = |row, column| {
        ReadError::Limit(LimitError::CellTooLong {
            sheet: sheet.to_string(),
            cell: cell_name(row, column),
            limit: limits.max_cell_bytes,
        })
    };
    let mut reader = csv_core::Reader::new();
    // One byte more than a field may hold: csv-core says OutputFull as soon as the buffer is
    // full, before it knows whether the field ends there.
    let mut field = vec![0u8; limits.max_cell_bytes.saturating_add(1)];
    let mut filled = 0;
    let mut input = bytes;
    let mut rows: Vec<(u32, Vec<Raw>)> = Vec::new();
    let mut cells: Vec<Raw> = Vec::new();
    // 0-based, as the limits and cell names count.
    let mut row: u32 = 0;
    let mut column: u32 = 0;
    loop {
        let at_end = input.is_empty();
        let (result, read, written) = reader.read_field(input, &mut field[filled..]);
        input = &input[read..];
        filled += written;
        match result {
            // All input is given at once: empty input tells csv-core the data ended, and it
            // then answers End or a last field, never InputEmpty again.
            csv_core::ReadFieldResult::InputEmpty if at_end => break,
            csv_core::ReadFieldResult::InputEmpty => {}
            csv_core::ReadFieldResult::OutputFull => return Err(too_long(row, column)),
            csv_core::ReadFieldResult::Field { .. } if filled > limits.max_cell_bytes => {
                return Err(too_long(row, column));
            }
            csv_core::ReadFieldResult::Field { record_end } => {
                if row > limits.max_rows {
                    return Err(ReadError::Limit(LimitError::TooManyRows {
                        sheet: sheet.to_string(),
                        limit: limits.max_rows,
                    }));
                }
                if column >= limits.max_columns {
                    return Err(ReadError::Limit(LimitError::CellOutOfRange {
                        sheet: sheet.to_string(),
                        cell: cell_name(row, column),
                        max_rows: limits.max_rows,
                        max_columns: limits.max_columns,
                    }));
                }
                // Whole UTF-8 input split at ASCII delimiters and quotes stays UTF-8.
                let text = std::str::from_utf8(&field[..filled])
                    .map_err(|_| unreadable("import_csv_not_utf8", ""))?
                    .trim();
                let value = if text.is_empty() {
                    Raw::Empty
                } else {
                    budget.text(sheet, row, column, text).map_err(ReadError::Limit)?;
                    Raw::Text(text.to_string())
                };
                budget
                    .place(&mut cells, column, value)
                    .map_err(ReadError::Limit)?;
                filled = 0;
                column += 1;
                if record_end {
                    rows.push((row + 1, std::mem::take(&mut cells)));
                    row += 1;
                    column = 0;
                }
            }
            csv_core::ReadFieldResult::End => break,
        }
    }
    Ok(Grid {
        kind,
        sheet: sheet.to_string(),
        zh: false,
        rows,
    })
}

/// Every member of the zip is looked at before calamine opens it, each through a reader that
/// stops one byte past its limit, so neither a member that inflates far beyond what its header
/// claims nor a string table calamine would hold whole can cost more than the limits.
fn check_zip(bytes: &[u8], limits: &ImportLimits) -> Result<(), ReadError> {
    let limit = |e| Err(ReadError::Limit(e));
    // The zip reader keeps an entry for every central-directory header it parses, and sizes
    // its table from the end record's count: count both in the raw bytes first, so no
    // claimed count is trusted. (Each header begins with its signature; a compressed
    // stream that happens to contain one only makes the count larger.)
    let too_many = LimitError::TooManyMembers {
        limit: limits.max_members,
    };
    let mut headers = 0usize;
    for at in 0..bytes.len().saturating_sub(3) {
        if bytes[at] != b'P' || bytes[at + 1] != b'K' {
            continue;
        }
        let field = |from: usize, len: usize| -> u64 {
            bytes
                .get(at + from..at + from + len)
                .map_or(0, |b| b.iter().rev().fold(0u64, |n, &x| n << 8 | u64::from(x)))
        };
        let claimed = match (bytes[at + 2], bytes[at + 3]) {
            (1, 2) => {
                headers += 1;
                headers as u64
            }
            // End of central directory: entries on this disk, in total.
            (5, 6) => field(8, 2).max(field(10, 2)),
            // Zip64 end of central directory: the same as 8-byte numbers.
            (6, 6) => field(24, 8).max(field(32, 8)),
            _ => 0,
        };
        // 0xFFFF in the classic record means "see the zip64 record", checked on its own.
        let classic_escape = (bytes[at + 2], bytes[at + 3]) == (5, 6) && claimed == 0xFFFF;
        if claimed > limits.max_members as u64 && !classic_escape {
            return limit(too_many);
        }
    }
    let unreadable = |e: &dyn std::fmt::Display| unreadable("import_bad_workbook", e.to_string());
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    if zip.len() > limits.max_members {
        return limit(too_many);
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(|e| unreadable(&e))?;
        let name = member.name().map_err(|e| unreadable(&e))?.to_string();
        // calamine reads `<xl dir>sharedStrings.xml`, matched without regard to case.
        let shared = name
            .to_ascii_lowercase()
            .replace('\\', "/")
            .ends_with("sharedstrings.xml");
        let cap = if shared {
            limits.max_member_bytes.min(limits.max_shared_strings_bytes)
        } else {
            limits.max_member_bytes
        };
        // A member that says it is too large is refused unread; one that says less than it
        // holds is stopped by the zip reader at the size it gave (an error, unreadable) or
        // by the cap.
        if member.size() > cap {
            return limit(if shared && cap == limits.max_shared_strings_bytes {
                LimitError::SharedStringsTooLarge {
                    limit: limits.max_shared_strings_bytes,
                }
            } else {
                LimitError::MemberTooLarge {
                    member: name,
                    limit: limits.max_member_bytes,
                }
            });
        }
        let mut capped = Capped {
            inner: &mut member,
            left: cap.saturating_add(1),
        };
        if shared {
            count_shared_strings(&mut capped, limits)?;
        }
        std::io::copy(&mut capped, &mut std::io::sink())
            .map_err(|e| unreadable(&format_args!("{name}: {e}")))?;
        let size = cap.saturating_add(1) - capped.left;
        if size > cap {
            return limit(if shared && cap == limits.max_shared_strings_bytes {
                LimitError::SharedStringsTooLarge {
                    limit: limits.max_shared_strings_bytes,
                }
            } else {
                LimitError::MemberTooLarge {
                    member: name,
                    limit: limits.max_member_bytes,
                }
            });
        }
        total = total.saturating_add(size);
        if total > limits.max_unpacked_bytes {
            return limit(LimitError::UnpackedTooLarge {
                limit: limits.max_unpacked_bytes,
            });
        }
    }
    Ok(())
}

/// A reader that ends after `left` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(0);
        }
        let got = self.inner.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

/// calamine keeps one string per `<si>` and reserves room for the `<sst uniqueCount>` it is
/// told before reading any: both are held to `max_cells` (a sheet cannot use more strings than
/// it has cells). XML errors end the count; calamine reports them when it reads the part.
fn count_shared_strings(reader: impl Read, limits: &ImportLimits) -> Result<(), ReadError> {
    let too_many = || {
        Err(ReadError::Limit(LimitError::TooManySharedStrings {
            limit: limits.max_cells,
        }))
    };
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(reader));
    xml.config_mut().check_end_names = false;
    let mut buf = Vec::new();
    let mut strings: u64 = 0;
    loop {
        buf.clear();
        let element = match xml.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => e,
            Ok(quick_xml::events::Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => continue,
        };
        match element.local_name().as_ref() {
            "si" => {
                strings += 1;
                if strings > limits.max_cells {
                    return too_many();
                }
            }
            "sst" => {
                // Every digit counts: no reading of the attribute can give calamine a
                // larger number than this one.
                let claimed = element
                    .attributes()
                    .flatten()
                    .filter(|a| a.key.local_name().as_ref() == "uniqueCount")
                    .flat_map(|a| a.value.into_owned().into_bytes())
                    .filter(u8::is_ascii_digit)
                    .fold(0u64, |n, d| {
                        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
                    });
                if claimed > limits.max_cells {
                    return too_many();
                }
            }
            _ => {}
        }
    }
}

/// An XLSX through calamine's streaming cell reader (not `worksheet_range`, which allocates a
/// dense rectangle from the cell positions): each cell's position is checked against the
/// limits before it is stored, rows are kept sparse, and text is budgeted before it is copied.
fn read_xlsx(
    bytes: &[u8],
    chosen: Option<ImportKind>,
    limits: &ImportLimits,
) -> Result<Vec<Grid>, ReadError> {
    use calamine::{DataRef, Reader, Xlsx};
    check_zip(bytes, limits)?;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| unreadable("import_bad_workbook", e.to_string()))?;
    let mut budget = Budget {
        limits,
        cells: 0,
        text: 0,
    };
    let mut grids = Vec::new();
    let all = book.sheet_names();
    let mut names: Vec<(String, ImportKind)> = all
        .iter()
        .filter_map(|n| ImportKind::parse(n).map(|k| (n.clone(), k)))
        .collect();
    // A workbook of one unnamed sheet ("Sheet1") holds what the form says.
    if names.is_empty()
        && let (Some(kind), Some(first)) = (chosen, all.first())
    {
        names.push((first.clone(), kind));
    }
    if names.len() > limits.max_sheets {
        return Err(ReadError::Limit(LimitError::TooManySheets {
            limit: limits.max_sheets,
        }));
    }
    for (name, kind) in names {
        let unreadable = |e: calamine::XlsxError| unreadable("import_bad_workbook", format!("{name}: {e}"));
        let out_of_range = |(row, column): (u32, u32)| {
            ReadError::Limit(LimitError::CellOutOfRange {
                sheet: name.clone(),
                cell: cell_name(row, column),
                max_rows: limits.max_rows,
                max_columns: limits.max_columns,
            })
        };
        let outside = |(row, column): (u32, u32)| row > limits.max_rows || column >= limits.max_columns;
        let mut cells = book.worksheet_cells_reader(&name).map_err(unreadable)?;
        let declared = cells.dimensions();
        if outside(declared.end) || outside(declared.start) {
            return Err(ReadError::Limit(LimitError::SheetTooLarge {
                sheet: name.clone(),
                dimension: format!(
                    "{}:{}",
                    cell_name(declared.start.0, declared.start.1),
                    cell_name(declared.end.0, declared.end.1)
                ),
                max_rows: limits.max_rows,
                max_columns: limits.max_columns,
            }));
        }
        let mut rows: BTreeMap<u32, Vec<Raw>> = BTreeMap::new();
        while let Some(cell) = cells.next_cell().map_err(unreadable)? {
            let (row, column) = cell.get_position();
            if outside((row, column)) {
                return Err(out_of_range((row, column)));
            }
            let mut text = |s: &str| -> Result<Raw, ReadError> {
                let s = s.trim();
                if s.is_empty() {
                    return Ok(Raw::Empty);
                }
                budget.text(&name, row, column, s).map_err(ReadError::Limit)?;
                Ok(Raw::Text(s.to_string()))
            };
            let value = match cell.get_value() {
                DataRef::Empty => Raw::Empty,
                DataRef::String(s) | DataRef::DurationIso(s) => text(s)?,
                DataRef::SharedString(s) => text(s)?,
                DataRef::DateTimeIso(s) => text(s.get(..10).unwrap_or(s))?,
                DataRef::Error(e) => text(&format!("#{e:?}"))?,
                DataRef::Int(i) => Raw::Number(*i as f64),
                DataRef::Float(f) => Raw::Number(*f),
                DataRef::Bool(b) => Raw::Bool(*b),
                DataRef::DateTime(d) => {
                    let serial = d.as_f64();
                    // Excel's dates run from 1900-01-01 to 9999-12-31 (serial 2958465); a
                    // serial outside is a number, not a date to convert.
                    // A serial below 1 is a time of day alone (a plan's window), not a date.
                    if (0.0..1.0).contains(&serial) {
                        Raw::Number(serial)
                    } else if (0.0..2_958_466.0).contains(&serial) {
                        Raw::Date(serial)
                    } else {
                        Raw::Number(serial)
                    }
                }
            };
            // A blank cell holds nothing: only values make a row (and its blanks) stored.
            if value == Raw::Empty {
                continue;
            }
            let stored = rows.entry(row).or_default();
            budget.place(stored, column, value).map_err(ReadError::Limit)?;
        }
        grids.push(Grid {
            kind,
            zh: ImportKind::is_zh_name(&name),
            sheet: name.clone(),
            // 1-based as Excel shows it; within max_rows + 1, so no overflow.
            rows: rows.into_iter().map(|(r, c)| (r + 1, c)).collect(),
        });
    }
    if grids.is_empty() {
        return Err(unreadable("import_no_known_sheet", all.join(", ")));
    }
    Ok(grids)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::limits::{MIB, column_name, size_text};

    #[test]
    fn cell_names_and_sizes_read_as_excel_and_people_write_them() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(63), "BL");
        assert_eq!(column_name(16_383), "XFD");
        assert_eq!(column_name(u32::MAX), "MWLQKWV");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
        assert_eq!(cell_name(u32::MAX, 0), "A4294967296");
        assert_eq!(size_text(16 * MIB), "16 MiB");
        assert_eq!(size_text(4096), "4 KiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }

    #[test]
    fn csv_blank_lines_are_skipped_and_rows_numbered_by_record() {
        let limits = ImportLimits::default();
        let g = read_csv(
            ImportKind::Stores,
            b"\xEF\xBB\xBFa,b\r\n\r\n\"x,y\",2\nlast",
            &limits,
        )
        .unwrap();
        let rows: Vec<(u32, usize)> = g.rows.iter().map(|(r, c)| (*r, c.len())).collect();
        assert_eq!(rows, vec![(1, 2), (2, 2), (3, 1)]);
        assert_eq!(g.rows[1].1[0], Raw::Text("x,y".into()));
        assert!(
            read_csv(ImportKind::Stores, b"", &limits)
                .unwrap()
                .rows
                .is_empty()
        );
    }

    #[test]
    fn a_zip_whose_end_record_claims_too_many_members_is_refused_unopened() {
        let limits = ImportLimits::default();
        // An end-of-central-directory record alone, claiming 65534 entries; and a zip64 one
        // claiming 2^40.
        let mut eocd = b"PK\x05\x06\0\0\0\0\xFE\xFF\xFE\xFF".to_vec();
        eocd.extend_from_slice(&[0; 10]);
        let mut zip64 = b"PK\x06\x06".to_vec();
        zip64.extend_from_slice(&[0; 28]);
        zip64.extend_from_slice(&(1u64 << 40).to_le_bytes());
        zip64.extend_from_slice(&[0; 16]);
        for bytes in [eocd, zip64] {
            assert_eq!(
                check_zip(&bytes, &limits),
                Err(ReadError::Limit(LimitError::TooManyMembers { limit: 1000 }))
            );
        }
    }
}
