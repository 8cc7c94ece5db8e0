//! A minimal HTTP/1.1 client on a tokio `TcpStream`: keep-alive `POST` with a known
//! body, and a `GET` whose body is read as Server-Sent Events.
//!
//! Why not reqwest or hyper's client: the client shares two cores with the gateway and
//! nats-server it measures, so it should cost next to nothing — one write per request, a
//! buffered read of the answer, no connection pool, no TLS, no redirects. It speaks just
//! enough HTTP/1.1 for the gateway (axum on hyper): `Content-Length` and `chunked`
//! bodies, `Connection: close`. Anything else is an error, never a guess.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The longest status line or header line accepted.
const MAX_LINE: usize = 16 * 1024;
/// The largest body accepted (the reply to 1,000 events is well under this).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// What went wrong on the wire.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the server's answer is not HTTP/1.1 as expected: {0}")]
    Protocol(String),
    #[error("the server closed the connection")]
    Closed,
}

/// An answer: status and body.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One keep-alive connection.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: BufReader<TcpStream>,
    host: String,
    request: Vec<u8>,
    /// The server said `Connection: close`: the next request needs a new connection.
    closed: bool,
}

/// How a response body is framed.
enum Framing {
    Length(usize),
    Chunked,
    /// Until the server closes (HTTP/1.0 style); only for streams.
    UntilClose,
}

impl Connection {
    pub(crate) async fn connect(address: SocketAddr) -> Result<Self, HttpError> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream: BufReader::with_capacity(64 * 1024, stream),
            host: address.to_string(),
            request: Vec::with_capacity(64 * 1024),
            closed: false,
        })
    }

    /// `POST path` with a bearer token and a JSON body; waits for the whole answer.
    pub(crate) async fn post_json(
        &mut self,
        path: &str,
        token: &str,
        body: &[u8],
    ) -> Result<Response, HttpError> {
        if self.closed {
            return Err(HttpError::Closed);
        }
        self.request.clear();
        self.request.extend_from_slice(
            format!(
                "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                self.host,
                body.len()
            )
            .as_bytes(),
        );
        self.request.extend_from_slice(body);
        self.stream.get_mut().write_all(&self.request).await?;
        let (status, framing) = self.read_head().await?;
        let body = match framing {
            Framing::Length(length) => {
                let mut body = vec![0; length];
                self.stream.read_exact(&mut body).await?;
                body
            }
            Framing::Chunked => {
                let mut body = Vec::new();
                while let Some(chunk) = self.read_chunk().await? {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_BODY {
                        return Err(HttpError::Protocol("the body is too large".to_owned()));
                    }
                }
                body
            }
            Framing::UntilClose => {
                let mut body = Vec::new();
                self.stream.read_to_end(&mut body).await?;
                self.closed = true;
                body
            }
        };
        Ok(Response { status, body })
    }

    /// `GET path` with a bearer token, answered by an event stream. `Err` unless the
    /// status is 200.
    pub(crate) async fn open_events(
        mut self,
        path: &str,
        token: &str,
    ) -> Result<EventStream, HttpError> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Accept: text/event-stream\r\n\r\n",
            self.host
        );
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let (status, framing) = self.read_head().await?;
        if status != 200 {
            return Err(HttpError::Protocol(format!(
                "GET {path} answered {status}, not 200"
            )));
        }
        let chunked = match framing {
            Framing::Chunked => true,
            Framing::UntilClose => false,
            Framing::Length(_) => {
                return Err(HttpError::Protocol(
                    "an event stream with a fixed length".to_owned(),
                ));
            }
        };
        Ok(EventStream {
            connection: self,
            chunked,
            text: Vec::new(),
        })
    }

    /// Reads the status line and headers; returns the status and the body's framing.
    async fn read_head(&mut self) -> Result<(u16, Framing), HttpError> {
        let mut line = String::new();
        self.read_line(&mut line).await?;
        let status = line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| line.strip_prefix("HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| HttpError::Protocol(format!("status line {:?}", line.trim_end())))?;
        let mut length = None;
        let mut chunked = false;
        loop {
            line.clear();
            self.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                return Err(HttpError::Protocol(format!("header line {header:?}")));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| HttpError::Protocol(format!("content-length {value:?}")))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
                if !chunked {
                    return Err(HttpError::Protocol(format!("transfer-encoding {value:?}")));
                }
            } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close")
            {
                self.closed = true;
            }
        }
        let framing = match (chunked, length) {
            (true, _) => Framing::Chunked,
            (false, Some(length)) if length <= MAX_BODY => Framing::Length(length),
            (false, Some(length)) => {
                return Err(HttpError::Protocol(format!("a body of {length} bytes")));
            }
            // 1xx, 204 and 304 have no body; anything else without a length runs to close.
            (false, None) if status < 200 || status == 204 || status == 304 => Framing::Length(0),
            (false, None) => Framing::UntilClose,
        };
        Ok((status, framing))
    }

    /// One line, CRLF included; `Closed` at end of stream.
    async fn read_line(&mut self, line: &mut String) -> Result<(), HttpError> {
        let read = (&mut self.stream)
            .take(MAX_LINE as u64)
            .read_line(line)
            .await?;
        if read == 0 {
            return Err(HttpError::Closed);
        }
        if !line.ends_with('\n') {
            return Err(HttpError::Protocol("a line without an end".to_owned()));
        }
        Ok(())
    }

    /// The next chunk of a chunked body; `None` after the last one (and its trailers).
    async fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
        let mut line = String::new();
        self.read_line(&mut line).await?;
        let size_text = line.trim_end().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size_text.trim(), 16)
            .map_err(|_| HttpError::Protocol(format!("chunk size {size_text:?}")))?;
        if size > MAX_BODY {
            return Err(HttpError::Protocol(format!("a chunk of {size} bytes")));
        }
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                line.clear();
                self.read_line(&mut line).await?;
                if line.trim_end().is_empty() {
                    return Ok(None);
                }
            }
        }
        let mut chunk = vec![0; size + 2];
        self.stream.read_exact(&mut chunk).await?;
        if !chunk.ends_with(b"\r\n") {
            return Err(HttpError::Protocol("a chunk without its CRLF".to_owned()));
        }
        chunk.truncate(size);
        Ok(Some(chunk))
    }
}

/// A Server-Sent Events body, read event by event.
#[derive(Debug)]
pub(crate) struct EventStream {
    connection: Connection,
    chunked: bool,
    /// Bytes received and not yet split into events.
    text: Vec<u8>,
}

/// One event as it arrived: its `id` (if any) and when its last byte was read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    pub id: Option<u64>,
    pub at: Instant,
}

impl EventStream {
    /// The next event (comments and keep-alives are skipped); `None` when the stream ends.
    pub(crate) async fn next(&mut self) -> Result<Option<Arrival>, HttpError> {
        loop {
            if let Some(end) = find_blank_line(&self.text) {
                let at = Instant::now();
                let block: Vec<u8> = self.text.drain(..end).collect();
                let block = String::from_utf8_lossy(&block);
                let mut id = None;
                let mut data_or_event = false;
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("id:") {
                        id = value.trim().parse().ok();
                        data_or_event = true;
                    } else if line.starts_with("data:") || line.starts_with("event:") {
                        data_or_event = true;
                    }
                }
                if data_or_event {
                    return Ok(Some(Arrival { id, at }));
                }
                continue;
            }
            let more = if self.chunked {
                self.connection.read_chunk().await?
            } else {
                let mut buffer = vec![0; 16 * 1024];
                let read = self.connection.stream.read(&mut buffer).await?;
                buffer.truncate(read);
                (read > 0).then_some(buffer)
            };
            match more {
                Some(bytes) => self.text.extend_from_slice(&bytes),
                None => return Ok(None),
            }
        }
    }
}

/// The end (exclusive, blank line included) of the first event block in `text`.
fn find_blank_line(text: &[u8]) -> Option<usize> {
    (0..text.len()).find_map(|index| {
        if text[index..].starts_with(b"\n\n") {
            Some(index + 2)
        } else if text[index..].starts_with(b"\r\n\r\n") {
            Some(index + 4)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_blocks_end_at_a_blank_line() {
        assert_eq!(find_blank_line(b"id: 1\ndata: x\n\nid: 2"), Some(15));
        assert_eq!(find_blank_line(b"id: 1\r\n\r\n"), Some(9));
        assert_eq!(find_blank_line(b"id: 1\ndata: x\n"), None);
    }
}
