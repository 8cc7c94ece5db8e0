//! The crate's one error enum (whole-file problems, named for what the caller must do) and
//! the per-row error (one bad row, the others go on).

use std::fmt;

/// Why a whole import or export cannot go on. A bad *row* is never this: rows fail one by
/// one as [`RowError`]s.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The mapping file is wrong: fix it (the reason names the key).
    #[error("the mapping is invalid: {reason}")]
    InvalidMapping { reason: String },
    /// The input cannot be read at all (missing, not CSV/xlsx/ods, I/O error).
    #[error("cannot read {path}: {reason}")]
    UnreadableFile { path: String, reason: String },
    /// A column the mapping reads is not in the file: fix the mapping or the header row.
    #[error("the file has no column {column}; its columns are: {available}")]
    ColumnNotFound { column: String, available: String },
    /// An HXL tag pattern of the mapping matches more than one column: add an attribute.
    #[error(
        "the HXL pattern {pattern} matches several columns ({columns}); add an attribute so it names one"
    )]
    AmbiguousTag { pattern: String, columns: String },
    /// The workbook has no sheet of that name: fix `source.sheet`.
    #[error("the workbook has no sheet {sheet:?}; its sheets are: {available}")]
    SheetNotFound { sheet: String, available: String },
    /// Export input is not a list of JSON objects (pass a view's `items`).
    #[error("cannot export: {reason}")]
    NotATable { reason: String },
    /// Writing the export failed (disk full, closed pipe).
    #[error("cannot write the export: {reason}")]
    WriteFailed { reason: String },
}

/// Why one row did not become an event. The import goes on with the next row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The 1-based line of the file (CSV) or row of the sheet (spreadsheets) where the row
    /// starts, as a person sees it in an editor or in Excel.
    pub line: u64,
    /// The envelope or payload field at fault as a path (`payload.quantity`,
    /// `occurred_at`, `kind`), or `row` / `key` for the row as a whole.
    pub field: String,
    /// The source column the field was read from, as the file names it (`Antal`,
    /// `#adm2+code`, or both: `Kommun #adm2+code`); `None` for a constant or a derived field.
    pub column: Option<String>,
    /// A stable code: the contract's (`malformed`, `unknown_kind`, `personal_data`,
    /// `out_of_range`, `inconsistent`, `invalid`) or this crate's (`unreadable_cell`,
    /// `unreadable_row`, `duplicate_key`).
    pub code: &'static str,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.field)?;
        if let Some(column) = &self.column {
            write!(f, " (column {column})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for RowError {}
