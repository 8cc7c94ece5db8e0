//! A TCP relay for tests of connections that die without closing.
//!
//! A suspended laptop, a dropped VPN or a crashed middlebox leaves a connection open with
//! nothing more arriving: no FIN, no reset. Nothing on loopback does that by itself, so
//! tests put a [`Relay`] between a client and a real server (nats-server, the Samla API)
//! and silence it: the relay then reads on but passes nothing either way.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A TCP relay to one address, on a free loopback port; see the module doc.
#[derive(Debug)]
pub struct Relay {
    address: SocketAddr,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Every connection made.
    held: Mutex<Vec<Held>>,
    /// Bytes the target may still send to clients, all connections together; at zero
    /// every connection, present or future, passes nothing more.
    budget: AtomicU64,
}

impl Relay {
    /// A relay to `target` that passes everything until told otherwise.
    pub fn start(target: SocketAddr) -> Relay {
        Relay::with_budget(target, u64::MAX)
    }

    /// A relay to `target` that dies, without closing anything, once `bytes` have passed
    /// from the target to its clients: a network lost in the middle of a transfer.
    pub fn with_budget(target: SocketAddr, bytes: u64) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let address = listener.local_addr().expect("the relay's address");
        let shared = Arc::new(Shared {
            held: Mutex::new(Vec::new()),
            budget: AtomicU64::new(bytes),
        });
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(target) else {
                    continue; // the client sees its connection closed
                };
                let silenced = Arc::new(AtomicBool::new(false));
                let (Ok(client_end), Ok(server_end)) = (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                accepting
                    .held
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Held {
                        silenced: Arc::clone(&silenced),
                        ends: [client_end, server_end],
                    });
                for (from, to, downstream) in [(&client, &server, false), (&server, &client, true)]
                {
                    let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) else {
                        continue;
                    };
                    let link = Link {
                        silenced: Arc::clone(&silenced),
                        shared: Arc::clone(&accepting),
                        downstream,
                    };
                    std::thread::spawn(move || link.pass(from, to));
                }
            }
        });
        Relay { address, shared }
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Silences every connection held now; connections made later relay as usual.
    pub fn silence_held(&self) {
        for held in self.held().iter() {
            held.silenced.store(true, Ordering::SeqCst);
        }
    }

    /// The network is back: the connections held now are closed at both ends (what they
    /// lost cannot be resent), and new ones relay everything.
    pub fn revive(&self) {
        for held in self.held().iter() {
            held.silenced.store(true, Ordering::SeqCst);
            for end in &held.ends {
                let _ = end.shutdown(Shutdown::Both);
            }
        }
        self.shared.budget.store(u64::MAX, Ordering::SeqCst);
    }

    /// Whether a relay made with a budget has passed all of it.
    pub fn spent(&self) -> bool {
        self.shared.budget.load(Ordering::SeqCst) == 0
    }

    /// How many connections clients made through the relay.
    pub fn connections(&self) -> usize {
        self.held().len()
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Vec<Held>> {
        self.shared.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One connection through the relay.
#[derive(Debug)]
struct Held {
    /// Set, the connection passes nothing more.
    silenced: Arc<AtomicBool>,
    /// Its two ends (the client's and the target's), to close them on [`Relay::revive`].
    ends: [TcpStream; 2],
}

/// One direction of one connection.
struct Link {
    silenced: Arc<AtomicBool>,
    shared: Arc<Shared>,
    /// From the target to the client (what the budget counts).
    downstream: bool,
}

impl Link {
    fn dead(&self) -> bool {
        self.silenced.load(Ordering::SeqCst) || self.shared.budget.load(Ordering::SeqCst) == 0
    }

    /// Copies `from` to `to` until `from` ends; once silenced, reads on and passes nothing.
    fn pass(self, mut from: TcpStream, mut to: TcpStream) {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if self.dead() {
                continue;
            }
            let n = if self.downstream {
                self.take_budget(n)
            } else {
                n
            };
            if to.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        if !self.dead() {
            let _ = to.shutdown(Shutdown::Write);
        }
    }

    /// Takes up to `n` bytes from the budget; returns how many may pass.
    fn take_budget(&self, n: usize) -> usize {
        let wanted = n as u64;
        let mut left = self.shared.budget.load(Ordering::SeqCst);
        loop {
            let granted = wanted.min(left);
            match self.shared.budget.compare_exchange(
                left,
                left - granted,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return granted as usize,
                Err(now) => left = now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server: returns what it reads on each connection.
    fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().expect("clone");
                    let mut reader = stream;
                    let _ = std::io::copy(&mut reader, &mut writer);
                });
            }
        });
        address
    }

    fn round_trip(stream: &mut TcpStream, text: &[u8]) -> Option<Vec<u8>> {
        stream.write_all(text).ok()?;
        let mut back = vec![0; text.len()];
        stream.read_exact(&mut back).ok()?;
        Some(back)
    }

    fn connect(relay: &Relay) -> TcpStream {
        let stream = TcpStream::connect(relay.address()).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_millis(300)))
            .expect("timeout");
        stream
    }

    #[test]
    fn a_silenced_connection_stays_open_and_passes_nothing_while_new_ones_relay() {
        let relay = Relay::start(echo());
        let mut first = connect(&relay);
        assert_eq!(
            round_trip(&mut first, b"hello").as_deref(),
            Some(&b"hello"[..])
        );
        relay.silence_held();
        let mut buffer = [0u8; 8];
        first.write_all(b"again").expect("still open for writing");
        let error = first.read(&mut buffer).expect_err("nothing came back");
        assert!(
            matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "silent, not closed: {error}"
        );
        let mut second = connect(&relay);
        assert_eq!(
            round_trip(&mut second, b"new").as_deref(),
            Some(&b"new"[..])
        );
        assert_eq!(relay.connections(), 2);
    }

    #[test]
    fn a_budget_passes_that_many_bytes_then_nothing_on_any_connection() {
        let relay = Relay::with_budget(echo(), 6);
        let mut first = connect(&relay);
        assert_eq!(
            round_trip(&mut first, b"abcd").as_deref(),
            Some(&b"abcd"[..])
        );
        first.write_all(b"efgh").expect("write");
        let mut back = [0u8; 4];
        let mut got = 0;
        while let Ok(n) = first.read(&mut back[got..]) {
            if n == 0 {
                break;
            }
            got += n;
        }
        assert_eq!(&back[..got], b"ef", "only the budget's last two bytes");
        let mut second = connect(&relay);
        assert_eq!(
            round_trip(&mut second, b"x"),
            None,
            "a new connection is dead too"
        );
        assert!(relay.spent());

        relay.revive();
        assert_eq!(
            first.read(&mut back).ok(),
            Some(0),
            "a held connection is closed"
        );
        let mut third = connect(&relay);
        assert_eq!(
            round_trip(&mut third, b"back").as_deref(),
            Some(&b"back"[..])
        );
    }
}
