//! Tests of the personal-data guard: what it must catch and what it must let through.
use super::PersonalDataKind::*;
use super::*;
use proptest::prelude::*;

/// Appends the Luhn digit to nine digits (`YYMMDDNNN`).
fn with_luhn(nine: &str) -> String {
    let sum: u32 = nine
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let v = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            v / 10 + v % 10
        })
        .sum();
    format!("{nine}{}", (10 - sum % 10) % 10)
}

/// Asserts the first finding's kind and that it covers `needle` exactly.
fn check(text: &str, kind: PersonalDataKind, needle: &str) {
    let found = find_personal_data(text);
    let start = text.find(needle).expect("needle is in the text");
    assert_eq!(
        found,
        Some(finding(kind, start, start + needle.len())),
        "in {text:?}"
    );
}

fn check_clean(text: &str) {
    assert_eq!(find_all_personal_data(text), vec![], "in {text:?}");
}

/// A small deterministic generator (SplitMix64), so tests need no extra dependency.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.next() as u8)
    }
}

#[test]
fn luhn_helper_agrees_with_the_skatteverket_test_number() {
    assert_eq!(with_luhn("121212121"), "1212121212");
    assert_eq!(with_luhn("701063239"), "7010632391");
}

#[test]
fn personal_identity_numbers_in_every_written_form() {
    for pnr in [
        "19121212-1212",
        "121212-1212",
        "191212121212",
        "1212121212",
        "121212+1212",
        "121212 1212",
    ] {
        check(pnr, PersonalIdentityNumber, pnr);
    }
    check("121212–1212", PersonalIdentityNumber, "121212–1212"); // en dash from a word processor
    check("١٢١٢١٢-١٢١٢", PersonalIdentityNumber, "١٢١٢١٢-١٢١٢"); // Arabic-Indic digits
    check(
        "nr １２１２１２１２１２",
        PersonalIdentityNumber,
        "１２１２１２１２１２",
    ); // full-width
    check("need-191212121212", PersonalIdentityNumber, "191212121212");
    check("x121212-1212y", PersonalIdentityNumber, "121212-1212");
    check("pn191212121212", PersonalIdentityNumber, "191212121212");
    check("ebba191212121212", PersonalIdentityNumber, "191212121212");
    check(
        "Barnet (pnr 20121212-1212) behöver tolk",
        PersonalIdentityNumber,
        "20121212-1212",
    );
    let born_2001 = with_luhn("010101123");
    check(
        &format!("familj {born_2001} anlände"),
        PersonalIdentityNumber,
        &born_2001,
    );
}

#[test]
fn identity_numbers_need_a_valid_luhn_digit_a_real_date_and_digit_boundaries() {
    check_clean("121212-1213");
    check_clean("191212121213");
    check_clean(&with_luhn("121312121")); // month 13
    check_clean(&with_luhn("120231121")); // 31 February
    check_clean("211212121212"); // century 21
    check_clean("11212121212"); // eleven digits
    check_clean("212000-0142"); // a municipality's organisation number: "month" 20
}

#[test]
fn coordination_numbers_are_day_plus_sixty() {
    check("701063-2391", CoordinationNumber, "701063-2391");
    check("19701063-2391", CoordinationNumber, "19701063-2391");
    check("ref 7010632391.", CoordinationNumber, "7010632391");
    let feb_29 = with_luhn("000289123");
    check(&feb_29, CoordinationNumber, &feb_29);
    check_clean(&with_luhn("700192123")); // day 92 - 60 = 32
}

#[test]
fn migration_agency_numbers_by_format_and_by_keyword() {
    check("12-345678", MigrationAgencyCaseNumber, "12-345678");
    check(
        "se ärende 12-345678 ang. boende",
        MigrationAgencyCaseNumber,
        "12-345678",
    );
    check("kort 12-345678/1", LmaNumber, "12-345678/1");
    check("12-345678-2", LmaNumber, "12-345678-2");
    check(
        "Dossiernummer: 1234567",
        MigrationAgencyCaseNumber,
        "1234567",
    );
    check("ärendenr 1234-5678", MigrationAgencyCaseNumber, "1234-5678");
    check(
        "asylärende 12 345678",
        MigrationAgencyCaseNumber,
        "12 345678",
    );
    check("Case no. 12345678", MigrationAgencyCaseNumber, "12345678");
    check("LMA-kort nr 123456789", LmaNumber, "123456789");
    check("lma: 1234-5678", LmaNumber, "1234-5678");
    check(
        "beslut 12345678 överklagat",
        MigrationAgencyCaseNumber,
        "12345678",
    );
    check(
        "uppehållstillstånd, 87654321",
        MigrationAgencyCaseNumber,
        "87654321",
    );
}

#[test]
fn migration_agency_look_alikes_pass() {
    check_clean("978-91-123456-7"); // ISBN
    check_clean("12-345678-2026");
    check_clean("beslut 2026-03-01 om nytt boende");
    check_clean("ärende 2024-2026");
    check_clean("Migrationsverket: 120 platser, 1 200 personer");
    check_clean("12345678 sandsäckar"); // a bare eight-digit count
    check_clean("case 1234"); // too short
    check_clean("bankgiro 5223-7005, arrivals 12345678");
}

#[test]
fn phone_numbers_swedish_and_international() {
    for phone in [
        "070-123 45 67",
        "0701234567",
        "08-123 456 78",
        "+46 70 123 45 67",
        "+46701234567",
        "0046 70 123 45 67",
        "0046701234567",
        "(08) 123 45 67",
        "031-12345",
        "+46 (0)8-123 456 78",
        "+44 20 7946 0958",
        "+1 (555) 123-4567",
        "+358 40 123 4567",
        "0044 20 7946 0958",
    ] {
        let text = format!("Ring {phone} vid frågor");
        let found = find_personal_data(&text).expect("a phone number");
        assert_eq!(found.kind, PhoneNumber, "{phone}");
        assert!(
            text[found.start..found.end].ends_with(&phone[phone.len() - 2..]),
            "{phone}: {found:?}"
        );
    }
    check("(+46) 70 123 45 67", PhoneNumber, "+46) 70 123 45 67");
    check("need-0701234567", PhoneNumber, "0701234567");
    check("tel 123 45 67", PhoneNumber, "123 45 67");
    check("Mobilnummer: 123 45 67", PhoneNumber, "123 45 67");
    check("070-123 45 67 120 personer", PhoneNumber, "070-123 45 67");
}

#[test]
fn email_addresses_anywhere() {
    check("funktion@kommun.se", EmailAddress, "funktion@kommun.se");
    check(
        "mejla anna.a+kris@example.com idag",
        EmailAddress,
        "anna.a+kris@example.com",
    );
    check(
        "info@räddningstjänst.se.",
        EmailAddress,
        "info@räddningstjänst.se",
    );
    check_clean("möte @ stadshuset, följ @krisinfo");
}

#[test]
fn normal_crisis_content_passes() {
    for text in [
        "2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00.123456789+01:00",
        "2026-03-01T10:00:00.012345678Z",
        "2026-03-01 10:00:00 +0100",
        "2026-03-01",
        "1/3 2026",
        "01.03.2026",
        "01-03-2026 kl 12",
        "01/03/2026",
        "2026-03-01–2026-03-07",
        "2026-03-01 - 2026-03-07",
        "10:00-12:00",
        "öppet 0800-1700, 0830 - 1200",
        "v. 12",
        "2026-W12",
        "2024-2026",
        "120 bäddar",
        "1 200 personer",
        "arrivals 3500",
        "12 345 meals",
        "population 10 380 491",
        "budget +1 500 000 kr, +1.500.000 kr",
        "ökning +3500 (1200 barn)",
        "UTC+1, GMT+01:00",
        "1280",
        "se-1280",
        "0180",
        "kommunkoder 0180 1280 1281",
        "211 20",
        "Box 3100, 903 03 Umeå",
        "seq 123456",
        "IBAN SE45 5000 0000 0583 9825 7466",
        "room 12, 3rd floor",
        "Bus 104",
        "version 2.15.1",
        "59.3293, 18.0686",
        "Räddningstjänsten öppnar evakueringsplats i Åre; 40 sängar, 3 tolkar på arabiska och dari 🙂",
        "🚑🚒 ٣ سيارات إسعاف",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "commit f46df9f, object 5f1b2c3d4e5f60718293a4b5c6d7e8f9",
    ] {
        check_clean(text);
    }
}

#[test]
fn dates_and_times_beside_numbers_pass() {
    check_clean("01-03-2026–08-03-2026");
    check_clean("2026-03-01 - 2026-03-07 kl 08 00");
    check_clean("11 mars kl 0900-1200 samt 1300-1600");
    check_clean("ring 2026-03-01 om läget");
    check_clean("20260301T1000, Dnr 1.2.3-2026-12345, SFS 1994:137");
    check_clean("ring 112 eller 1177");
}

/// False positives accepted rather than miss a real number; pinned so that changing
/// them is a decision.
#[test]
fn accepted_false_positives() {
    // `<date>-<four-digit serial>` is the personal identity number's own shape; one
    // serial in ten makes the Luhn digit valid. Ids should not be built this way.
    let id = format!("report-20{}", with_luhn("260301000"));
    let id = format!("{}-{}", &id[..15], &id[15..]);
    check(&id, PersonalIdentityNumber, &id[7..]);
    // A ten-digit number that reads as a date with a valid Luhn digit (a Unix time).
    let unix = with_luhn("180123456");
    check(&format!("t={unix}"), PersonalIdentityNumber, &unix);
    // An unformatted amount right after a case keyword.
    check("beslut 2500000 kr", MigrationAgencyCaseNumber, "2500000");
    // Organisations' own switchboards and zero-padded counters that look like numbers.
    check("växel 08-123 45 00", PhoneNumber, "08-123 45 00");
    check("seq 012345678", PhoneNumber, "012345678");
    check("kl 09 30 - 10 30", PhoneNumber, "09 30 - 10 30");
}

#[test]
fn all_findings_are_ordered_and_disjoint() {
    let text = "a@b.se, 121212-1212 och 070-123 45 67; lma 12-345678/1";
    let kinds: Vec<_> = find_all_personal_data(text)
        .iter()
        .map(|f| f.kind)
        .collect();
    assert_eq!(
        kinds,
        [EmailAddress, PersonalIdentityNumber, PhoneNumber, LmaNumber]
    );
}

#[test]
fn long_and_hostile_input_does_not_panic() {
    for text in [
        "9".repeat(1_000_000),
        "0701234567 ".repeat(50_000),
        "a@".repeat(200_000),
        "ärende-".repeat(100_000) + "1",
        "(+(".repeat(100_000),
        "١٢".repeat(300_000),
    ] {
        let _ = find_all_personal_data(&text);
    }
}

/// A million random v4 and v7 UUIDs, alone (the fast path) and inside ids and text (the
/// masked path), lower and upper case.
#[test]
fn a_million_random_uuids_pass() {
    let mut rng = SplitMix(2026);
    let mut buffer = uuid::Uuid::encode_buffer();
    for k in 0..1_000_000u32 {
        let id = if k % 2 == 0 {
            uuid::Builder::from_random_bytes(rng.bytes()).into_uuid()
        } else {
            let millis = rng.next() % (1 << 48);
            uuid::Builder::from_unix_timestamp_millis(millis, &rng.bytes()).into_uuid()
        };
        let s = if k % 3 == 0 {
            id.hyphenated().encode_upper(&mut buffer)
        } else {
            id.hyphenated().encode_lower(&mut buffer)
        };
        assert_eq!(find_personal_data(s), None, "{s}");
        if k % 10 == 0 {
            let embedded = format!("need-{s} ref {s}, {s}.");
            assert_eq!(find_personal_data(&embedded), None, "{embedded}");
        }
    }
}

#[test]
fn random_hashes_pass() {
    let mut rng = SplitMix(7);
    for len in [32, 40, 64] {
        for _ in 0..20_000 {
            let hex: String = (0..len)
                .map(|_| char::from(b"0123456789abcdef"[(rng.next() % 16) as usize]))
                .collect();
            assert_eq!(find_personal_data(&format!("sha:{hex}")), None, "{hex}");
        }
    }
}

fn identity_number_strategy() -> impl Strategy<Value = (String, PersonalDataKind)> {
    (
        1890u32..2030,
        1u32..=12,
        1u32..=28,
        any::<bool>(),
        0u32..1000,
        0usize..6,
    )
        .prop_map(|(year, month, day, coordination, serial, form)| {
            let day = if coordination { day + 60 } else { day };
            let ten = with_luhn(&format!("{:02}{month:02}{day:02}{serial:03}", year % 100));
            let (date, tail) = ten.split_at(6);
            let century = year / 100;
            let text = match form {
                0 => ten.clone(),
                1 => format!("{date}-{tail}"),
                2 => format!("{date}+{tail}"),
                3 => format!("{century}{ten}"),
                4 => format!("{century}{date}-{tail}"),
                _ => format!("{date} {tail}"),
            };
            (
                text,
                if coordination {
                    CoordinationNumber
                } else {
                    PersonalIdentityNumber
                },
            )
        })
}

proptest! {
    #[test]
    fn text_without_digits_or_at_never_flags(text in "[a-zA-ZåäöÅÄÖéü .,;:!?()+\\-\n]{0,200}") {
        prop_assert_eq!(find_personal_data(&text), None);
    }

    #[test]
    fn an_identity_number_inside_letters_always_flags(
        (number, kind) in identity_number_strategy(),
        before in "[a-zåäö_ -]{0,8}",
        after in "[a-zåäö_ -]{0,8}",
    ) {
        let text = format!("{before}{number}{after}");
        let start = before.len();
        prop_assert_eq!(find_personal_data(&text), Some(finding(kind, start, start + number.len())));
    }

    #[test]
    fn any_input_gives_disjoint_spans_on_char_boundaries(text in "(\\PC|[0-9 +()@.\\-])*") {
        let mut last_end = 0;
        for f in find_all_personal_data(&text) {
            prop_assert!(last_end <= f.start && f.start < f.end && f.end <= text.len());
            prop_assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
            last_end = f.end;
        }
    }
}
