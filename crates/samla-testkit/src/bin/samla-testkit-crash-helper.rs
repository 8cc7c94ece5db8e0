//! A process that starts a nats-server through the test kit and then dies without running
//! destructors, so the watchdog test can check the server dies with it.
//!
//! Usage: `samla-testkit-crash-helper abort|panic`. Prints `pid=<server pid>
//! port=<client port>` on one line, then:
//! - `abort`: a local server, then `std::process::abort()` (no unwinding, no destructors);
//! - `panic`: the never-dropped `NatsServer::shared()`, then a panic in `main`.

use std::io::Write;

use samla_testkit::NatsServer;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let (pid, port, _local) = match mode.as_str() {
        "abort" => {
            let server = NatsServer::start().unwrap_or_else(|error| fail(&error.to_string()));
            let pid = server.pid().unwrap_or_default();
            (pid, server.port(), Some(server))
        }
        "panic" => {
            let server = NatsServer::shared();
            (server.pid().unwrap_or_default(), server.port(), None)
        }
        _ => fail("usage: samla-testkit-crash-helper abort|panic"),
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "pid={pid} port={port}");
    let _ = stdout.flush();
    if mode == "abort" {
        std::process::abort();
    }
    panic!("samla-testkit-crash-helper: deliberate panic with a live shared server");
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}
