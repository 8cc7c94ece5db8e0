//! The importer: a file (or a CSV stream) and a mapping in, one [`Row`] per data row out,
//! streamed. It only parses and validates; sending the envelopes is the caller's business,
//! so a dry run is simply iterating (or [`Importer::dry_run`]).

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use proto_events::{Envelope, Kind};

use crate::build::Builder;
use crate::error::{ImportError, RowError};
use crate::mapping::Mapping;
use crate::source::{
    Columns, CsvRecords, Format, Record, RecordSource, count_lines, detect_format, open_sheet,
    sniff_delimiter, unreadable,
};

/// One data row of the file: the envelope it became, or why it did not.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line (CSV) or sheet row (spreadsheets) where the row starts.
    pub line: u64,
    pub result: Result<Envelope, RowError>,
}

/// Rows of one file under one mapping. Implements `Iterator<Item = Row>`; blank rows are
/// skipped, a bad row never stops the good ones.
pub struct Importer {
    source: Box<dyn RecordSource>,
    pending: VecDeque<Record>,
    builder: Builder,
    rows_hint: Option<u64>,
}

impl std::fmt::Debug for Importer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Importer")
            .field("columns", &self.columns())
            .field("rows_hint", &self.rows_hint)
            .finish_non_exhaustive()
    }
}

/// What a dry run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Data rows read (blank rows not counted).
    pub rows: u64,
    /// Rows that became valid envelopes.
    pub valid: u64,
    /// Valid envelopes per kind.
    pub by_kind: BTreeMap<Kind, u64>,
    /// The first errors, in file order (at most the number asked for).
    pub errors: Vec<RowError>,
    /// All rows refused.
    pub errors_total: u64,
}

/// How much of a CSV file is peeked at to guess its delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

impl Importer {
    /// Opens a CSV (`.csv`, `.tsv`, `.txt`, `.hxl`) or spreadsheet (`.xlsx`, `.xlsm`,
    /// `.xlsb`, `.xls`, `.ods`) file and finds its header and HXL hashtag rows. Fails when
    /// the file cannot be read or lacks a column the mapping reads.
    pub fn open(path: impl AsRef<Path>, mapping: &Mapping) -> Result<Importer, ImportError> {
        let path = path.as_ref();
        match detect_format(path)? {
            Format::Csv { delimiter } => {
                let lines = count_lines(path)?;
                let file = File::open(path).map_err(|e| unreadable(path, e))?;
                let mut reader = BufReader::with_capacity(SNIFF_BYTES, file);
                let delimiter = match mapping.source.delimiter.or(delimiter) {
                    Some(delimiter) => delimiter,
                    None => sniff_delimiter(reader.fill_buf().map_err(|e| unreadable(path, e))?),
                };
                Self::start(
                    Box::new(CsvRecords::new(reader, delimiter)),
                    mapping,
                    Some(lines),
                )
            }
            Format::Spreadsheet => {
                let sheet = open_sheet(path, mapping.source.sheet.as_deref())?;
                let last_line = sheet.last_line();
                Self::start(Box::new(sheet), mapping, Some(last_line))
            }
        }
    }

    /// Reads CSV from any stream (standard input, a socket). There is no row count
    /// beforehand: [`Importer::rows_hint`] is `None`.
    pub fn from_csv_reader(
        reader: impl Read + Send + 'static,
        mapping: &Mapping,
    ) -> Result<Importer, ImportError> {
        let mut reader = BufReader::with_capacity(SNIFF_BYTES, reader);
        let delimiter = match mapping.source.delimiter {
            Some(delimiter) => delimiter,
            None => {
                sniff_delimiter(reader.fill_buf().map_err(|e| ImportError::UnreadableFile {
                    path: "the input".to_string(),
                    reason: e.to_string(),
                })?)
            }
        };
        Self::start(Box::new(CsvRecords::new(reader, delimiter)), mapping, None)
    }

    fn start(
        mut source: Box<dyn RecordSource>,
        mapping: &Mapping,
        last_line: Option<u64>,
    ) -> Result<Importer, ImportError> {
        let (columns, pending) = Columns::read(source.as_mut());
        let header_lines = columns.header_lines;
        let builder = Builder::new(mapping, columns)?;
        Ok(Importer {
            source,
            pending,
            builder,
            rows_hint: last_line.map(|last| last.saturating_sub(header_lines)),
        })
    }

    /// About how many data rows the file has, for a progress bar: exact for
    /// spreadsheets; for CSV the lines after the header, so blank lines and line breaks
    /// inside quoted cells make it a little high. `None` for a stream.
    pub fn rows_hint(&self) -> Option<u64> {
        self.rows_hint
    }

    /// The file's columns as errors name them (header text, hashtag, or both).
    pub fn columns(&self) -> Vec<String> {
        let columns = self.builder.columns();
        let width = columns.headers.len().max(columns.tags.len());
        (0..width).map(|i| columns.label(i)).collect()
    }

    /// Parses and validates every row without keeping the envelopes: the `--dry-run`.
    pub fn dry_run(self, max_errors: usize) -> Summary {
        let mut summary = Summary::default();
        for row in self {
            summary.rows += 1;
            match row.result {
                Ok(envelope) => {
                    summary.valid += 1;
                    *summary.by_kind.entry(envelope.kind()).or_default() += 1;
                }
                Err(error) => {
                    summary.errors_total += 1;
                    if summary.errors.len() < max_errors {
                        summary.errors.push(error);
                    }
                }
            }
        }
        summary
    }
}

impl Iterator for Importer {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        loop {
            let record = match self.pending.pop_front() {
                Some(record) => record,
                None => self.source.next_record()?,
            };
            if record.is_blank() {
                continue;
            }
            return Some(Row {
                line: record.line,
                result: self.builder.build(&record),
            });
        }
    }
}
