//! Small, dependency-free helpers: free loopback ports and a one-shot HTTP/1.0 GET for
//! the monitoring endpoint (an HTTP client crate would be heavier than the need).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use crate::TestkitError;

/// `count` distinct free ports on 127.0.0.1. All listeners are held until every port is
/// chosen (so the ports differ), then dropped; another process may grab one in between,
/// which the callers handle by retrying a start once on "address already in use".
pub(crate) fn free_ports(count: usize) -> Result<Vec<u16>, TestkitError> {
    let listeners = (0..count)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TestkitError::environment("bind a free port on 127.0.0.1", error))?;
    listeners
        .iter()
        .map(|listener| listener.local_addr().map(|address| address.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TestkitError::environment("read a bound port", error))
}

/// The answer to a GET: status code and body.
#[derive(Debug)]
pub(crate) struct HttpAnswer {
    pub status: u16,
    pub body: String,
}

/// `GET path` on `127.0.0.1:port` over HTTP/1.0, so the server closes the connection
/// after the answer and reading to the end is the whole message. `None` on any failure
/// (refused, timeout, garbage): callers poll.
pub(crate) fn http_get(port: u16, path: &str) -> Option<HttpAnswer> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&address, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    // "HTTP/1.1 200 OK"
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(HttpAnswer {
        status,
        body: body.to_string(),
    })
}

/// Whether something accepts connections on 127.0.0.1:port.
pub fn port_is_open(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
}

/// Whether the process is gone: no `/proc/<pid>`, or only a zombie waiting to be reaped
/// (a zombie holds no ports, files or memory, and which process reaps it is not ours to
/// decide once its parent is dead).
pub fn process_is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the parenthesised command name: "1234 (nats-server) Z ...".
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}
