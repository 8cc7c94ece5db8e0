//! Headless Chromium over WebDriver: Debian's `chromium` driven by its `chromedriver`,
//! never a downloaded browser. One chromedriver per test, one session (browser, fresh
//! profile) per simulated user.
//!
//! Clean-up: chromedriver runs in a process group of its own with the browsers it starts,
//! and the whole group is killed when [`Browser`] drops, also when a test panics; if the
//! test process itself dies, `setpriv --pdeathsig KILL` takes chromedriver down.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a wait on the page may take before the test fails.
pub const PAGE_DEADLINE: Duration = Duration::from_secs(20);

/// A running chromedriver.
#[derive(Debug)]
pub struct Browser {
    driver: Child,
    url: String,
    profiles: Vec<tempfile::TempDir>,
    screenshots: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and waits until it is ready.
    pub async fn start() -> Browser {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: run deploy/install-chromium.sh (Debian's chromium and chromium-driver)"
            );
        }
        let port = free_port();
        let mut command = if Path::new("/usr/bin/setpriv").exists() {
            let mut command = Command::new("/usr/bin/setpriv");
            command.args(["--pdeathsig", "KILL", CHROMEDRIVER]);
            command
        } else {
            Command::new(CHROMEDRIVER)
        };
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let driver = command.spawn().expect("start chromedriver");
        let browser = Browser {
            driver,
            url: format!("http://127.0.0.1:{port}"),
            profiles: Vec::new(),
            screenshots: screenshot_dir(),
        };
        browser.wait_ready().await;
        browser
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let ready = client
                .get(format!("{}/status", self.url))
                .send()
                .await
                .ok()
                .map(|response| response.json::<Value>());
            if let Some(body) = ready
                && let Ok(body) = body.await
                && body["value"]["ready"] == true
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not become ready within 15 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Where screenshots go: `<target>/dashboard-screenshots/`.
    pub fn screenshots(&self) -> &Path {
        &self.screenshots
    }

    /// A new browser with a fresh profile, its window `width` × `height`, English UI.
    pub async fn session(&mut self, name: &str, width: u32, height: u32) -> Page {
        let profile = tempfile::tempdir().expect("a profile folder");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--lang=en-GB".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("start a Chromium session: {e}"));
        self.profiles.push(profile);
        Page {
            client,
            name: name.to_owned(),
            screenshots: self.screenshots.clone(),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and every browser it started share its process group.
        let pid = rustix::process::Pid::from_child(&self.driver);
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// `<target dir>/dashboard-screenshots`, from the test binary's own path
/// (`<target>/debug/deps/<binary>`), so it follows CARGO_TARGET_DIR.
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = target.join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir
}

/// One browser session showing one page.
#[derive(Debug)]
pub struct Page {
    pub client: Client,
    pub name: String,
    screenshots: PathBuf,
}

impl Page {
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("{}: open {url}: {e}", self.name));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", self.name))
    }

    /// An element's `data-<name>` (camelCase name), or null.
    pub async fn data(&self, id: &str, name: &str) -> Option<String> {
        self.js(
            "const el = document.getElementById(arguments[0]); return el ? (el.dataset[arguments[1]] ?? null) : null;",
            vec![json!(id), json!(name)],
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    /// An element's visible text, or null when it does not exist.
    pub async fn text(&self, id: &str) -> Option<String> {
        self.js(
            "const el = document.getElementById(arguments[0]); return el ? el.textContent.trim() : null;",
            vec![json!(id)],
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    /// Whether an element exists and is not hidden (itself or by an ancestor).
    pub async fn shown(&self, id: &str) -> bool {
        self.js(
            "const el = document.getElementById(arguments[0]); return !!el && el.getClientRects().length > 0;",
            vec![json!(id)],
        )
        .await
            == true
    }

    /// Whether some element matches a CSS selector.
    pub async fn has(&self, selector: &str) -> bool {
        self.js(
            "return document.querySelector(arguments[0]) !== null;",
            vec![json!(selector)],
        )
        .await
            == true
    }

    pub async fn click(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("{}: no #{id}: {e}", self.name))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: click #{id}: {e}", self.name));
    }

    pub async fn click_css(&self, selector: &str) {
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("{}: no {selector}: {e}", self.name))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{}: click {selector}: {e}", self.name));
    }

    pub async fn type_into(&self, id: &str, text: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("{}: no #{id}: {e}", self.name))
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("{}: type into #{id}: {e}", self.name));
    }

    pub async fn select(&self, id: &str, value: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("{}: no #{id}: {e}", self.name))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("{}: select {value} in #{id}: {e}", self.name));
    }

    /// Saves a screenshot as `<folder>/<page>-<what>.png`; its path.
    pub async fn screenshot(&self, what: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("{}: screenshot: {e}", self.name));
        let path = self.screenshots.join(format!("{}-{what}.png", self.name));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Polls `poll` about every 50 ms until it yields `Some`, and returns that. After
    /// [`PAGE_DEADLINE`] the test fails with `what`, a screenshot and the page's text.
    pub async fn wait_for<T>(&self, what: &str, mut poll: impl AsyncFnMut() -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + PAGE_DEADLINE;
        loop {
            if let Some(value) = poll().await {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                let shot = self.screenshot("failure").await;
                let text = self
                    .js(
                        "return document.body ? document.body.innerText : '';",
                        vec![],
                    )
                    .await;
                let text: String = text.as_str().unwrap_or("").chars().take(3000).collect();
                panic!(
                    "{}: waited {PAGE_DEADLINE:?} for {what}\nscreenshot: {}\npage text:\n{text}",
                    self.name,
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `poll` is true.
    pub async fn wait_until(&self, what: &str, mut poll: impl AsyncFnMut() -> bool) {
        self.wait_for(what, async || poll().await.then_some(()))
            .await;
    }

    /// Ends the browser session (the browser quits).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
