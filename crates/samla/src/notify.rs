//! systemd's readiness protocol (`Type=notify`): a datagram to `$NOTIFY_SOCKET` saying
//! `READY=1` once the replica serves, `STOPPING=1` when it drains. Without the variable
//! (not under systemd) nothing happens.

use std::os::unix::net::UnixDatagram;

/// Sends `state` (e.g. `READY=1\nSTATUS=serving`) to systemd, if it asked for it.
pub fn notify(state: &str) {
    if let Some(path) = std::env::var_os("NOTIFY_SOCKET") {
        notify_to(std::path::Path::new(&path), state);
    }
}

/// Sends `state` to the socket at `path` (`@name` for an abstract socket).
pub fn notify_to(path: &std::path::Path, state: &str) {
    let path = path.as_os_str();
    let sent = UnixDatagram::unbound().and_then(|socket| {
        let bytes = path.as_encoded_bytes();
        if let Some(name) = bytes.strip_prefix(b"@") {
            // An abstract socket (Linux): `@name`.
            use std::os::linux::net::SocketAddrExt as _;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(state.as_bytes(), &address)
        } else {
            socket.send_to(state.as_bytes(), path)
        }
    });
    if let Err(error) = sent {
        tracing::warn!(%error, "could not notify systemd");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ready_datagram_reaches_the_notify_socket() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notify.sock");
        let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind");
        super::notify_to(&path, "READY=1");
        let mut buffer = [0u8; 64];
        let read = socket.recv(&mut buffer).expect("a datagram");
        assert_eq!(&buffer[..read], b"READY=1");
    }
}
