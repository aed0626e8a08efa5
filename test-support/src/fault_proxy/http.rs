//! HTTP/1.1 as the proxy speaks it: a request read from a client, a response written back, and a
//! request forwarded to the emulator on a fresh connection. It knows messages, not AWS: only what
//! the SDKs and the emulator send (a `Content-Length` or chunked body, 1xx answers to skip, a HEAD
//! answer without its body), and the query-string and form fields of a request, decoded.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

/// A message's header fields, in order.
pub(crate) type Headers = Vec<(String, String)>;

pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Headers,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// A query-string or form-body parameter (awsQuery), decoded.
    pub(crate) fn param(&self, name: &str) -> Option<String> {
        self.raw_params()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| percent_decode(value))
    }

    /// Every query-string and form-body parameter (awsQuery), decoded, the first of a repeated
    /// name winning (as in [`Request::param`]).
    pub(crate) fn params(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut params = serde_json::Map::new();
        for (key, value) in self.raw_params() {
            let key = percent_decode(key);
            if !params.contains_key(&key) {
                params.insert(key, percent_decode(value).into());
            }
        }
        params
    }

    /// The query string's `key=value` pairs, then a form body's, still encoded.
    fn raw_params(&self) -> impl Iterator<Item = (&str, &str)> {
        let query = self.target.split_once('?').map_or("", |(_, q)| q);
        let form = match self.header("content-type") {
            Some(t) if t.starts_with("application/x-www-form-urlencoded") => {
                std::str::from_utf8(&self.body).unwrap_or("")
            }
            _ => "",
        };
        query
            .split('&')
            .chain(form.split('&'))
            .filter_map(|pair| pair.split_once('='))
    }

    /// The target's path, without its query string.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// An answer as AWS gives one: `Content-Type`, the `extra` headers, and a request id.
    pub(crate) fn aws(
        status: u16,
        content_type: &str,
        extra: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Self {
        let mut headers = vec![("Content-Type".to_owned(), content_type.to_owned())];
        headers.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        headers.push(("x-amzn-RequestId".into(), "fault-proxy".into()));
        Response {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Headers that describe one connection, not the message: the proxy sets its own.
fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Sends `request` to the emulator on `upstream` on a fresh connection; a 502 if it cannot be
/// reached.
pub(crate) fn forward(upstream: u16, request: &Request) -> Response {
    let attempt = || -> std::io::Result<Response> {
        let mut upstream = TcpStream::connect(("127.0.0.1", upstream))?;
        let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
        for (name, value) in &request.headers {
            if !is_hop_by_hop(name) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            request.body.len()
        ));
        upstream.write_all(head.as_bytes())?;
        upstream.write_all(&request.body)?;
        let mut reader = BufReader::new(upstream);
        loop {
            let (start, headers) = read_head(&mut reader)?.ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no response")
            })?;
            let mut parts = start.splitn(3, ' ');
            let status: u16 = parts.nth(1).and_then(|s| s.parse().ok()).unwrap_or(502);
            if (100..200).contains(&status) {
                continue;
            }
            // A HEAD answer (S3's HeadObject) has the headers of a body it does not send.
            let body = if request.method == "HEAD" {
                Vec::new()
            } else {
                read_body(&mut reader, &headers, true)?
            };
            return Ok(Response {
                status,
                headers: headers
                    .into_iter()
                    .filter(|(name, _)| !is_hop_by_hop(name))
                    .collect(),
                body,
            });
        }
    };
    attempt().unwrap_or_else(|err| Response {
        status: 502,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: format!("fault proxy: moto did not answer: {err}").into_bytes(),
    })
}

/// The next request on a client connection; `None` at its end.
pub(crate) fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let Some((start, headers)) = read_head(reader)? else {
        return Ok(None);
    };
    let mut parts = start.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let body = read_body(reader, &headers, false)?;
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    }))
}

/// The start line and headers of a message; `None` at a clean end of stream.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<(String, Headers)>> {
    let mut start = String::new();
    if reader.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Ok(Some((start.trim_end().to_owned(), headers)))
}

/// A message body by `Transfer-Encoding: chunked` or `Content-Length`; without either, a response
/// body runs to the end of the stream and a request has none.
fn read_body(
    reader: &mut impl BufRead,
    headers: &[(String, String)],
    to_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if header(headers, "transfer-encoding").is_some_and(|te| te.contains("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let hex = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {hex:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                let mut line = String::new();
                while reader.read_line(&mut line)? > 0 && !line.trim_end().is_empty() {
                    line.clear();
                }
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    }
    if let Some(length) = header(headers, "content-length").and_then(|l| l.parse::<usize>().ok()) {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if to_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

/// A form or URL value, `%XX` and `+` decoded.
pub(crate) fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (byte, _, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
