//! # samla-import — spreadsheets in, spreadsheets out
//!
//! What it is: the pure library behind `samla import` and `samla export`. Import turns the
//! rows of a CSV file, an HXL-tagged CSV file or a spreadsheet (xlsx, xlsm, xlsb, xls, ods)
//! into contract [`Envelope`](proto_events::Envelope)s through a mapping file; export turns
//! the API's JSON views back into CSV or HXL CSV.
//!
//! What it is not: it sends nothing and reads no log. No NATS, no HTTP, no clock: the
//! caller posts the envelopes through the ingest door with the organisation's own
//! credential (which decides the organisation, whatever the mapping says). Every rule an
//! event must pass is the contract's: each row is written as envelope JSON, decoded with
//! [`proto_events::decode_json`] and checked with `Envelope::validate` (which runs the
//! personal-data guard), exactly as ingest does — only the clock rule ("not in the future")
//! is left to ingest.
//!
//! ## Use
//!
//! ```no_run
//! # fn main() -> Result<(), samla_import::ImportError> {
//! use samla_import::{Importer, Mapping};
//! let mapping = Mapping::from_toml(&std::fs::read_to_string("needs.toml").unwrap())?;
//! let importer = Importer::open("needs.csv", &mapping)?;
//! println!("about {:?} rows", importer.rows_hint());
//! for row in importer {
//!     match row.result {
//!         Ok(envelope) => { /* send proto_events::encode_json(&envelope) */ }
//!         Err(error) => eprintln!("{error}"), // "line 12: payload.quantity (column Antal): …"
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## The mapping file (TOML)
//!
//! ```toml
//! # The kind every row becomes …
//! kind = "need_raised"
//! # … or a column that names it, through a value map (unmapped values must be wire names).
//! # kind = { column = "Typ", map = { "Behov" = "need_raised", "Boende" = "housing_offered" } }
//!
//! [source]                          # all optional
//! sheet = "Behov"                   # spreadsheets: the sheet (default: the first)
//! delimiter = ";"                   # CSV: "," ";" or "tab" (default: guessed from line 1)
//! timezone = "Europe/Stockholm"     # dates without a zone are local time here (the default)
//! key = { column = "Ärende" }       # the row's identity (one column or a list); see ids
//! aggregate_key = { column = "Ärende" } # what identifies the aggregate, if not `key`
//!
//! [envelope]
//! incident = "malmo-reception-2026" # required
//! org = "malmo-stad"                # required; ingest checks it against the credential
//! function = "duty officer, social services" # required: a role, never a person
//! occurred_at = { column = "Datum" }         # required
//! area = { tag = "#adm2+code" }              # required
//! status = "exercise"               # default "actual"
//! audience = "network"              # default; or ["region-skane", "migrationsverket"]
//! lang = "sv"                       # optional; also id, aggregate_id, correlation, causation
//!
//! [payload]                         # field names as in the contract (proto-events/schema)
//! category = { column = "Kategori", map = { "Boende" = "housing", "Vård" = "health_care" } }
//! quantity = { column = "Antal" }
//! unit = "beds"                     # a constant
//! urgency = { column = "Brådska", map = { "Hög" = "high", "Akut" = "critical" }, default = "normal" }
//! suitable_for = { column = "Passar", separator = "," } # lists split on "," or ";" by default
//! "counts.arrivals_to_date" = { tag = "#affected+arrived" } # nested fields: a dotted key
//! ```
//!
//! A field is a constant (any TOML value; `{ value = … }` for a table) or a cell:
//! `{ column = "header text" }` (exact, then ignoring case) or `{ tag = "#hxl+pattern" }`
//! (HXL matching: `#affected+refugees` matches `#affected+refugees+ind`; a pattern that
//! matches two columns is refused), with optional `map` (the cell's trimmed text, exact then
//! ignoring case, to a value), `default` (for an empty cell) and `separator` (lists). An
//! empty cell without a default leaves the field out, so the contract says "missing" if it
//! is required. With a kind column, each row takes the payload fields its kind has. The
//! cell's type comes from the contract's JSON Schema: counts accept `1 234` and `3,0`;
//! yes/no accepts ja/nej, yes/no, true/false, 1/0, x; dates accept RFC 3339 with a zone or a
//! local `2026-03-01` / `2026-03-01 09:30` in `source.timezone`. Mistakes that do not depend
//! on the data (an unknown kind or field, a bad constant) fail [`Mapping::from_toml`].
//!
//! The file: the header row is the first non-blank row; an HXL hashtag row (at least half
//! of its cells hashtags, within the first 25 rows) may follow the header or replace it.
//!
//! ## Ids: importing the same file twice adds nothing
//!
//! Unless the mapping gives `id`, an event's id is a UUIDv8 from SHA-256 over the incident,
//! the organisation, the kind and the **row key**: the `source.key` cells, or else the
//! row's content (the event it becomes, ids left out) plus how many identical rows came
//! before it. Unless the mapping gives `aggregate_id`, the aggregate id is `imp-` + 32
//! letters from SHA-256 over the incident, organisation, aggregate type and the
//! `source.aggregate_key` cells (or the row key). So the same file gives the same ids, and
//! ingest's duplicate check drops a second import. Consequences worth knowing: with a key,
//! an edited row keeps its id and is *not* sent again (add a row of an update kind
//! instead), and two rows with the same key in one file are refused (`duplicate_key`);
//! without a key, an edited row is a new event. A follow-up file (`need_met`, say) finds
//! the needs of an earlier file when its `aggregate_key` holds the same case numbers.
//! See [`ids`].
//!
//! ## Layout
//!
//! - [`mapping`]: the TOML format, parsed and checked; [`Mapping`].
//! - `source`: CSV and calamine records, header and hashtag rows, column labels; [`hxl`]:
//!   hashtags and patterns.
//! - `fields`: field types from the contract's schema; `convert`: cell text to JSON.
//! - `build`: one record to one checked envelope; [`ids`]: deterministic ids.
//! - [`importer`]: [`Importer`], [`Row`], [`Summary`]; [`export`]: views to CSV/HXL.
//! - `error`: [`ImportError`] (whole file) and [`RowError`] (one row).

mod build;
mod convert;
mod error;
pub mod export;
mod fields;
pub mod hxl;
pub mod ids;
pub mod importer;
pub mod mapping;
mod source;

pub use error::{ImportError, RowError};
pub use export::{ExportOptions, rows_of, to_csv, to_csv_with};
pub use importer::{Importer, Row, Summary};
pub use mapping::Mapping;
