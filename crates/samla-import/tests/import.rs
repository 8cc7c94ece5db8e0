//! samla-import end to end: generated CSV with bad rows, HXL, xlsx, streams, the example
//! files, and export of view JSON to CSV/HXL.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use proto_events::payload::{HousingOffered, NeedRaised};
use proto_events::vocab::{NeedCategory, Urgency};
use proto_events::{Audience, EventId, Kind, Payload};
use samla_import::{ImportError, Importer, Mapping, Row, RowError};
use serde_json::json;

const NEEDS_MAPPING: &str = r##"
kind = { column = "Typ", map = { "Behov" = "need_raised" } }

[source]
timezone = "Europe/Stockholm"

[envelope]
incident = "test-import"
org = "malmo-stad"
function = "duty officer, social services"
status = "test"
occurred_at = { column = "Datum" }
area = { column = "Kommun" }

[payload]
category = { column = "Kategori", map = { "Boende" = "housing", "Tolk" = "interpretation", "Mat" = "food" } }
quantity = { column = "Antal" }
unit = "people"
urgency = { column = "Brådska", map = { "Hög" = "high", "Akut" = "critical" }, default = "normal" }
note = { column = "Anteckning" }
"##;

/// A bad row of the generated file: what to write and what the importer must say.
struct Bad {
    cells: [&'static str; 7],
    field: &'static str,
    column: &'static str,
    code: &'static str,
}

fn bad_rows() -> Vec<Bad> {
    let row = |typ, datum, kommun, kategori, antal, bradska, note| {
        [typ, datum, kommun, kategori, antal, bradska, note]
    };
    vec![
        Bad {
            cells: row(
                "Behov",
                "2026-03-01 10:00",
                "1280",
                "Rymdskepp",
                "3",
                "Hög",
                "ok",
            ),
            field: "payload.category",
            column: "Kategori",
            code: "malformed",
        },
        Bad {
            cells: row(
                "Behov",
                "2026-03-01 10:00",
                "1280",
                "Boende",
                "-3",
                "Hög",
                "ok",
            ),
            field: "payload.quantity",
            column: "Antal",
            code: "malformed",
        },
        Bad {
            cells: row(
                "Behov",
                "2026-03-01 10:00",
                "1280",
                "Boende",
                "",
                "Hög",
                "ok",
            ),
            field: "payload.quantity",
            column: "Antal",
            code: "malformed",
        },
        Bad {
            cells: row(
                "Behov",
                "2026-03-01 10:00",
                "1280",
                "Boende",
                "2",
                "",
                "Ring om 19121212-1212",
            ),
            field: "payload.note",
            column: "Anteckning",
            code: "personal_data",
        },
        Bad {
            cells: row("Behov", "2026-02-30", "1280", "Mat", "2", "", "ok"),
            field: "occurred_at",
            column: "Datum",
            code: "unreadable_cell",
        },
        Bad {
            cells: row("Okänt", "2026-03-01 10:00", "1280", "Mat", "2", "", "ok"),
            field: "kind",
            column: "Typ",
            code: "unknown_kind",
        },
        Bad {
            cells: row("Behov", "2026-03-01 10:00", "Malmö C", "Mat", "2", "", "ok"),
            field: "area",
            column: "Kommun",
            code: "malformed",
        },
        Bad {
            cells: row(
                "Behov",
                "2026-03-01 10:00",
                "1280",
                "Mat",
                "2",
                "Jättebråttom",
                "ok",
            ),
            field: "payload.urgency",
            column: "Brådska",
            code: "malformed",
        },
        Bad {
            cells: row("Behov", "2026-03-01 10:00", "1280", "Mat", "0", "", "ok"),
            field: "payload.quantity",
            column: "Antal",
            code: "out_of_range",
        },
        Bad {
            cells: row("Behov", "", "1280", "Mat", "2", "", "ok"),
            field: "occurred_at",
            column: "Datum",
            code: "malformed",
        },
    ]
}

fn csv_line(cells: &[&str]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.to_string()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

/// Writes `rows` data rows, `bad` of them bad, and returns the expected errors.
fn generate(
    path: &Path,
    rows: usize,
    bad: usize,
) -> Vec<(u64, &'static str, &'static str, &'static str)> {
    let kinds = bad_rows();
    let categories = ["Boende", "Tolk", "Mat"];
    let urgencies = ["Hög", "Akut", ""];
    let mut text = csv_line(&[
        "Typ",
        "Datum",
        "Kommun",
        "Kategori",
        "Antal",
        "Brådska",
        "Anteckning",
    ]);
    let mut line = 2u64;
    let mut expected = Vec::new();
    let spacing = rows / bad;
    for index in 0..rows {
        let row_text = if index % spacing == 7 && expected.len() < bad {
            let case = &kinds[expected.len() % kinds.len()];
            expected.push((line, case.field, case.column, case.code));
            csv_line(&case.cells)
        } else {
            let day = 1 + index % 28;
            let date = format!("2026-03-{day:02} {:02}:{:02}", index % 24, index % 60);
            let quantity = (1 + index % 40).to_string();
            // Every 500th row has a note over two lines: line numbers must follow the file.
            let note = if index % 500 == 3 {
                format!("rad {index}\nandra raden")
            } else {
                format!("rad {index}")
            };
            csv_line(&[
                "Behov",
                &date,
                if index % 2 == 0 { "1280" } else { "rosengard" },
                categories[index % 3],
                &quantity,
                urgencies[index % 3],
                &note,
            ])
        };
        line += row_text.matches('\n').count() as u64;
        text.push_str(&row_text);
    }
    std::fs::write(path, text).expect("write csv");
    expected
}

fn split(rows: Vec<Row>) -> (Vec<proto_events::Envelope>, Vec<RowError>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for row in rows {
        match row.result {
            Ok(envelope) => good.push(envelope),
            Err(error) => {
                assert_eq!(error.line, row.line);
                bad.push(error)
            }
        }
    }
    (good, bad)
}

fn temp_file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn ten_thousand_rows_with_37_bad_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = temp_file(&dir, "needs.csv");
    let expected = generate(&path, 10_000, 37);
    assert_eq!(expected.len(), 37);
    let mapping = Mapping::from_toml(NEEDS_MAPPING).expect("mapping");

    let importer = Importer::open(&path, &mapping).expect("open");
    let hint = importer.rows_hint().expect("a file has a hint");
    assert!((10_000..=10_030).contains(&hint), "rows_hint {hint}");
    let (good, bad) = split(importer.collect());
    assert_eq!(good.len(), 9_963);
    assert_eq!(bad.len(), 37);
    for (error, (line, field, column, code)) in bad.iter().zip(&expected) {
        // serde_json's position is in the envelope JSON, not the file: it must not show.
        assert!(!error.reason.contains(" at line 1"), "{error}");
        assert_eq!(
            (
                error.line,
                error.field.as_str(),
                error.column.as_deref(),
                error.code
            ),
            (*line, *field, Some(*column), *code),
            "{error}"
        );
    }

    // Every event is what the mapping says, and every id differs.
    let ids: HashSet<EventId> = good.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), good.len());
    let aggregates: HashSet<String> = good.iter().map(|e| e.aggregate.id.to_string()).collect();
    assert_eq!(aggregates.len(), good.len());
    let first = &good[0];
    assert_eq!(first.incident.as_str(), "test-import");
    assert_eq!(first.org.as_str(), "malmo-stad");
    assert_eq!(first.status, proto_events::Status::Test);
    assert_eq!(first.audience, Audience::Network);
    assert_eq!(first.occurred_at.to_string(), "2026-02-28T23:00:00Z");
    match &first.payload {
        Payload::NeedRaised(NeedRaised {
            category,
            quantity,
            urgency,
            ..
        }) => {
            assert_eq!(*category, NeedCategory::Housing);
            assert_eq!(*quantity, 1);
            assert_eq!(*urgency, Urgency::High);
        }
        other => panic!("not a need: {other:?}"),
    }
    assert!(good.iter().all(|e| e.validate().is_ok()));

    // The same file again: the same ids in the same order (so ingest drops them all).
    let again: Vec<EventId> = Importer::open(&path, &mapping)
        .expect("open")
        .filter_map(|row| row.result.ok())
        .map(|e| e.id)
        .collect();
    assert_eq!(again, good.iter().map(|e| e.id).collect::<Vec<_>>());

    // The dry run says the same.
    let summary = Importer::open(&path, &mapping).expect("open").dry_run(5);
    assert_eq!(
        (summary.rows, summary.valid, summary.errors_total),
        (10_000, 9_963, 37)
    );
    assert_eq!(summary.errors.len(), 5);
    assert_eq!(summary.by_kind.get(&Kind::NeedRaised), Some(&9_963));
}

#[test]
fn identical_rows_stay_distinct_and_stable() {
    let mapping = Mapping::from_toml(NEEDS_MAPPING).expect("mapping");
    let text = "Typ,Datum,Kommun,Kategori,Antal,Brådska,Anteckning\n\
                Behov,2026-03-01,1280,Mat,2,,\n\
                Behov,2026-03-01,1280,Mat,2,,\n";
    let ids = || -> Vec<EventId> {
        Importer::from_csv_reader(std::io::Cursor::new(text.as_bytes().to_vec()), &mapping)
            .expect("stream")
            .map(|row| row.result.expect("valid").id)
            .collect()
    };
    let first = ids();
    assert_eq!(first.len(), 2);
    assert_ne!(first[0], first[1]);
    assert_eq!(first, ids());
    let stream = Importer::from_csv_reader(std::io::Cursor::new(Vec::new()), &mapping);
    // An empty stream has no columns, so the mapping's columns are missing.
    assert!(matches!(stream, Err(ImportError::ColumnNotFound { .. })));
}

const HXL_MAPPING: &str = r##"
kind = "arrivals_reported"

[source]
key = [{ tag = "#adm2+code" }, { tag = "#date+start" }]

[envelope]
incident = "test-import"
org = "migrationsverket"
function = "reception unit"
occurred_at = { tag = "#date+reported" }
area = { tag = "#adm2+code" }

[payload]
period_from = { tag = "#date+start" }
period_to = { tag = "#date+end" }
estimated = { tag = "#meta+estimated" }
"counts.arrivals_this_period" = { tag = "#affected+refugees+arrived" }
"counts.unaccompanied_minors_to_date" = { tag = "#affected+refugees+unaccompanied" }
"##;

#[test]
fn an_hxl_file_is_read_by_its_hashtags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = temp_file(&dir, "arrivals.csv");
    std::fs::write(
        &path,
        "Ankomster per kommun,,,,,,\n\
         Kommun,Från,Till,Rapporterad,Ankomna,Ensamkommande barn,Uppskattat\n\
         #adm2 +code,#date+start,#date+end,#date+reported,#affected+refugees+arrived+ind,#affected+refugees+unaccompanied+children,#meta+estimated\n\
         1280,2026-03-01,2026-03-02,2026-03-02 08:00,140,6,nej\n\
         1281,2026-03-01,2026-03-02,2026-03-02 08:00,35,,ja\n\
         1280,2026-03-01,2026-03-02,2026-03-02 09:00,150,7,nej\n\
         1282,2026-03-01,2026-03-02,2026-03-02 08:00,tjugo,,nej\n",
    )
    .expect("write");
    let mapping = Mapping::from_toml(HXL_MAPPING).expect("mapping");
    let importer = Importer::open(&path, &mapping).expect("open");
    assert_eq!(importer.rows_hint(), Some(4));
    assert_eq!(importer.columns()[0], "Kommun #adm2+code");
    let rows: Vec<Row> = importer.collect();
    assert_eq!(
        rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![4, 5, 6, 7]
    );

    let first = rows[0].result.as_ref().expect("valid");
    assert_eq!(first.area.as_str(), "1280");
    assert_eq!(first.aggregate.kind, proto_events::AggregateType::Arrivals);
    assert!(first.aggregate.id.as_str().starts_with("imp-"));
    match &first.payload {
        Payload::ArrivalsReported(report) => {
            assert_eq!(report.counts.arrivals_this_period, Some(140));
            assert_eq!(report.counts.unaccompanied_minors_to_date, Some(6));
            assert!(!report.estimated);
            assert_eq!(report.period_from.to_string(), "2026-02-28T23:00:00Z");
        }
        other => panic!("not arrivals: {other:?}"),
    }
    assert!(rows[1].result.is_ok());
    // Same key (area and period start) as line 4: refused, not silently merged.
    let duplicate = rows[2].result.as_ref().expect_err("duplicate key");
    assert_eq!(duplicate.code, "duplicate_key");
    assert_eq!(duplicate.field, "key");
    assert!(duplicate.reason.contains("line 4"), "{duplicate}");
    let words = rows[3].result.as_ref().expect_err("not a number");
    assert_eq!(words.field, "payload.counts.arrivals_this_period");
    assert_eq!(
        words.column.as_deref(),
        Some("Ankomna #affected+refugees+arrived+ind")
    );

    // Keyed ids do not depend on the rest of the row.
    let changed = temp_file(&dir, "arrivals-changed.csv");
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace(",140,", ",141,");
    std::fs::write(&changed, text).expect("write");
    let again: Vec<Row> = Importer::open(&changed, &mapping).expect("open").collect();
    let again_first = again[0].result.as_ref().expect("valid");
    assert_eq!(again_first.id, first.id);
    assert_eq!(again_first.aggregate, first.aggregate);

    // A pattern that names two columns, and a tag the file lacks, fail the whole file.
    let ambiguous = HXL_MAPPING.replace("#affected+refugees+arrived", "#affected+refugees");
    let error = Importer::open(&path, &Mapping::from_toml(&ambiguous).expect("mapping"))
        .expect_err("ambiguous");
    assert!(matches!(error, ImportError::AmbiguousTag { .. }), "{error}");
    let missing = HXL_MAPPING.replace("#meta+estimated", "#meta+guessed");
    let error = Importer::open(&path, &Mapping::from_toml(&missing).expect("mapping"))
        .expect_err("missing");
    assert!(
        matches!(error, ImportError::ColumnNotFound { .. }),
        "{error}"
    );
}

#[test]
fn keys_holding_personal_data_are_refused() {
    let keyed = NEEDS_MAPPING.replace(
        "timezone = \"Europe/Stockholm\"",
        "key = { column = \"Anteckning\" }",
    );
    let mapping = Mapping::from_toml(&keyed).expect("mapping");
    let text = "Typ,Datum,Kommun,Kategori,Antal,Brådska,Anteckning\n\
                Behov,2026-03-01,1280,Mat,2,,121212-1212\n\
                Behov,2026-03-01,1280,Mat,2,,\n";
    let rows: Vec<Row> =
        Importer::from_csv_reader(std::io::Cursor::new(text.as_bytes().to_vec()), &mapping)
            .expect("stream")
            .collect();
    let personal = rows[0].result.as_ref().expect_err("personal key");
    assert_eq!(
        (personal.field.as_str(), personal.code),
        ("key", "personal_data")
    );
    let empty = rows[1].result.as_ref().expect_err("empty key");
    assert_eq!((empty.field.as_str(), empty.code), ("key", "invalid"));
}

#[test]
fn an_xlsx_sheet_with_date_cells() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = temp_file(&dir, "offers.xlsx");
    let mut workbook = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let date_time = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    workbook.add_worksheet().set_name("Annat").expect("name");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Erbjudanden").expect("name");
    let header = [
        "Erbjudande",
        "Rapporterad",
        "Kommun",
        "Typ",
        "Bostäder",
        "Sängar",
        "Ledig från",
        "Ledig till",
        "Passar",
    ];
    for (column, text) in header.iter().enumerate() {
        sheet.write_string(0, column as u16, *text).expect("write");
    }
    let rows: [(&str, u8, &str, f64, f64, u8, &str); 3] = [
        ("MKB-1", 2, "Lägenhet", 1.0, 4.0, 10, "familj"),
        ("MKB-2", 2, "Hus", 1.0, 0.0, 12, ""),
        ("MKB-3", 3, "Slott", 1.0, 3.0, 12, ""),
    ];
    for (index, (id, day, kind, units, beds, from_day, suits)) in rows.iter().enumerate() {
        let row = index as u32 + 1;
        let reported = ExcelDateTime::from_ymd(2026, 3, *day)
            .and_then(|d| d.and_hms(14, 30, 0))
            .expect("date");
        let from = ExcelDateTime::from_ymd(2026, 3, *from_day).expect("date");
        sheet.write_string(row, 0, *id).expect("write");
        sheet
            .write_datetime_with_format(row, 1, &reported, &date_time)
            .expect("write");
        sheet.write_number(row, 2, 1280).expect("write");
        sheet.write_string(row, 3, *kind).expect("write");
        sheet.write_number(row, 4, *units).expect("write");
        sheet.write_number(row, 5, *beds).expect("write");
        sheet
            .write_datetime_with_format(row, 6, &from, &date)
            .expect("write");
        sheet.write_string(row, 8, *suits).expect("write");
    }
    workbook.save(&path).expect("save");

    let mapping = Mapping::from_toml(
        r##"
kind = "housing_offered"
[source]
sheet = "Erbjudanden"
key = { column = "Erbjudande" }
[envelope]
incident = "test-import"
org = "mkb"
function = "letting office"
occurred_at = { column = "Rapporterad" }
area = { column = "Kommun" }
audience = ["malmo-stad"]
[payload]
housing_type = { column = "Typ", map = { "Lägenhet" = "apartment", "Hus" = "house" } }
units = { column = "Bostäder" }
beds = { column = "Sängar" }
available_from = { column = "Ledig från" }
available_until = { column = "Ledig till" }
suitable_for = { column = "Passar", map = { "familj" = ["family"] } }
"##,
    )
    .expect("mapping");
    let importer = Importer::open(&path, &mapping).expect("open");
    assert_eq!(importer.rows_hint(), Some(3));
    let rows: Vec<Row> = importer.collect();
    assert_eq!(
        rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    let offer = rows[0].result.as_ref().expect("valid");
    assert_eq!(offer.occurred_at.to_string(), "2026-03-02T13:30:00Z");
    assert!(matches!(&offer.audience, Audience::Orgs(orgs) if orgs.len() == 1));
    match &offer.payload {
        Payload::HousingOffered(HousingOffered {
            beds,
            available_from,
            suitable_for,
            available_until,
            ..
        }) => {
            assert_eq!(*beds, 4);
            assert_eq!(available_from.to_string(), "2026-03-09T23:00:00Z");
            assert_eq!(suitable_for.len(), 1);
            assert!(available_until.is_none());
        }
        other => panic!("not an offer: {other:?}"),
    }
    // Zero beds: the contract's rule, named with the sheet row and column.
    let zero = rows[1].result.as_ref().expect_err("zero beds");
    assert_eq!(
        (
            zero.line,
            zero.field.as_str(),
            zero.column.as_deref(),
            zero.code
        ),
        (3, "payload.beds", Some("Sängar"), "out_of_range")
    );
    let castle = rows[2].result.as_ref().expect_err("unknown type");
    assert_eq!(castle.field, "payload.housing_type");

    let wrong_sheet = Mapping::from_toml(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/housing-offers.toml"),
        )
        .expect("example")
        .replace("[source]", "[source]\nsheet = \"Nej\""),
    )
    .expect("mapping");
    assert!(matches!(
        Importer::open(&path, &wrong_sheet),
        Err(ImportError::SheetNotFound { .. })
    ));
}

#[test]
fn the_example_files_import_cleanly() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for (mapping, data, count) in [
        ("needs.toml", "needs.csv", 5),
        ("housing-offers.toml", "housing-offers.csv", 3),
    ] {
        let text = std::fs::read_to_string(examples.join(mapping)).expect("mapping file");
        let mapping = Mapping::from_toml(&text).expect("example mapping loads");
        let summary = Importer::open(examples.join(data), &mapping)
            .expect("open")
            .dry_run(10);
        assert_eq!(summary.errors, Vec::<RowError>::new(), "{data}");
        assert_eq!(summary.valid, count, "{data}");
    }
}

#[test]
fn views_export_to_csv_and_hxl() {
    let needs = json!({
        "total": 2,
        "next_cursor": null,
        "items": [
            {"id": "n1", "status": "open", "category": "housing", "quantity": 12, "people": 12,
             "urgency": "critical", "raised_by": "malmo-stad", "raised_at": "2026-03-01T08:30:00Z",
             "area": "1280", "claimed_by": null, "last_seq": 7},
            {"id": "n2", "status": "met", "category": "interpretation", "quantity": 6,
             "people": {"suppressed": true, "below": 5},
             "urgency": "high", "raised_by": "region-skane", "raised_at": "2026-03-01T09:05:00Z",
             "area": "rosengard", "claimed_by": "tolkservice", "last_seq": 9}
        ]
    });
    let rows = samla_import::rows_of(&needs, None).expect("items");
    let mut out = Vec::new();
    samla_import::to_csv(rows, true, &mut out).expect("export");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(out.as_slice());
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("csv").iter().map(str::to_string).collect())
        .collect();
    assert_eq!(records.len(), 4);
    let header = &records[0];
    let tags = &records[1];
    let cell = |row: usize, column: &str| {
        let index = header.iter().position(|h| h == column).expect(column);
        records[row][index].clone()
    };
    assert_eq!(header[0], "id");
    assert_eq!(cell(1, "people"), "#affected+ind");
    assert_eq!(cell(1, "area"), "#adm2+code");
    assert_eq!(cell(1, "category"), "#sector");
    assert_eq!(cell(1, "raised_by"), "#org+requester");
    assert_eq!(cell(1, "raised_at"), "#date+raised_at");
    assert_eq!(cell(1, "status"), "#status");
    assert_eq!(cell(2, "people"), "12");
    assert_eq!(cell(3, "people"), "<5");
    assert_eq!(cell(2, "claimed_by"), "");
    assert!(tags.iter().all(|t| t.starts_with('#')));

    // Nested counts flatten to dotted columns; suppressed ones stay markers.
    let reports = json!([{"id": "r1", "reported_by": "malmo-stad",
        "counts": {"arrivals_to_date": 140, "unaccompanied_minors_to_date": {"suppressed": true, "below": 5}}}]);
    let mut out = Vec::new();
    samla_import::to_csv_with(
        samla_import::rows_of(&reports, None).expect("array"),
        &samla_import::ExportOptions {
            hxl: false,
            delimiter: b';',
            excel_bom: true,
        },
        &mut out,
    )
    .expect("export");
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(
        text,
        "\u{feff}id;counts.arrivals_to_date;counts.unaccompanied_minors_to_date;reported_by\nr1;140;<5;malmo-stad\n"
    );
}

#[test]
fn an_importer_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<Importer>();
    assert_send::<Mapping>();
}
