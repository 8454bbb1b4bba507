//! Head office's import files read within limits, before anything is checked against the
//! server's data: the pure half of an import, with no database.
//!
//! - [`kinds`]: the ten kinds of sheet (territories, supervisors, teams, reps, stores,
//!   products, plans; customers, customer activities, leads), their names and column headers in English and Chinese.
//! - [`read`]: [`parse_file`] (XLSX, or CSV of a chosen kind) and [`parse_csv`] into [`Parsed`]
//!   grids of cells, each sheet's rows with their Excel row numbers.
//! - [`limits`]: [`ImportLimits`] and the refusals, [`ReadError`]: a file that is not a
//!   spreadsheet this reads, or one past a limit ([`LimitError`]), each a code with parameters
//!   that the server's catalogue puts into words.
//!
//! The server (`fieldproof-server`'s `import`) checks the grids against its data and loads them
//! in one transaction; the fuzz target drives [`parse_file`] and [`parse_csv`] on arbitrary
//! bytes.

pub mod kinds;
pub mod limits;
pub mod read;

pub use kinds::{Column, ImportKind};
pub use limits::{
    ImportLimits, LimitError, MIB, ReadError, UnreadableFile, cell_name, column_name, size_text,
};
pub use read::{Grid, Parsed, Raw, parse_csv, parse_file, read_file};
