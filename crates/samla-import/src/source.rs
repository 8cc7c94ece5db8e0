//! Reading a file into records of text cells, whatever its format: CSV streamed record by
//! record, spreadsheets (xlsx, xlsm, xlsb, xls, ods) through calamine. Also finds the header
//! row and the HXL hashtag row, and names columns for error messages.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use calamine::{Data, Range, Reader};

use crate::error::ImportError;
use crate::hxl::{HASHTAG_ROW_SEARCH, Hashtag, is_hashtag_row, parse_hashtag};
use crate::mapping::ColumnRef;

/// One record of the file: its cells as text, and the cells that could not be read.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// 1-based line (CSV) or sheet row (spreadsheets) where the record starts.
    pub line: u64,
    pub cells: Vec<String>,
    /// Cells that hold no readable text (invalid UTF-8, a spreadsheet error such as
    /// `#N/A`): column index and why. They fail the row only if the mapping reads them.
    pub cell_errors: Vec<(usize, String)>,
    /// The whole record could not be read (an I/O error): the import stops after it.
    pub unreadable: Option<String>,
}

impl Record {
    pub(crate) fn is_blank(&self) -> bool {
        self.unreadable.is_none()
            && self.cell_errors.is_empty()
            && self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// Where records come from.
pub(crate) trait RecordSource: Send {
    fn next_record(&mut self) -> Option<Record>;
}

pub(crate) struct CsvRecords<R: Read> {
    reader: csv::Reader<R>,
    record: csv::ByteRecord,
    first: bool,
    done: bool,
}

impl<R: Read> CsvRecords<R> {
    pub(crate) fn new(input: R, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(input);
        Self {
            reader,
            record: csv::ByteRecord::new(),
            first: true,
            done: false,
        }
    }
}

impl<R: Read + Send> RecordSource for CsvRecords<R> {
    fn next_record(&mut self) -> Option<Record> {
        if self.done {
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                let mut cells = Vec::with_capacity(self.record.len());
                let mut cell_errors = Vec::new();
                for (index, bytes) in self.record.iter().enumerate() {
                    // Excel's "CSV UTF-8" starts with a byte-order mark.
                    let bytes = if self.first && index == 0 {
                        bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
                    } else {
                        bytes
                    };
                    match std::str::from_utf8(bytes) {
                        Ok(text) => cells.push(text.to_string()),
                        Err(_) => {
                            cells.push(String::new());
                            cell_errors.push((
                                index,
                                "is not UTF-8 text; save the file as \"CSV UTF-8\"".to_string(),
                            ));
                        }
                    }
                }
                self.first = false;
                Some(Record {
                    line,
                    cells,
                    cell_errors,
                    unreadable: None,
                })
            }
            Err(error) => {
                self.done = true;
                Some(Record {
                    line: error.position().map_or(0, |p| p.line()),
                    cells: Vec::new(),
                    cell_errors: Vec::new(),
                    unreadable: Some(error.to_string()),
                })
            }
        }
    }
}

/// A worksheet read whole by calamine (spreadsheets are zipped XML; they are bounded by
/// the format's own row limit), handed out row by row.
pub(crate) struct SheetRecords {
    range: Range<Data>,
    first_row: u64,
    next: usize,
}

impl SheetRecords {
    /// The sheet's last row, 1-based.
    pub(crate) fn last_line(&self) -> u64 {
        self.first_row + self.range.height() as u64
    }
}

impl RecordSource for SheetRecords {
    fn next_record(&mut self) -> Option<Record> {
        if self.next >= self.range.height() {
            return None;
        }
        let row = self.next;
        self.next += 1;
        let mut cells = Vec::with_capacity(self.range.width());
        let mut cell_errors = Vec::new();
        for column in 0..self.range.width() {
            match self.range.get((row, column)) {
                None | Some(Data::Empty) => cells.push(String::new()),
                Some(Data::Error(error)) => {
                    cells.push(String::new());
                    cell_errors.push((column, format!("holds the spreadsheet error {error}")));
                }
                Some(data) => cells.push(cell_text(data)),
            }
        }
        Some(Record {
            line: self.first_row + row as u64 + 1,
            cells,
            cell_errors,
            unreadable: None,
        })
    }
}

/// A spreadsheet cell as the text a CSV export of it would hold; dates as local ISO 8601
/// (spreadsheets have no time zones), whole numbers without a decimal point.
fn cell_text(data: &Data) -> String {
    match data {
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => (*f as i64).to_string(),
        Data::Float(f) => f.to_string(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (year, month, day, hour, minute, second, milli) = dt.to_ymd_hms_milli();
            if milli == 0 {
                format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
            } else {
                format!(
                    "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}"
                )
            }
        }
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// The file's format, by extension (then by its first bytes).
pub(crate) enum Format {
    Csv { delimiter: Option<u8> },
    Spreadsheet,
}

pub(crate) fn detect_format(path: &Path) -> Result<Format, ImportError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "csv" | "txt" | "hxl" => Ok(Format::Csv { delimiter: None }),
        "tsv" | "tab" => Ok(Format::Csv {
            delimiter: Some(b'\t'),
        }),
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Ok(Format::Spreadsheet),
        _ => {
            let mut magic = [0u8; 4];
            let read = File::open(path)
                .and_then(|mut f| f.read(&mut magic))
                .map_err(|e| unreadable(path, e))?;
            // Zip (xlsx, ods) or OLE2 (xls) containers.
            if magic[..read].starts_with(b"PK\x03\x04")
                || magic[..read].starts_with(b"\xd0\xcf\x11\xe0")
            {
                Ok(Format::Spreadsheet)
            } else {
                Ok(Format::Csv { delimiter: None })
            }
        }
    }
}

pub(crate) fn unreadable(path: &Path, error: impl std::fmt::Display) -> ImportError {
    ImportError::UnreadableFile {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

pub(crate) fn open_sheet(path: &Path, sheet: Option<&str>) -> Result<SheetRecords, ImportError> {
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| unreadable(path, e))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.to_lowercase() == wanted.to_lowercase())
            })
            .cloned()
            .ok_or_else(|| ImportError::SheetNotFound {
                sheet: wanted.to_string(),
                available: names.join(", "),
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| unreadable(path, "the workbook has no sheets"))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|e| unreadable(path, e))?;
    let first_row = range.start().map_or(0, |(row, _)| u64::from(row));
    Ok(SheetRecords {
        range,
        first_row,
        next: 0,
    })
}

/// The delimiter of a CSV file, guessed from its first line when the mapping names none:
/// Swedish Excel writes `;`.
pub(crate) fn sniff_delimiter(first_bytes: &[u8]) -> u8 {
    let line = first_bytes
        .split(|b| *b == b'\n')
        .next()
        .unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| (line.iter().filter(|b| *b == d).count(), *d == b','))
        .unwrap_or(b',')
}

/// Newlines in a file: an upper bound of its records, for a progress bar.
pub(crate) fn count_lines(path: &Path) -> Result<u64, ImportError> {
    let mut reader =
        BufReader::with_capacity(1 << 16, File::open(path).map_err(|e| unreadable(path, e))?);
    let mut buffer = [0u8; 1 << 16];
    let mut lines = 0u64;
    let mut last = b'\n';
    loop {
        let read = reader.read(&mut buffer).map_err(|e| unreadable(path, e))?;
        if read == 0 {
            break;
        }
        lines += buffer[..read].iter().filter(|b| **b == b'\n').count() as u64;
        last = buffer[read - 1];
    }
    Ok(lines + u64::from(last != b'\n'))
}

/// The columns of a file: header texts and HXL hashtags (either may be missing).
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns {
    pub headers: Vec<String>,
    pub tags: Vec<Option<Hashtag>>,
    /// The 1-based line of the last header or hashtag row; data follows it.
    pub header_lines: u64,
}

impl Columns {
    /// Reads the header (and hashtag) rows from the top of `source`; the data records read
    /// meanwhile are returned to be handed out first.
    pub(crate) fn read(source: &mut dyn RecordSource) -> (Columns, VecDeque<Record>) {
        let mut top: Vec<Record> = Vec::new();
        while top.len() < HASHTAG_ROW_SEARCH {
            match source.next_record() {
                Some(record) if record.unreadable.is_some() => {
                    top.push(record);
                    break;
                }
                Some(record) => top.push(record),
                None => break,
            }
        }
        let tag_row = top
            .iter()
            .position(|r| r.unreadable.is_none() && is_hashtag_row(&r.cells));
        let (header_row, data_from) = match tag_row {
            // The header is the non-blank row right above the hashtags, if any.
            Some(tags) => (
                (0..tags)
                    .rev()
                    .find(|i| !top[*i].is_blank())
                    .filter(|i| i + 1 == tags),
                tags + 1,
            ),
            None => match top
                .iter()
                .position(|r| !r.is_blank() && r.unreadable.is_none())
            {
                Some(first) => (Some(first), first + 1),
                None => (None, top.len()),
            },
        };
        let mut columns = Columns::default();
        if let Some(header) = header_row {
            columns.headers = top[header]
                .cells
                .iter()
                .map(|c| c.trim().to_string())
                .collect();
            columns.header_lines = top[header].line;
        }
        if let Some(tags) = tag_row {
            columns.tags = top[tags].cells.iter().map(|c| parse_hashtag(c)).collect();
            columns.header_lines = top[tags].line;
        }
        let rest = top.into_iter().skip(data_from).collect();
        (columns, rest)
    }

    fn width(&self) -> usize {
        self.headers.len().max(self.tags.len())
    }

    /// The column a reference names.
    pub(crate) fn find(&self, reference: &ColumnRef) -> Result<usize, ImportError> {
        match reference {
            ColumnRef::Header(name) => self
                .headers
                .iter()
                .position(|h| h == name)
                .or_else(|| {
                    let folded = name.to_lowercase();
                    self.headers.iter().position(|h| h.to_lowercase() == folded)
                })
                .ok_or_else(|| self.not_found(reference)),
            ColumnRef::Tag(pattern) => {
                let matches: Vec<usize> = self
                    .tags
                    .iter()
                    .enumerate()
                    .filter(|(_, tag)| tag.as_ref().is_some_and(|t| pattern.matches(t)))
                    .map(|(index, _)| index)
                    .collect();
                match matches.as_slice() {
                    [one] => Ok(*one),
                    [] => Err(self.not_found(reference)),
                    several => Err(ImportError::AmbiguousTag {
                        pattern: pattern.to_string(),
                        columns: several
                            .iter()
                            .map(|i| self.label(*i))
                            .collect::<Vec<_>>()
                            .join(", "),
                    }),
                }
            }
        }
    }

    fn not_found(&self, reference: &ColumnRef) -> ImportError {
        let available = (0..self.width())
            .map(|i| self.label(i))
            .collect::<Vec<_>>()
            .join(", ");
        ImportError::ColumnNotFound {
            column: reference.to_string(),
            available: if available.is_empty() {
                "none (the file is empty)".to_string()
            } else {
                available
            },
        }
    }

    /// A column as a person finds it in the file: its header, its hashtag, or both.
    pub(crate) fn label(&self, index: usize) -> String {
        let header = self.headers.get(index).filter(|h| !h.is_empty());
        let tag = self.tags.get(index).and_then(Option::as_ref);
        match (header, tag) {
            (Some(header), Some(tag)) => format!("{header} {tag}"),
            (Some(header), None) => header.clone(),
            (None, Some(tag)) => tag.to_string(),
            (None, None) => format!("#{}", index + 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> CsvRecords<&[u8]> {
        CsvRecords::new(text.as_bytes(), sniff_delimiter(text.as_bytes()))
    }

    #[test]
    fn header_and_hashtag_rows_are_found() {
        let mut source =
            records("Title of the sheet\n\nKommun,Antal\n#adm2+code,#affected+ind\n1280,3\n");
        let (columns, rest) = Columns::read(&mut source);
        assert_eq!(columns.headers, vec!["Kommun", "Antal"]);
        assert_eq!(columns.label(0), "Kommun #adm2+code");
        assert_eq!(columns.header_lines, 4);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].line, 5);

        let mut tags_only = records("#adm2+code;#sector\n1280;health\n");
        let (columns, rest) = Columns::read(&mut tags_only);
        assert!(columns.headers.is_empty());
        assert_eq!(columns.label(1), "#sector");
        assert_eq!(rest[0].cells, vec!["1280", "health"]);

        let mut plain = records("\u{feff}Kommun,Antal\n1280,3\n1281,4\n");
        let (columns, rest) = Columns::read(&mut plain);
        assert_eq!(columns.headers, vec!["Kommun", "Antal"]);
        assert_eq!(rest.len(), 2);
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2;3"), b';');
        assert_eq!(sniff_delimiter(b"a,b\n"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"only"), b',');
    }

    #[test]
    fn invalid_utf8_marks_the_cell_only() {
        let mut source = CsvRecords::new(&b"a,b\n\xff,ok\n"[..], b',');
        let _ = source.next_record();
        let record = source.next_record().expect("record");
        assert_eq!(record.cell_errors.len(), 1);
        assert_eq!(record.cells[1], "ok");
    }
}
