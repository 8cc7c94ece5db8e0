//! The embedded files. Each carries its content type and a hash of its bytes, computed at
//! compile time, for the entity tag.

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// The name under `/assets/` (the page itself is `index.html`, served at `/`).
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
    /// FNV-1a over the body: not a security property, only "did the file change".
    hash: u64,
}

impl Asset {
    /// The strong entity tag, quoted.
    pub fn etag(&self) -> String {
        format!("\"{:016x}\"", self.hash)
    }
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JSON: &str = "application/json";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../assets/", $name)),
            hash: fnv1a(include_str!(concat!("../assets/", $name)).as_bytes()),
        }
    };
}

/// Every file of the page; the first is the page itself.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("i18n.js", JS),
    asset!("render.js", JS),
    asset!("replay.js", JS),
    asset!("app.css", CSS),
    asset!("i18n-en.json", JSON),
    asset!("i18n-sv.json", JSON),
    asset!("i18n-uk.json", JSON),
    asset!("favicon.svg", SVG),
];

/// The page.
pub fn index() -> &'static Asset {
    &ASSETS[0]
}

/// An asset by its name under `/assets/`. The page itself is not an asset: it lives at
/// `/`, so there is one address to bookmark.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().skip(1).find(|asset| asset.name == name)
}

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}
