//! The personal-data guard: finds identifiers of people in a piece of text, so that ingest
//! can refuse an event before it becomes permanent in the shared, append-only log.
//!
//! What it is: a pure scanner for the identifiers that turn up by accident in crisis work —
//! Swedish personal identity and coordination numbers (date-checked, Luhn-checked), the
//! Migration Agency's case (dossier) and LMA card numbers, phone numbers and e-mail
//! addresses — in free text and in identifiers alike. It answers with the kind and the byte
//! span of each finding; the caller names the field.
//!
//! What it is not: a general detector of personal data. Names, addresses and health details
//! written in words pass; that is the organisations' own duty. It is tuned to let normal
//! crisis content through (dates, times, weeks, counts, codes, UUIDs, hashes), and accepts
//! a few documented false positives rather than miss a real number.
//!
//! How it reads numbers: the text is cut into maximal runs of digits ("groups"; ASCII,
//! Arabic-Indic and full-width digits), and each detector looks at a group and the few
//! characters joining it to its neighbours. A group is bounded by non-digits by construction,
//! so letters or underscores around a number never hide it (`pn191212121212`), while digits
//! around it do (`1191212121212` is not a personal identity number). Canonical UUIDs and long
//! machine-made hex tokens are masked first. Everything is linear in the text's length, and a
//! pre-check returns at once when the text has no `@` and fewer than seven digits, which is
//! most fields of most events.
//!
//! Layout: public API; pre-checks and masking; the digit-group scanner and its detectors;
//! small digit helpers; tests.

use std::cmp::Reverse;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// What a finding looks like; the error at ingest names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalDataKind {
    PersonalIdentityNumber,
    CoordinationNumber,
    MigrationAgencyCaseNumber,
    LmaNumber,
    PhoneNumber,
    EmailAddress,
}

impl PersonalDataKind {
    /// A stable, machine-readable code for error replies.
    pub fn code(self) -> &'static str {
        match self {
            Self::PersonalIdentityNumber => "personal_identity_number",
            Self::CoordinationNumber => "coordination_number",
            Self::MigrationAgencyCaseNumber => "migration_agency_case_number",
            Self::LmaNumber => "lma_number",
            Self::PhoneNumber => "phone_number",
            Self::EmailAddress => "email_address",
        }
    }

    /// A sentence fragment for humans: "field `note` <describe>".
    pub fn describe(self) -> &'static str {
        match self {
            Self::PersonalIdentityNumber => {
                "looks like a Swedish personal identity number (personnummer)"
            }
            Self::CoordinationNumber => {
                "looks like a Swedish coordination number (samordningsnummer)"
            }
            Self::MigrationAgencyCaseNumber => {
                "looks like a Migration Agency case number (dossiernummer)"
            }
            Self::LmaNumber => "looks like an asylum seeker's LMA card number",
            Self::PhoneNumber => "looks like a phone number",
            Self::EmailAddress => "looks like an e-mail address",
        }
    }

    /// When two findings cover the same span, the more specific one is reported.
    fn precedence(self) -> u8 {
        match self {
            Self::PersonalIdentityNumber | Self::CoordinationNumber => 0,
            Self::LmaNumber => 1,
            Self::MigrationAgencyCaseNumber => 2,
            Self::EmailAddress => 3,
            Self::PhoneNumber => 4,
        }
    }
}

/// One finding: its kind and its byte span in the text (`text[start..end]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalDataFinding {
    pub kind: PersonalDataKind,
    pub start: usize,
    pub end: usize,
}

/// The first finding in `text`, if any.
pub fn find_personal_data(text: &str) -> Option<PersonalDataFinding> {
    find_all_personal_data(text).into_iter().next()
}

/// All findings in `text`, in order of position, without overlaps (where two detectors
/// claim overlapping spans, the earlier and longer one is kept).
pub fn find_all_personal_data(text: &str) -> Vec<PersonalDataFinding> {
    if is_canonical_uuid(text) || !may_hold_personal_data(text) {
        return Vec::new();
    }
    let mut findings = Vec::new();
    if text.contains('@') {
        findings.extend(
            EMAIL
                .find_iter(text)
                .map(|m| finding(PersonalDataKind::EmailAddress, m.start(), m.end())),
        );
    }
    let scan = Scan::new(text);
    if scan.digits.len() >= MIN_DIGITS {
        scan.find_numbers(&mut findings);
    }
    findings.sort_by_key(|f| (f.start, Reverse(f.end), f.kind.precedence()));
    let mut kept: Vec<PersonalDataFinding> = Vec::with_capacity(findings.len());
    for f in findings {
        if kept.last().is_none_or(|last| f.start >= last.end) {
            kept.push(f);
        }
    }
    kept
}

/// The shortest pattern we look for without an `@` is an international phone number of
/// seven digits; dossier numbers have seven or eight, personal identity numbers ten.
const MIN_DIGITS: usize = 7;

fn finding(kind: PersonalDataKind, start: usize, end: usize) -> PersonalDataFinding {
    PersonalDataFinding { kind, start, end }
}

/// `local@domain.tld`, letters of any script allowed (IDN mailboxes exist in Sweden).
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.(?:\p{L}{2,}|xn--[a-zA-Z0-9\-]+)")
        .expect("the e-mail pattern is a valid regex")
});

/// A word that announces a Migration Agency number, then up to a few separators and an
/// optional "nr"/"no"/"nummer", ending at the number's first digit.
///
/// Sources for the formats: SCB's instructions on collecting dossier numbers
/// ("unik och består av 7 eller 8 siffror"; the LMA number is the dossier number plus a
/// final digit counting the cards issued); Västra Götalandsregionen's dental-care page on the
/// LMA card ("består av åtta siffror xx-xxxxxx"); the Migration Agency's note on the digital
/// LMA cards of 1 January 2022 (the card's serial follows the case number: "XX-XXXXXX/1").
/// Only `xx-xxxxxx` is distinctive enough to flag alone; other shapes (a bare 7–8 digit run,
/// `1234-5678`) are equally counts, years or bank giro numbers, so they need a keyword.
/// "dnr" is deliberately absent: every authority's own diary numbers use it.
static MIGRATION_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:(?-u:\b)lma[\p{L}\-]*|dossier[\p{L}\-]*|[äa]rende[\p{L}\-]*",
        r"|beslut(?:et|snummer|snr|s-nr)?|uppeh[åa]llstillst[åa]nd[\p{L}\-]*",
        r"|(?-u:\b)ut-?kort[\p{L}\-]*|migrationsverket\p{L}*|(?-u:\b)migration\s+agency",
        r"|(?-u:\b)case(?-u:\b)|(?-u:\b)file\s*(?:no|nr|number))",
        r"[\s:#.,\-–]{0,4}(?:(?:nr|no|nummer|number|num|id|ref)\.?[\s:#.,\-–]{0,4})?",
        r"[0-9\u{660}-\u{669}\u{6F0}-\u{6F9}\u{FF10}-\u{FF19}]",
    ))
    .expect("the migration-context pattern is a valid regex")
});

/// A word that announces a phone number; with it, local numbers without an area code
/// ("tel 123 45 67") are flagged too.
static PHONE_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?-u:\b)(?:tel|tfn|telefon\p{L}*|mobil\p{L}*|mob|phone|sms|whatsapp|ring|call)",
        r"(?:\.|(?-u:\b))[\s:#.,\-–]{0,4}(?:(?:nr|no|nummer|number)\.?[\s:#.,\-–]{0,4})?",
        r"[0-9\u{660}-\u{669}\u{6F0}-\u{6F9}\u{FF10}-\u{FF19}]",
    ))
    .expect("the phone-context pattern is a valid regex")
});

/// One pass over the bytes: an `@`, or at least [`MIN_DIGITS`] digits of any script we read.
fn may_hold_personal_data(text: &str) -> bool {
    let mut digits = 0;
    for &b in text.as_bytes() {
        if b == b'@' {
            return true;
        }
        if b.is_ascii_digit() {
            digits += 1;
            if digits >= MIN_DIGITS {
                return true;
            }
        }
    }
    if !text.is_ascii() {
        digits += text
            .chars()
            .filter(|c| !c.is_ascii() && digit_value(*c).is_some())
            .count();
    }
    digits >= MIN_DIGITS
}

/// The common case of an identifier that is exactly a UUID.
fn is_canonical_uuid(text: &str) -> bool {
    is_canonical_uuid_bytes(text.as_bytes())
}

fn is_canonical_uuid_bytes(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Spans whose digits are not read: canonical UUIDs (event ids, references) and whole hex
/// tokens of 16+ characters where letters and digits alternate at least three times (hashes,
/// random ids). A name glued to a number (`ebba191212121212`) alternates once and stays read.
fn masked_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    // A UUID's first hyphen is its ninth byte: test each hyphen as that one.
    let mut from = 8;
    while let Some(offset) = bytes
        .get(from..)
        .and_then(|b| b.iter().position(|&c| c == b'-'))
    {
        let start = from + offset - 8;
        let end = start + 36;
        let uuid = bytes.get(start..end).is_some_and(is_canonical_uuid_bytes)
            && (start == 0 || !bytes[start - 1].is_ascii_hexdigit())
            && !bytes.get(end).is_some_and(u8::is_ascii_hexdigit);
        if uuid {
            spans.push(start..end);
            from = end + 8;
        } else {
            from += offset + 1;
        }
    }
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        let run = &bytes[start..i];
        if run.len() < 16 {
            continue;
        }
        let alternations = run
            .windows(2)
            .filter(|w| w[0].is_ascii_digit() != w[1].is_ascii_digit())
            .count();
        let whole_token = !text[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
            && !text[i..].chars().next().is_some_and(char::is_alphanumeric);
        if alternations >= 3 && whole_token {
            spans.push(start..i);
        }
    }
    spans.sort_by_key(|s| s.start);
    spans
}

/// A maximal run of digits: its byte span and where its digit values sit in `Scan::digits`.
#[derive(Debug)]
struct Group {
    start: usize,
    end: usize,
    digits: Range<usize>,
}

/// How two digit groups are joined in a written phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhoneGap {
    Plain,
    OpenParen,
    CloseParen,
    NotJoined,
}

#[derive(Debug)]
struct Scan<'t> {
    text: &'t str,
    digits: Vec<u8>,
    groups: Vec<Group>,
    /// Groups that belong to a written date (`2026-03-01`, `01.03.2026`, `1/3 2026`); a
    /// phone number never starts in or runs through one.
    in_date: Vec<bool>,
}

impl<'t> Scan<'t> {
    fn new(text: &'t str) -> Self {
        let masks = masked_spans(text);
        let mut masks = masks.iter();
        let mut mask = masks.next();
        let mut digits = Vec::with_capacity(32);
        let mut groups: Vec<Group> = Vec::with_capacity(16);
        let bytes = text.as_bytes();
        let mut pos = 0;
        while pos < bytes.len() {
            if let Some(m) = mask.filter(|m| m.start <= pos) {
                pos = pos.max(m.end);
                mask = masks.next();
                continue;
            }
            // Bytes, not chars, for speed: the non-ASCII digits we read start with one of
            // these lead bytes, so only there is a char decoded.
            let (value, width) = match bytes[pos] {
                b @ b'0'..=b'9' => (Some(b - b'0'), 1),
                0xD9 | 0xDB | 0xEF => text[pos..]
                    .chars()
                    .next()
                    .map_or((None, 1), |c| (digit_value(c), c.len_utf8())),
                _ => (None, 1),
            };
            let Some(value) = value else {
                pos += width;
                continue;
            };
            digits.push(value);
            let end = pos + width;
            match groups.last_mut() {
                Some(g) if g.end == pos => {
                    g.end = end;
                    g.digits.end = digits.len();
                }
                _ => groups.push(Group {
                    start: pos,
                    end,
                    digits: digits.len() - 1..digits.len(),
                }),
            }
            pos = end;
        }
        let mut scan = Scan {
            text,
            digits,
            groups,
            in_date: Vec::new(),
        };
        scan.in_date = scan.mark_dates();
        scan
    }

    fn mark_dates(&self) -> Vec<bool> {
        let mut in_date = vec![false; self.groups.len()];
        let day_or_month = |g: usize| (1..=2).contains(&self.len(g));
        let year = |g: usize| self.len(g) == 4 && (1900..=2099).contains(&self.value(g));
        let joined = |g: usize| {
            is_single(self.gap_before(g), |c| {
                matches!(c, '.' | '/') || is_hyphen_like(c) || is_space_like(c)
            })
        };
        for first in 0..self.groups.len().saturating_sub(2) {
            let (a, b, c) = (first, first + 1, first + 2);
            let shaped = (day_or_month(a) && day_or_month(b) && year(c))
                || (year(a) && day_or_month(b) && day_or_month(c));
            if shaped && joined(b) && joined(c) {
                in_date[a..=c].fill(true);
            }
        }
        in_date
    }

    fn find_numbers(&self, out: &mut Vec<PersonalDataFinding>) {
        for i in 0..self.groups.len() {
            let found = [
                self.identity_number_at(i),
                self.case_number_by_format_at(i),
                self.international_phone_at(i),
                self.double_zero_phone_at(i),
                self.national_phone_at(i),
            ];
            out.extend(found.into_iter().flatten());
        }
        if !self.has_long_run() {
            return;
        }
        for m in MIGRATION_CONTEXT.find_iter(self.text) {
            let lma = m
                .as_str()
                .get(..3)
                .is_some_and(|s| s.eq_ignore_ascii_case("lma"));
            if let Some(i) = self.group_ending_match(m.as_str(), m.end()) {
                out.extend(self.case_number_in_context_at(i, lma));
            }
        }
        for m in PHONE_CONTEXT.find_iter(self.text) {
            if let Some(i) = self.group_ending_match(m.as_str(), m.end()) {
                out.extend(self.phone_in_context_at(i));
            }
        }
    }

    /// Whether some digits outside dates, joined as a phone number could be, reach
    /// [`MIN_DIGITS`]: the shapes the context rules look for all do, so without such a run
    /// the keyword regexes need not run.
    fn has_long_run(&self) -> bool {
        let mut run = 0;
        for i in 0..self.groups.len() {
            let joined = i > 0
                && !self.in_date[i - 1]
                && phone_gap(self.gap_before(i), false) != PhoneGap::NotJoined;
            run = if self.in_date[i] {
                0
            } else if joined {
                run + self.len(i)
            } else {
                self.len(i)
            };
            if run >= MIN_DIGITS {
                return true;
            }
        }
        false
    }

    /// The context patterns end with the number's first digit; find that digit's group.
    fn group_ending_match(&self, matched: &str, end: usize) -> Option<usize> {
        let digit_start = end - matched.chars().next_back()?.len_utf8();
        self.groups
            .binary_search_by_key(&digit_start, |g| g.start)
            .ok()
    }

    fn len(&self, i: usize) -> usize {
        self.groups[i].digits.len()
    }

    fn digits_of(&self, i: usize) -> &[u8] {
        &self.digits[self.groups[i].digits.clone()]
    }

    /// The value of a short group (callers only ask for groups of four digits or fewer).
    fn value(&self, i: usize) -> u32 {
        self.digits_of(i)
            .iter()
            .fold(0, |v, d| v.saturating_mul(10).saturating_add(u32::from(*d)))
    }

    fn gap_before(&self, i: usize) -> &'t str {
        let from = if i == 0 { 0 } else { self.groups[i - 1].end };
        &self.text[from..self.groups[i].start]
    }

    fn text_before(&self, i: usize) -> &'t str {
        &self.text[..self.groups[i].start]
    }

    fn text_after(&self, i: usize) -> &'t str {
        &self.text[self.groups[i].end..]
    }

    fn finding(&self, kind: PersonalDataKind, first: usize, last: usize) -> PersonalDataFinding {
        finding(kind, self.groups[first].start, self.groups[last].end)
    }

    /// The digits after a decimal point or comma (`3.14`, `10:00:00.012345678`) are a
    /// fraction, not a phone or case number.
    fn is_fraction(&self, i: usize) -> bool {
        i > 0 && matches!(self.gap_before(i), "." | ",")
    }

    fn is_parenthesised(&self, i: usize) -> bool {
        self.text_before(i).ends_with('(') && self.text_after(i).starts_with(')')
    }

    /// `+46…` is read by the international rule, from the `+`.
    fn follows_plus(&self, i: usize) -> bool {
        let before = self.text_before(i);
        before
            .strip_suffix(is_space_like)
            .unwrap_or(before)
            .ends_with('+')
    }

    /// Personal identity and coordination numbers: `YYMMDDNNNC`, `YYYYMMDDNNNC`,
    /// `YYMMDD-NNNC`, `YYMMDD+NNNC`, `YYMMDD NNNC`, `YYYYMMDD-NNNC`; century 18, 19 or 20;
    /// month 01–12; day 01–31 (61–91 for coordination numbers) within the month; Luhn
    /// digit valid over the ten-digit form.
    fn identity_number_at(&self, i: usize) -> Option<PersonalDataFinding> {
        let d = self.digits_of(i);
        let (ten, last): ([u8; 10], usize) = match d.len() {
            10 => (d.try_into().ok()?, i),
            12 if has_century(d) => (d[2..].try_into().ok()?, i),
            6 | 8 => {
                let next = i + 1;
                if next >= self.groups.len() || self.len(next) != 4 {
                    return None;
                }
                let gap = self.gap_before(next);
                let joined = is_single(gap, |c| is_hyphen_like(c) || c == '+')
                    || (d.len() == 6 && is_single(gap, is_space_like));
                if !joined || (d.len() == 8 && !has_century(d)) {
                    return None;
                }
                let mut ten = [0; 10];
                ten[..6].copy_from_slice(&d[d.len() - 6..]);
                ten[6..].copy_from_slice(self.digits_of(next));
                (ten, next)
            }
            _ => return None,
        };
        identity_kind(&ten).map(|kind| self.finding(kind, i, last))
    }

    /// `xx-xxxxxx`, optionally with the card's serial (`/1`, `-1`), flagged without any
    /// keyword. Not when hyphen-joined to more digits (`978-91-123456-7` is an ISBN), and
    /// not with a leading zero (`08-123456` is a Stockholm phone number, found as such).
    fn case_number_by_format_at(&self, i: usize) -> Option<PersonalDataFinding> {
        let next = i + 1;
        if self.len(i) != 2
            || self.digits_of(i)[0] == 0
            || self.is_fraction(i)
            || (i > 0 && is_single(self.gap_before(i), is_hyphen_like))
            || next >= self.groups.len()
            || self.len(next) != 6
            || !is_single(self.gap_before(next), is_hyphen_like)
        {
            return None;
        }
        self.with_card_serial(i, next, PersonalDataKind::MigrationAgencyCaseNumber)
    }

    /// After a keyword: seven to ten digits in one group, or seven or eight in two
    /// (`12 345678`, `1234-5678`, but not a year range `2024-2026`), optionally with the
    /// card's serial. A date (`beslut 2026-03-01`) has a two-digit second group and passes.
    fn case_number_in_context_at(&self, i: usize, lma: bool) -> Option<PersonalDataFinding> {
        let n = self.len(i);
        let last = if (7..=10).contains(&n) {
            i
        } else {
            let next = i + 1;
            let joined = next < self.groups.len()
                && is_single(self.gap_before(next), |c| {
                    is_hyphen_like(c) || is_space_like(c)
                });
            if !joined
                || !(1..=4).contains(&n)
                || self.len(next) < 4
                || !(7..=8).contains(&(n + self.len(next)))
            {
                return None;
            }
            let year = |g: usize| self.len(g) == 4 && (1900..=2099).contains(&self.value(g));
            if year(i) && year(next) {
                return None;
            }
            next
        };
        let kind = if lma {
            PersonalDataKind::LmaNumber
        } else {
            PersonalDataKind::MigrationAgencyCaseNumber
        };
        self.with_card_serial(i, last, kind)
    }

    /// A case number ending at group `last`, extended by a card serial of one or two digits
    /// (`/1` on cards since 2022, `-1` on older ones), which makes it an LMA number. A longer
    /// hyphenated continuation means some other code, and nothing is found.
    fn with_card_serial(
        &self,
        first: usize,
        last: usize,
        kind: PersonalDataKind,
    ) -> Option<PersonalDataFinding> {
        let next = last + 1;
        if next < self.groups.len() {
            let gap = self.gap_before(next);
            let hyphen = is_single(gap, is_hyphen_like);
            if (gap == "/" || hyphen) && (1..=2).contains(&self.len(next)) {
                return Some(self.finding(PersonalDataKind::LmaNumber, first, next));
            }
            if hyphen {
                return None;
            }
        }
        Some(self.finding(kind, first, last))
    }

    /// `+<country code> …` with seven to fifteen digits (E.164), grouped the way phone
    /// numbers are written. Not after a letter or digit (`UTC+1`, `121212+1212`), and not a
    /// signed amount in thousands (`+1 500 000 kr`) unless it starts with 46 (Sweden).
    fn international_phone_at(&self, i: usize) -> Option<PersonalDataFinding> {
        let before = self.text_before(i);
        let plus_at = before
            .strip_suffix(is_space_like)
            .unwrap_or(before)
            .strip_suffix('+')?;
        if plus_at
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
            || self.digits_of(i)[0] == 0
        {
            return None;
        }
        let in_paren = plus_at.ends_with('(') && self.text_after(i).starts_with(')');
        let (last, count) = self.walk_phone(i, 15, true, in_paren);
        let sweden = self.digits_of(i).starts_with(&[4, 6]);
        if count < 7 || (last > i && self.len(i) > 3) || (self.is_thousands(i, last) && !sweden) {
            return None;
        }
        Some(finding(
            PersonalDataKind::PhoneNumber,
            plus_at.len(),
            self.groups[last].end,
        ))
    }

    /// `00<country code> …`: `0046` with a Swedish number of seven to ten digits, glued or
    /// grouped; other countries only when grouped (`0044 20 7946 0958`), since a zero-padded
    /// counter like `001234567` is glued.
    fn double_zero_phone_at(&self, i: usize) -> Option<PersonalDataFinding> {
        let d = self.digits_of(i);
        if d.len() < 3
            || d[0] != 0
            || d[1] != 0
            || d[2] == 0
            || self.is_fraction(i)
            || self.follows_plus(i)
        {
            return None;
        }
        let (last, count) = self.walk_phone(i, 17, false, self.is_parenthesised(i));
        let ok = if d.starts_with(&[0, 0, 4, 6]) {
            (11..=14).contains(&count)
        } else {
            last > i && (3..=5).contains(&d.len()) && (10..=17).contains(&count)
        };
        ok.then(|| self.finding(PersonalDataKind::PhoneNumber, i, last))
    }

    /// Swedish national numbers: a trunk `0`, then eight to ten digits in all (`0701234567`,
    /// `070-123 45 67`, `08-123 456 78`, `(08) 123 45 67`, `031-12345`). Not a date
    /// (`01-03-2026`) and not two groups of four (`0800-1700`, `0180 1280`): no Swedish
    /// number is split that way, time ranges and municipality codes are.
    fn national_phone_at(&self, i: usize) -> Option<PersonalDataFinding> {
        let d = self.digits_of(i);
        if d.len() < 2 || d[0] != 0 || d[1] == 0 || self.is_fraction(i) || self.follows_plus(i) {
            return None;
        }
        let (last, count) = self.walk_phone(i, 10, false, self.is_parenthesised(i));
        let four_and_four = last == i + 1 && self.len(i) == 4 && self.len(last) == 4;
        if !(8..=10).contains(&count) || four_and_four {
            return None;
        }
        Some(self.finding(PersonalDataKind::PhoneNumber, i, last))
    }

    /// After "tel", "mobil", "ring", …: any seven or more digits grouped like a phone number,
    /// except a date or a time range.
    fn phone_in_context_at(&self, i: usize) -> Option<PersonalDataFinding> {
        let (last, count) = self.walk_phone(i, 15, false, self.is_parenthesised(i));
        let time_range = last == i + 1
            && [i, last]
                .iter()
                .all(|&g| self.len(g) == 4 && self.value(g) / 100 < 24 && self.value(g) % 100 < 60);
        if count < 7 || time_range {
            return None;
        }
        Some(self.finding(PersonalDataKind::PhoneNumber, i, last))
    }

    /// From group `first`, follow the groups joined the way phone numbers are written
    /// (a space, a hyphen, ` - `, an area code in parentheses, dots if `allow_dot`) while
    /// the digit count stays within `max_digits`. Returns the last group and the count (zero
    /// when `first` is part of a date).
    fn walk_phone(
        &self,
        first: usize,
        max_digits: usize,
        allow_dot: bool,
        mut in_paren: bool,
    ) -> (usize, usize) {
        let (mut last, mut count) = (first, self.len(first));
        if self.in_date[first] {
            return (first, 0);
        }
        while last + 1 < self.groups.len() {
            let next = last + 1;
            let gap = phone_gap(self.gap_before(next), allow_dot);
            let joined = match gap {
                PhoneGap::Plain => !in_paren,
                PhoneGap::OpenParen => {
                    !in_paren && self.len(next) <= 4 && self.text_after(next).starts_with(')')
                }
                PhoneGap::CloseParen => in_paren,
                PhoneGap::NotJoined => false,
            };
            if !joined || self.in_date[next] || count + self.len(next) > max_digits {
                break;
            }
            in_paren = gap == PhoneGap::OpenParen;
            count += self.len(next);
            last = next;
        }
        (last, count)
    }

    /// `1 500 000`, `1.500.000`: the first group of one to three digits, then groups of
    /// exactly three joined by the same space or dot.
    fn is_thousands(&self, first: usize, last: usize) -> bool {
        if last <= first {
            return false;
        }
        let gap = self.gap_before(first + 1);
        self.len(first) <= 3
            && (is_single(gap, is_space_like) || gap == ".")
            && (first + 1..=last).all(|g| self.len(g) == 3 && self.gap_before(g) == gap)
    }
}

fn phone_gap(gap: &str, allow_dot: bool) -> PhoneGap {
    let mut chars = gap.chars();
    let c = [chars.next(), chars.next(), chars.next(), chars.next()];
    let plain = |c: char| is_space_like(c) || is_hyphen_like(c) || (allow_dot && c == '.');
    match c {
        [Some(a), None, ..] if plain(a) => PhoneGap::Plain,
        [Some(a), Some(h), Some(b), None]
            if is_space_like(a) && is_hyphen_like(h) && is_space_like(b) =>
        {
            PhoneGap::Plain
        }
        [Some(')'), None, ..] => PhoneGap::CloseParen,
        [Some(')'), Some(a), None, _] if is_space_like(a) || is_hyphen_like(a) => {
            PhoneGap::CloseParen
        }
        [Some('('), None, ..] => PhoneGap::OpenParen,
        [Some(a), Some('('), None, _] if is_space_like(a) => PhoneGap::OpenParen,
        _ => PhoneGap::NotJoined,
    }
}

/// ASCII, Arabic-Indic, Extended Arabic-Indic (Persian, Urdu) and full-width digits.
fn digit_value(c: char) -> Option<u8> {
    let zero = match c {
        '0'..='9' => '0',
        '\u{660}'..='\u{669}' => '\u{660}',
        '\u{6F0}'..='\u{6F9}' => '\u{6F0}',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        _ => return None,
    };
    u8::try_from(u32::from(c) - u32::from(zero)).ok()
}

fn is_hyphen_like(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2013}' | '\u{2212}')
}

fn is_space_like(c: char) -> bool {
    matches!(c, ' ' | '\u{A0}' | '\u{2009}' | '\u{202F}')
}

/// `gap` is exactly one character, and it satisfies `pred`.
fn is_single(gap: &str, pred: impl Fn(char) -> bool) -> bool {
    let mut chars = gap.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if pred(c))
}

fn has_century(d: &[u8]) -> bool {
    matches!((d[0], d[1]), (1, 8) | (1, 9) | (2, 0))
}

/// The kind of a ten-digit `YYMMDDNNNC`, if its date is plausible and its Luhn digit valid.
fn identity_kind(d: &[u8; 10]) -> Option<PersonalDataKind> {
    const DAYS_IN_MONTH: [u8; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let month = d[2] * 10 + d[3];
    let day = d[4] * 10 + d[5];
    let days = *DAYS_IN_MONTH.get(usize::from(month).checked_sub(1)?)?;
    let (kind, day) = if day > 60 {
        (PersonalDataKind::CoordinationNumber, day - 60)
    } else {
        (PersonalDataKind::PersonalIdentityNumber, day)
    };
    (day >= 1 && day <= days && luhn_valid(d)).then_some(kind)
}

fn luhn_valid(d: &[u8; 10]) -> bool {
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let v = u32::from(x) * if i % 2 == 0 { 2 } else { 1 };
            v / 10 + v % 10
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests;
