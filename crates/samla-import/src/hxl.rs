//! HXL hashtags (<https://hxlstandard.org>): parsing a hashtag row, and matching the
//! mapping's tag patterns against it.
//!
//! A column's hashtag is `#tag+attr+attr` (case-insensitive, spaces allowed around the
//! parts). A pattern `#affected+refugees-f` matches a column whose tag is `affected`, whose
//! attributes include `refugees` and exclude `f` — the HXL rule, so `#affected+refugees`
//! matches `#affected+refugees+ind`. Like libhxl, a row is the hashtag row when at least
//! half of its non-empty cells are hashtags.

use std::fmt;

/// How many rows from the top are searched for the hashtag row (libhxl's limit too).
pub(crate) const HASHTAG_ROW_SEARCH: usize = 25;

/// A column's hashtag with its attributes, normalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hashtag {
    pub tag: String,
    pub attributes: Vec<String>,
}

impl fmt::Display for Hashtag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.tag)?;
        for attribute in &self.attributes {
            write!(f, "+{attribute}")?;
        }
        Ok(())
    }
}

/// A mapping's reference to a column by hashtag: `#tag`, `+wanted`, `-unwanted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPattern {
    tag: String,
    include: Vec<String>,
    exclude: Vec<String>,
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.tag)?;
        for attribute in &self.include {
            write!(f, "+{attribute}")?;
        }
        for attribute in &self.exclude {
            write!(f, "-{attribute}")?;
        }
        Ok(())
    }
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Splits `#tag+a-b` into the tag and its signed attributes, refusing anything else.
fn split_signed(text: &str) -> Option<(String, Vec<(char, String)>)> {
    let text: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    let rest = text.strip_prefix('#')?;
    let end = rest.find(['+', '-']).unwrap_or(rest.len());
    let tag = &rest[..end];
    if !is_name(tag) {
        return None;
    }
    let mut attributes = Vec::new();
    let mut rest = &rest[end..];
    while let Some(sign) = rest.chars().next() {
        let body = &rest[1..];
        let end = body.find(['+', '-']).unwrap_or(body.len());
        let name = &body[..end];
        if !is_name(name) {
            return None;
        }
        attributes.push((sign, name.to_string()));
        rest = &body[end..];
    }
    Some((tag.to_string(), attributes))
}

/// A cell of a hashtag row, if it is a hashtag.
pub(crate) fn parse_hashtag(cell: &str) -> Option<Hashtag> {
    let (tag, signed) = split_signed(cell)?;
    if signed.iter().any(|(sign, _)| *sign != '+') {
        return None;
    }
    Some(Hashtag {
        tag,
        attributes: signed.into_iter().map(|(_, name)| name).collect(),
    })
}

impl TagPattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (tag, signed) = split_signed(text).ok_or_else(|| {
            format!("{text:?} is not an HXL tag pattern such as \"#adm2+code\" or \"#affected+refugees-f\"")
        })?;
        let mut pattern = TagPattern {
            tag,
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for (sign, name) in signed {
            if sign == '+' {
                pattern.include.push(name);
            } else {
                pattern.exclude.push(name);
            }
        }
        Ok(pattern)
    }

    pub(crate) fn matches(&self, column: &Hashtag) -> bool {
        column.tag == self.tag
            && self.include.iter().all(|a| column.attributes.contains(a))
            && !self.exclude.iter().any(|a| column.attributes.contains(a))
    }
}

/// Whether a row is the hashtag row: at least one hashtag, and hashtags in at least half
/// of the non-empty cells.
pub(crate) fn is_hashtag_row(cells: &[String]) -> bool {
    let non_empty = cells.iter().filter(|c| !c.trim().is_empty()).count();
    let tags = cells.iter().filter(|c| parse_hashtag(c).is_some()).count();
    tags > 0 && tags * 2 >= non_empty
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(text: &str) -> Hashtag {
        parse_hashtag(text).expect("a hashtag")
    }

    #[test]
    fn hashtags_are_normalised() {
        assert_eq!(tag(" #Adm2 +Code ").to_string(), "#adm2+code");
        assert_eq!(tag("#affected+refugees+ind").attributes.len(), 2);
        assert!(parse_hashtag("Kommun").is_none());
        assert!(parse_hashtag("#2abc").is_none());
        assert!(parse_hashtag("#org-x").is_none());
        assert!(parse_hashtag("#").is_none());
    }

    #[test]
    fn patterns_match_as_hxl_says() {
        let pattern = TagPattern::parse("#affected+refugees").expect("pattern");
        assert!(pattern.matches(&tag("#affected+refugees+ind")));
        assert!(!pattern.matches(&tag("#affected+ind")));
        assert!(!pattern.matches(&tag("#inneed+refugees")));
        let excluding = TagPattern::parse("#affected-f").expect("pattern");
        assert!(excluding.matches(&tag("#affected+m")));
        assert!(!excluding.matches(&tag("#affected+f")));
        assert!(TagPattern::parse("adm2").is_err());
    }

    #[test]
    fn a_hashtag_row_is_mostly_hashtags() {
        let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(is_hashtag_row(&row(&["#adm2+code", "", "#sector", "note"])));
        assert!(!is_hashtag_row(&row(&["Kommun", "Antal", "#sector"])));
        assert!(!is_hashtag_row(&row(&["", ""])));
    }
}
