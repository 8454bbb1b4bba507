//! What an import may read ([`ImportLimits`]) and why a file is refused before it is read
//! through ([`ReadError`]: unreadable, or past a limit), as codes with parameters.

use std::time::Duration;

/// A mebibyte.
pub const MIB: u64 = 1024 * 1024;

/// What an import may make the server read and hold. Every bound is checked while the file is
/// read, before the work or the memory it would cost: nothing a file claims about itself (zip
/// sizes and entry counts, a sheet's `<dimension>`, the shared strings' `uniqueCount`) is trusted
/// for an allocation. A head-office file of a few thousand stores and a season of plans is far
/// inside the defaults; see `docs/HEAD-OFFICE.md` for the figures and the memory they bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLimits {
    /// The file: the web upload (larger answers 413) and the file `admin import` reads.
    pub max_file_bytes: u64,
    /// A web upload still arriving after this long is answered 408 (a stalled or trickling
    /// client would otherwise hold a connection and its buffers indefinitely).
    pub body_timeout: Duration,
    /// Records per sheet or CSV file, besides the header row: the last usable row is
    /// `max_rows + 1`.
    pub max_rows: u32,
    /// Columns a sheet or CSV file may use (64: A to BL).
    pub max_columns: u32,
    /// Cells the whole file may hold, counting the blanks left of each row's last value (that
    /// is what rows are stored as). Also caps the number of shared strings.
    pub max_cells: u64,
    /// One cell's text (one CSV field), bytes.
    pub max_cell_bytes: usize,
    /// All cells' text together, bytes. A shared string used by many cells counts each time:
    /// this is what stops a small string table from being copied into a huge import.
    pub max_text_bytes: u64,
    /// Sheets of the names an import reads (Stores, Reps, 门店, 业务员, …: seven reference
    /// kinds, or the three of customers and leads, each perhaps in both languages; a file
    /// holds one set or the other): each is read through, so a workbook naming the same huge
    /// sheet thousands of times would cost that many reads.
    pub max_sheets: usize,
    /// Members (files) in an XLSX zip; a workbook from Excel has about ten.
    pub max_members: usize,
    /// One zip member once decompressed, bytes.
    pub max_member_bytes: u64,
    /// All zip members together once decompressed, bytes.
    pub max_unpacked_bytes: u64,
    /// The shared-strings part (`sharedStrings.xml`) once decompressed, bytes: the XLSX
    /// reader keeps all of it in memory while the sheets are read.
    pub max_shared_strings_bytes: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_file_bytes: 16 * MIB,
            body_timeout: Duration::from_secs(60),
            max_rows: 100_000,
            max_columns: 64,
            max_cells: 1_000_000,
            max_cell_bytes: 4 * 1024,
            max_text_bytes: 32 * MIB,
            max_sheets: 14,
            max_members: 1_000,
            max_member_bytes: 32 * MIB,
            max_unpacked_bytes: 64 * MIB,
            max_shared_strings_bytes: 16 * MIB,
        }
    }
}

/// Why reading a file stopped: nothing of it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not an XLSX / CSV file this understands (or no sheet of a known name).
    Unreadable(UnreadableFile),
    /// The file is beyond one of the [`ImportLimits`].
    Limit(LimitError),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Unreadable(u) => write!(f, "{} ({})", u.code, u.detail),
            ReadError::Limit(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Why a file could not be read at all: a code for people (`import_not_a_spreadsheet`,
/// `import_no_known_sheet`, `import_csv_not_utf8`, `import_csv_needs_kind`,
/// `import_bad_workbook`) and the reader's own words for the technical section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableFile {
    pub code: &'static str,
    pub detail: String,
}

pub(crate) fn unreadable(code: &'static str, detail: impl Into<String>) -> ReadError {
    ReadError::Unreadable(UnreadableFile {
        code,
        detail: detail.into(),
    })
}

/// A file beyond one of the [`ImportLimits`]: found before the work it would cost, nothing
/// imported. Shown to people as [`code`](Self::code) plus [`params`](Self::params), rendered
/// in their language by the server's catalogue; `Display` is the code and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    FileTooLarge {
        limit: u64,
    },
    TooManyMembers {
        limit: usize,
    },
    MemberTooLarge {
        member: String,
        limit: u64,
    },
    UnpackedTooLarge {
        limit: u64,
    },
    SharedStringsTooLarge {
        limit: u64,
    },
    TooManySharedStrings {
        limit: u64,
    },
    TooManySheets {
        limit: usize,
    },
    /// The sheet's own `<dimension ref>` reaches beyond the rows or columns an import reads.
    SheetTooLarge {
        sheet: String,
        dimension: String,
        max_rows: u32,
        max_columns: u32,
    },
    /// A cell (a CSV field) beyond the rows or columns an import reads.
    CellOutOfRange {
        sheet: String,
        cell: String,
        max_rows: u32,
        max_columns: u32,
    },
    TooManyRows {
        sheet: String,
        limit: u32,
    },
    TooManyCells {
        limit: u64,
    },
    CellTooLong {
        sheet: String,
        cell: String,
        limit: usize,
    },
    TooMuchText {
        limit: u64,
    },
}

impl LimitError {
    /// The message's code: the key of its text in the catalogue.
    pub fn code(&self) -> &'static str {
        match self {
            LimitError::FileTooLarge { .. } => "import_file_too_large",
            LimitError::TooManyMembers { .. } => "import_too_many_members",
            LimitError::MemberTooLarge { .. } => "import_member_too_large",
            LimitError::UnpackedTooLarge { .. } => "import_unpacked_too_large",
            LimitError::SharedStringsTooLarge { .. } => "import_shared_strings_too_large",
            LimitError::TooManySharedStrings { .. } => "import_too_many_shared_strings",
            LimitError::TooManySheets { .. } => "import_too_many_sheets",
            LimitError::SheetTooLarge { .. } => "import_sheet_too_large",
            LimitError::CellOutOfRange { .. } => "import_cell_out_of_range",
            LimitError::TooManyRows { .. } => "import_too_many_rows",
            LimitError::TooManyCells { .. } => "import_too_many_cells",
            LimitError::CellTooLong { .. } => "import_cell_too_long",
            LimitError::TooMuchText { .. } => "import_too_much_text",
        }
    }

    /// The message's parameters, as the catalogue's `{name}` placeholders. Row and column
    /// bounds are given as Excel shows them (`last_row` 100001, `last_column` BL).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let area = |max_rows: u32, max_columns: u32| {
            [
                ("last_row", (u64::from(max_rows) + 1).to_string()),
                ("last_column", column_name(max_columns.saturating_sub(1))),
            ]
        };
        match self {
            LimitError::FileTooLarge { limit }
            | LimitError::UnpackedTooLarge { limit }
            | LimitError::SharedStringsTooLarge { limit }
            | LimitError::TooMuchText { limit } => vec![("limit", size_text(*limit))],
            LimitError::TooManyMembers { limit } | LimitError::TooManySheets { limit } => {
                vec![("limit", limit.to_string())]
            }
            LimitError::MemberTooLarge { member, limit } => {
                vec![("member", member.clone()), ("limit", size_text(*limit))]
            }
            LimitError::TooManySharedStrings { limit } | LimitError::TooManyCells { limit } => {
                vec![("limit", limit.to_string())]
            }
            LimitError::SheetTooLarge {
                sheet,
                dimension,
                max_rows,
                max_columns,
            } => {
                let mut p = vec![("sheet", sheet.clone()), ("dimension", dimension.clone())];
                p.extend(area(*max_rows, *max_columns));
                p
            }
            LimitError::CellOutOfRange {
                sheet,
                cell,
                max_rows,
                max_columns,
            } => {
                let mut p = vec![("sheet", sheet.clone()), ("cell", cell.clone())];
                p.extend(area(*max_rows, *max_columns));
                p
            }
            LimitError::TooManyRows { sheet, limit } => {
                vec![("sheet", sheet.clone()), ("limit", limit.to_string())]
            }
            LimitError::CellTooLong { sheet, cell, limit } => vec![
                ("sheet", sheet.clone()),
                ("cell", cell.clone()),
                ("limit", size_text(*limit as u64)),
            ],
        }
    }
}

/// The code and its parameters, for logs and tests. People read the catalogue's sentence for
/// the code (the server's `i18n`), in their language.
impl std::fmt::Display for LimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())?;
        for (i, (k, v)) in self.params().iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { " (" } else { ", " })?;
        }
        if !self.params().is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// `16 MiB`, `4 KiB`, `100 bytes`: sizes as the limits are set, whole units when they are.
pub fn size_text(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Excel's name of a 0-based column: 0 → A, 25 → Z, 26 → AA, 16383 → XFD.
pub fn column_name(index: u32) -> String {
    let mut n = u64::from(index) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let d = (n - 1) % 26;
        out.push(b'A' + d as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// `B7` for 0-based (row, column).
pub fn cell_name(row: u32, column: u32) -> String {
    format!("{}{}", column_name(column), u64::from(row) + 1)
}
