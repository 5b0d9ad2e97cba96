//! The upstream half of HTTP/1.1, written for the one thing a reverse proxy does with it: send a
//! request whose head the server side has already parsed, and read the answer back.
//!
//! Why our own codec rather than hyper's client: the request is already parsed (a
//! [`crate::message::RequestHead`]), so the client side only has to write it out and parse one
//! response. hyper's client did that
//! through a second dispatcher, a request channel and a oneshot per request, and its parsed
//! response then had its hop-by-hop headers removed by us; together about 12k of the 33k
//! instructions a proxied request cost (`bench/proxy.sh --instructions`). Here the head is
//! written in one pass, and the response head is parsed by `httparse` into [`ReceivedFields`]:
//! the head's bytes and where each end-to-end field sits in them, hop-by-hop headers left out
//! on the way, nothing copied.
//!
//! The functions are pure (bytes in, bytes or a parsed head out); [`crate::pool`] does the I/O.
//! Message framing follows RFC 9112 section 6: no body for answers to `HEAD` and for 1xx, 204
//! and 304; `Transfer-Encoding` ending in `chunked` before `Content-Length`; a response with
//! neither is read until the upstream closes. Anything ambiguous (two different lengths, a
//! malformed chunk) is an error, never a guess: the proxy answers 502 and drops the connection.

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName};
use http::{Method, StatusCode};

use crate::message::FieldList;

/// Most response headers accepted (hyper's client default too).
pub const MAX_RESPONSE_HEADERS: usize = 100;
/// Largest response head accepted.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Longest chunk-size line (size plus extensions) and longest trailer section accepted.
const MAX_CHUNK_LINE: usize = 4 * 1024;
const MAX_TRAILERS: usize = 16 * 1024;

/// How the request body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFraming {
    /// No body and no length header (a `GET` without a body).
    None,
    /// `Content-Length: n` and exactly n bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`: the length is not known up front.
    Chunked,
}

/// Headers the proxy sets on a forwarded request, each written in place of whatever the client
/// sent under that name (`X-Forwarded-*`, `Host`, generated ids, the shadow marker); a name
/// without a value only removes the client's. Empty slots are skipped.
pub type Replacements<'a> = [Option<(&'a HeaderName, Option<&'a [u8]>)>; 8];

/// Writes the request line and headers.
///
/// Left out of the client's fields: hop-by-hop headers and those its `Connection` names, the
/// framing headers (`Content-Length`, `Transfer-Encoding`: written from `framing` instead),
/// `Expect` (the proxy already told the client to go on and sends the body either way), and
/// any name in `replacements`, whose values are written instead. The rest go out as the client
/// spelled them. `host` is written when neither carries a `Host`.
pub fn encode_request_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    fields: &FieldList,
    replacements: &Replacements<'_>,
    host: &str,
    framing: RequestFraming,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    let replaced = |name: &[u8]| {
        replacements
            .iter()
            .flatten()
            .any(|(r, _)| name.eq_ignore_ascii_case(r.as_str().as_bytes()))
    };
    let connection_names = lists_other_headers(fields);
    let mut host_written = replacements
        .iter()
        .flatten()
        .any(|(name, value)| *name == header::HOST && value.is_some());
    for (name, value) in fields.iter() {
        if Role::of(name) != Role::EndToEnd
            || replaced(name)
            || (connection_names && named_by_connection(fields, name))
        {
            continue;
        }
        host_written |= name.eq_ignore_ascii_case(b"host");
        put_field(out, name, value);
    }
    for (name, value) in replacements.iter().flatten() {
        if let Some(value) = value {
            put_field(out, name.as_str().as_bytes(), value);
        }
    }
    if !host_written {
        put_field(out, b"host", host.as_bytes());
    }
    match framing {
        RequestFraming::None => {}
        RequestFraming::Length(length) => {
            put_field(out, b"content-length", format_u64(length, &mut [0; 20]));
        }
        RequestFraming::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    out.extend_from_slice(b"\r\n");
}

/// The elements of a comma-separated header value, trimmed (empty ones included).
pub(crate) fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(<[u8]>::trim_ascii)
}

/// Whether a `Connection` header names any header (beyond `keep-alive` and `close`): those are
/// hop-by-hop too. Rare: most messages have no `Connection` or only `keep-alive`, so the common
/// case costs one pass over the names and no look-up.
pub fn lists_other_headers(fields: &FieldList) -> bool {
    fields.get_all("connection").any(|value| {
        list_items(value).any(|token| {
            !token.is_empty()
                && !token.eq_ignore_ascii_case(b"keep-alive")
                && !token.eq_ignore_ascii_case(b"close")
        })
    })
}

/// Whether `Connection` names `name` (any case), so it must not travel on. `Host` is never
/// dropped this way.
pub fn named_by_connection(fields: &FieldList, name: &[u8]) -> bool {
    !name.eq_ignore_ascii_case(b"host")
        && fields
            .get_all("connection")
            .any(|value| list_items(value).any(|token| token.eq_ignore_ascii_case(name)))
}

/// Writes one `name: value` line.
pub(crate) fn put_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Appends one chunk of a chunked body (`data` must not be empty: an empty chunk ends the body).
pub fn encode_chunk(out: &mut Vec<u8>, data: &[u8]) {
    debug_assert!(!data.is_empty());
    let size = data.len();
    let digits = usize::BITS as usize / 4 - size.leading_zeros() as usize / 4;
    for shift in (0..digits.max(1)).rev() {
        out.push(b"0123456789abcdef"[(size >> (shift * 4)) & 0xf]);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The last chunk of a chunked body, with no trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// `value` in decimal digits, written at the end of `buffer`.
pub(crate) fn format_u64(mut value: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buffer[start..];
        }
    }
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFraming {
    /// No body (answer to `HEAD`, 204, 304, or `Content-Length: 0`).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Everything until the upstream closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug)]
pub struct ResponseHead {
    /// Status code.
    pub status: StatusCode,
    /// End-to-end headers only: hop-by-hop ones and those `Connection` names are left out.
    pub fields: ReceivedFields,
    /// How the body that follows is delimited.
    pub framing: ResponseFraming,
    /// Whether the connection may carry another request once this answer is read.
    pub keep_alive: bool,
}

/// Why a response head was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// More than [`MAX_HEAD_BYTES`].
    #[error("the upstream's response head is larger than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    /// More than [`MAX_RESPONSE_HEADERS`] headers.
    #[error("the upstream's response has more than {MAX_RESPONSE_HEADERS} headers")]
    TooManyHeaders,
    /// Not a valid HTTP/1.x response head.
    #[error("invalid response from the upstream: {0}")]
    Invalid(&'static str),
}

/// The end-to-end header fields of an upstream's answer, as it sent them: the head's bytes and
/// where each field kept sits in them.
///
/// Why not an `http::HeaderMap`: most answers go to the client through [`crate::fast_path`],
/// which writes the fields straight back out, and building a map first (each name looked up
/// and hashed, each value wrapped, the map dropped after) cost about 2,500 instructions per
/// request; kept as received, a proxied request costs 1,560 fewer in all (22,030 to 20,470 at
/// one connection, 20,500 to 19,240 at 64). Readers that want a map (hyper's server side, the
/// shadow comparison) get one from [`ReceivedFields::merged_with`]. Every name and value here
/// passed `httparse`, whose rules for both are the ones `HeaderName` and `HeaderValue` check (a
/// property test holds them to it).
///
/// An answer carries them with its body ([`crate::body::ProxyBody::received_fields`]), beside
/// the headers the proxy itself adds in the answer's map: in the `http` extensions they would
/// cost three allocations and a hash-map insert per request (about 1,000 instructions).
///
/// Boxed, and nothing at all when no field was kept: the body carries it through several
/// moves per request, and eight bytes move cheaper than the sixty-four of a [`FieldList`].
#[derive(Debug, Clone, Default)]
pub struct ReceivedFields(Option<Box<FieldList>>);

impl ReceivedFields {
    fn new(head: Bytes, spans: Vec<[u32; 4]>) -> Self {
        if spans.is_empty() {
            return ReceivedFields(None);
        }
        ReceivedFields(Some(Box::new(FieldList::from_spans(head, spans))))
    }

    /// The fields, names as the upstream spelled them.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.0.iter().flat_map(|fields| fields.iter())
    }

    /// Whether a field of this name was received.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.0
            .as_ref()
            .is_some_and(|fields| fields.contains(name.as_str()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |fields| fields.len())
    }

    /// Whether no field was kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// All of an answer's headers in one map: these fields, then the ones the proxy `added`.
    pub fn merged_with(&self, added: &HeaderMap) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(self.len() + added.len());
        if let Some(fields) = &self.0 {
            fields.append_to(&mut headers);
        }
        for (name, value) in added {
            headers.append(name.clone(), value.clone());
        }
        headers
    }
}

/// Hop-by-hop headers: they describe one connection, not the message.
pub const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Parses the response head at the front of `buf`, skipping interim (1xx) answers. Returns
/// `Ok(None)` when more bytes are needed; on success the head's bytes are split off `buf`, which
/// then starts with the body.
pub fn parse_response_head(
    buf: &mut BytesMut,
    request_method: &Method,
) -> Result<Option<ResponseHead>, HeadError> {
    let mut fields: Fields = [[0; 4]; MAX_RESPONSE_HEADERS];
    loop {
        let Some(parsed) = parse_one(buf, &mut fields)? else {
            return Ok(None);
        };
        let head_bytes = buf.split_to(parsed.length).freeze();
        if parsed.status / 100 == 1 {
            if parsed.status == 101 {
                return Err(HeadError::Invalid(
                    "101 Switching Protocols was not asked for",
                ));
            }
            continue; // 100 Continue, 103 Early Hints: the real answer follows.
        }
        return build_head(&parsed, &fields[..parsed.count], head_bytes, request_method).map(Some);
    }
}

/// The status line of a parsed head; where each header's name and value sit is in the
/// caller's `[name start, name end, value start, value end]` array.
struct StatusLine {
    length: usize,
    status: u16,
    minor_version: u8,
    count: usize,
}

type Fields = [[u32; 4]; MAX_RESPONSE_HEADERS];

fn parse_one(buf: &[u8], fields: &mut Fields) -> Result<Option<StatusLine>, HeadError> {
    let mut storage = [const { std::mem::MaybeUninit::uninit() }; MAX_RESPONSE_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut storage,
    );
    let length = match parsed {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD_BYTES => {
            return Err(HeadError::TooLarge);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(error) => return Err(HeadError::Invalid(error.description_str())),
    };
    if length > MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    let base = buf.as_ptr() as usize;
    // Within the head, so below MAX_HEAD_BYTES: fits in a u32.
    let offset = |slice: &[u8]| (slice.as_ptr() as usize - base) as u32;
    for (slot, field) in fields.iter_mut().zip(response.headers.iter()) {
        let name = offset(field.name.as_bytes());
        let value = offset(field.value);
        *slot = [
            name,
            name + field.name.len() as u32,
            value,
            value + field.value.len() as u32,
        ];
    }
    Ok(Some(StatusLine {
        length,
        status: response.code.unwrap_or(0),
        minor_version: response.version.unwrap_or(1),
        count: response.headers.len(),
    }))
}

trait DescribeParseError {
    fn description_str(&self) -> &'static str;
}

impl DescribeParseError for httparse::Error {
    fn description_str(&self) -> &'static str {
        match self {
            httparse::Error::HeaderName => "invalid header name",
            httparse::Error::HeaderValue => "invalid header value",
            httparse::Error::NewLine => "invalid line ending",
            httparse::Error::Status => "invalid status line",
            httparse::Error::Token => "invalid token",
            httparse::Error::TooManyHeaders => "too many headers",
            httparse::Error::Version => "invalid HTTP version",
        }
    }
}

fn build_head(
    parsed: &StatusLine,
    fields: &[[u32; 4]],
    head: Bytes,
    request_method: &Method,
) -> Result<ResponseHead, HeadError> {
    let status =
        StatusCode::from_u16(parsed.status).map_err(|_| HeadError::Invalid("invalid status"))?;
    // An HTTP/1.0 answer keeps its connection only when it says so. (The version itself stays
    // on this hop: clients are answered in the proxy's own.)
    let http_11 = parsed.minor_version != 0;
    // One pass: each name is classified by its bytes, what `Connection` and the framing headers
    // say is noted on the way, and every end-to-end field is kept where it is.
    let mut kept = Vec::with_capacity(fields.len());
    let mut close = false;
    let mut keep_alive_token = false;
    let mut names_others = false;
    let mut chunked = None;
    let mut length: Option<u64> = None;
    for &span in fields {
        let [name_start, name_end, value_start, value_end] = span.map(|at| at as usize);
        let value = &head[value_start..value_end];
        match Role::of(&head[name_start..name_end]) {
            Role::Connection => {
                for token in list_items(value) {
                    if token.eq_ignore_ascii_case(b"close") {
                        close = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        keep_alive_token = true;
                    } else if !token.is_empty() {
                        names_others = true;
                    }
                }
                continue;
            }
            Role::TransferEncoding => {
                // Only the last coding decides; any coding at all wins over Content-Length.
                let last = value.rsplit(|&b| b == b',').next().unwrap_or_default();
                chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
                continue;
            }
            Role::ContentLength => {
                for part in list_items(value) {
                    let parsed =
                        parse_decimal(part).ok_or(HeadError::Invalid("invalid Content-Length"))?;
                    if length.is_some_and(|earlier| earlier != parsed) {
                        return Err(HeadError::Invalid("conflicting Content-Length values"));
                    }
                    length = Some(parsed);
                }
            }
            Role::Upgrade | Role::HopByHop => continue,
            Role::Expect | Role::EndToEnd => {}
        }
        kept.push(span);
    }
    let name_of =
        |&[name_start, name_end, ..]: &[u32; 4]| &head[name_start as usize..name_end as usize];
    if names_others {
        // Rare: `Connection` lists headers of this hop; they do not travel on.
        let connection = fields
            .iter()
            .filter(|span| Role::of(name_of(span)) == Role::Connection)
            .flat_map(|&[.., value_start, value_end]| {
                list_items(&head[value_start as usize..value_end as usize])
            })
            .filter(|token| !token.is_empty())
            .collect::<Vec<_>>();
        kept.retain(|span| {
            let name = name_of(span);
            !connection
                .iter()
                .any(|token| token.eq_ignore_ascii_case(name))
        });
    }
    if chunked.is_some() && length.is_some() {
        // A chunked body is re-framed for the client; a stated length would contradict it.
        kept.retain(|span| Role::of(name_of(span)) != Role::ContentLength);
    }
    let no_body = *request_method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let framing = match (no_body, chunked, length) {
        (true, _, _) => ResponseFraming::Empty,
        (false, Some(true), _) => ResponseFraming::Chunked,
        (false, Some(false), _) => ResponseFraming::UntilClose,
        (false, None, Some(0)) => ResponseFraming::Empty,
        (false, None, Some(length)) => ResponseFraming::Length(length),
        (false, None, None) => ResponseFraming::UntilClose,
    };
    let keep_alive = !close
        && (http_11 || keep_alive_token)
        && framing != ResponseFraming::UntilClose
        // Both framings at once is how responses get smuggled: read this one, then close.
        && !(chunked.is_some() && length.is_some());
    Ok(ResponseHead {
        status,
        fields: ReceivedFields::new(head, kept),
        framing,
        keep_alive,
    })
}

/// What a header's name means to the proxy, in requests and answers alike. The hop-by-hop names
/// are those of [`HOP_BY_HOP`] (a test holds the two together); compared by length first, most
/// names cost one comparison of lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Connection,
    TransferEncoding,
    ContentLength,
    /// Hop-by-hop, and a request with it is not plain.
    Upgrade,
    /// End-to-end in an answer; a request's is not forwarded (see [`encode_request_head`]).
    Expect,
    HopByHop,
    EndToEnd,
}

impl Role {
    pub(crate) fn of(name: &[u8]) -> Role {
        let is = |known: &str| name.eq_ignore_ascii_case(known.as_bytes());
        match name.len() {
            2 if is("te") => Role::HopByHop,
            6 if is("expect") => Role::Expect,
            7 if is("trailer") => Role::HopByHop,
            7 if is("upgrade") => Role::Upgrade,
            10 if is("connection") => Role::Connection,
            10 if is("keep-alive") => Role::HopByHop,
            14 if is("content-length") => Role::ContentLength,
            16 if is("proxy-connection") => Role::HopByHop,
            17 if is("transfer-encoding") => Role::TransferEncoding,
            18 if is("proxy-authenticate") => Role::HopByHop,
            19 if is("proxy-authorization") => Role::HopByHop,
            _ => Role::EndToEnd,
        }
    }
}

fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |total, &digit| {
        digit
            .is_ascii_digit()
            .then(|| total * 10 + u64::from(digit - b'0'))
    })
}

/// Why a chunked body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid chunked body from the upstream: {0}")]
pub struct ChunkError(&'static str);

/// What one step of [`ChunkedDecoder::decode`] produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes (never empty).
    Data(Bytes),
    /// The buffer holds no complete piece: read more and call again.
    NeedMore,
    /// The last chunk and the trailers were read: the message is complete.
    Done,
}

/// Decodes a chunked body as bytes arrive, handing data out without copying it.
#[derive(Debug, Clone, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
    /// Bytes of the current size line or trailer section seen so far (for the limits).
    line_bytes: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ChunkState {
    /// Reading hex digits of a chunk size.
    #[default]
    SizeStart,
    Size(u64),
    /// After the size's digits: optional spaces or tabs, then `;` and extensions, up to CR.
    Whitespace(u64),
    Extension(u64),
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart,
    Trailer,
    TrailerLf,
    EndLf,
    Done,
}

impl ChunkedDecoder {
    /// Whether the whole body has been read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Consumes from `buf` until it yields data, needs more bytes, or the body ends.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, ChunkError> {
        loop {
            if let ChunkState::Data(remaining) = self.state {
                if buf.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                let take = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
                let left = remaining - take as u64;
                self.state = if left == 0 {
                    ChunkState::DataCr
                } else {
                    ChunkState::Data(left)
                };
                return Ok(Decoded::Data(buf.split_to(take).freeze()));
            }
            if self.state == ChunkState::Done {
                return Ok(Decoded::Done);
            }
            let Some(&byte) = buf.first() else {
                return Ok(Decoded::NeedMore);
            };
            let _ = buf.split_to(1);
            self.step(byte)?;
        }
    }

    fn step(&mut self, byte: u8) -> Result<(), ChunkError> {
        use ChunkState::*;
        self.line_bytes += 1;
        self.state = match self.state {
            SizeStart => {
                self.line_bytes = 1;
                Size(u64::from(
                    hex_value(byte).ok_or(ChunkError("chunk size expected"))?,
                ))
            }
            Size(size) => match hex_value(byte) {
                Some(digit) => {
                    if size > u64::MAX >> 4 {
                        return Err(ChunkError("chunk size too large"));
                    }
                    Size(size << 4 | u64::from(digit))
                }
                None => Whitespace(size).after(byte)?,
            },
            Whitespace(_) | Extension(_) => self.state.after(byte)?,
            SizeLf(size) => {
                if byte != b'\n' {
                    return Err(ChunkError("LF expected after the chunk size"));
                }
                if size == 0 {
                    self.line_bytes = 0;
                    TrailerStart
                } else {
                    Data(size)
                }
            }
            // Data is taken in bulk by `decode` and never reaches here.
            Data(size) => Data(size),
            DataCr if byte == b'\r' => DataLf,
            DataLf if byte == b'\n' => SizeStart,
            DataCr | DataLf => return Err(ChunkError("CRLF expected after chunk data")),
            TrailerStart if byte == b'\r' => EndLf,
            TrailerStart | Trailer if byte == b'\r' => TrailerLf,
            TrailerStart | Trailer if byte == b'\n' => {
                return Err(ChunkError("CR expected before LF in a trailer"));
            }
            TrailerStart | Trailer => Trailer,
            TrailerLf if byte == b'\n' => TrailerStart,
            TrailerLf => return Err(ChunkError("LF expected after a trailer")),
            EndLf if byte == b'\n' => Done,
            EndLf => return Err(ChunkError("LF expected at the end of the body")),
            Done => Done,
        };
        let limit = match self.state {
            Whitespace(_) | Extension(_) | SizeLf(_) | Size(_) => MAX_CHUNK_LINE,
            Trailer | TrailerLf | TrailerStart | EndLf => MAX_TRAILERS,
            _ => usize::MAX,
        };
        if self.line_bytes > limit {
            return Err(ChunkError("chunk size line or trailers too long"));
        }
        Ok(())
    }
}

impl ChunkState {
    /// The state after `byte` once the size's digits have ended: optional spaces or tabs, then
    /// `;` and extensions (visible characters, spaces, tabs) which are ignored, then CR.
    fn after(self, byte: u8) -> Result<ChunkState, ChunkError> {
        use ChunkState::*;
        match (self, byte) {
            (Whitespace(size) | Extension(size), b'\r') => Ok(SizeLf(size)),
            (Whitespace(size), b' ' | b'\t') => Ok(Whitespace(size)),
            (Whitespace(size), b';') => Ok(Extension(size)),
            (Extension(size), b' ' | b'\t' | 0x21..=0x7e) => Ok(Extension(size)),
            _ => Err(ChunkError("bad chunk size line")),
        }
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str, method: &Method) -> Result<Option<ResponseHead>, HeadError> {
        let mut buf = BytesMut::from(text.as_bytes());
        parse_response_head(&mut buf, method)
    }

    #[test]
    fn request_head_carries_our_framing_and_not_the_clients() {
        let fields = FieldList::parse_lines(
            "Host: svc:80\r\nContent-Length: 999\r\nExpect: 100-continue\r\nX-A: 1\r\n\
             x-a: 2\r\nConnection: keep-alive, X-Hop\r\nx-hop: secret\r\nTE: trailers\r\n\
             X-Forwarded-Proto: gopher\r\nTraceState: a=1\r\n",
        );
        let mut out = Vec::new();
        let framing = RequestFraming::Length(12);
        let proto = HeaderName::from_static("x-forwarded-proto");
        let state = HeaderName::from_static("tracestate");
        let mut replacements: Replacements = [None; 8];
        replacements[1] = Some((&proto, Some(b"http".as_slice())));
        replacements[6] = Some((&state, None));
        encode_request_head(
            &mut out,
            &Method::POST,
            "/p?q=1",
            &fields,
            &replacements,
            "h",
            framing,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /p?q=1 HTTP/1.1\r\nHost: svc:80\r\nX-A: 1\r\nx-a: 2\r\n\
             x-forwarded-proto: http\r\ncontent-length: 12\r\n\r\n"
        );
        let mut out = Vec::new();
        let none: Replacements = [None; 8];
        encode_request_head(
            &mut out,
            &Method::GET,
            "/",
            &FieldList::default(),
            &none,
            "up:1",
            RequestFraming::Chunked,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET / HTTP/1.1\r\nhost: up:1\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        // A replaced `Host` is written once, in the replacement's place.
        let host = header::HOST;
        let mut replacements: Replacements = [None; 8];
        replacements[3] = Some((&host, Some(b"up:2".as_slice())));
        let mut out = Vec::new();
        let fields = FieldList::parse_lines("HOST: client\r\n");
        encode_request_head(
            &mut out,
            &Method::GET,
            "/",
            &fields,
            &replacements,
            "up:1",
            RequestFraming::None,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET / HTTP/1.1\r\nhost: up:2\r\n\r\n"
        );
    }

    #[test]
    fn chunks_are_sized_in_hex() {
        let mut out = Vec::new();
        encode_chunk(&mut out, &[b'x'; 26]);
        encode_chunk(&mut out, b"y");
        out.extend_from_slice(LAST_CHUNK);
        let mut expected = b"1a\r\n".to_vec();
        expected.extend_from_slice(&[b'x'; 26]);
        expected.extend_from_slice(b"\r\n1\r\ny\r\n0\r\n\r\n");
        assert_eq!(out, expected);
        let mut decoder = ChunkedDecoder::default();
        let mut buf = BytesMut::from(&out[..]);
        let mut body = Vec::new();
        while let Decoded::Data(data) = decoder.decode(&mut buf).unwrap() {
            body.extend_from_slice(&data);
        }
        assert!(decoder.is_done());
        assert_eq!(body.len(), 27);
    }

    #[test]
    fn hop_by_hop_and_connection_named_headers_are_left_out() {
        let parsed = head(
            "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n\
             X-Hop: secret\r\nX-Kept: yes\r\nContent-Length: 5\r\n\r\nhello",
            &Method::GET,
        )
        .unwrap()
        .unwrap();
        assert_eq!(parsed.status, StatusCode::OK);
        assert!(parsed.keep_alive);
        assert_eq!(parsed.framing, ResponseFraming::Length(5));
        let names: Vec<&[u8]> = parsed.fields.iter().map(|(name, _)| name).collect();
        assert_eq!(names, [&b"X-Kept"[..], b"Content-Length"]);
    }

    #[test]
    fn hop_by_hop_names_are_known_to_the_classifier() {
        for name in &HOP_BY_HOP {
            let lower = name.as_str().as_bytes();
            assert_ne!(Role::of(lower), Role::EndToEnd, "{name}");
            assert_eq!(Role::of(&lower.to_ascii_uppercase()), Role::of(lower));
        }
        for name in [
            "x-kept",
            "content-type",
            "date",
            "te-x",
            "trailers",
            "connections",
        ] {
            assert_eq!(Role::of(name.as_bytes()), Role::EndToEnd, "{name}");
        }
    }

    #[test]
    fn received_fields_become_one_map_in_order_with_the_proxys_own_after() {
        let parsed = head(
            "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Type: text/plain\r\nx-a: 2\r\n\
             Content-Length: 0\r\n\r\n",
            &Method::GET,
        )
        .unwrap()
        .unwrap();
        assert!(parsed.fields.contains(&HeaderName::from_static("x-a")));
        assert!(!parsed.fields.contains(&header::DATE));
        let mut added = HeaderMap::new();
        added.insert("x-request-id", http::HeaderValue::from_static("id-1"));
        let all = parsed.fields.merged_with(&added);
        {
            let pairs: Vec<(&str, &[u8])> = all
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes()))
                .collect();
            assert_eq!(
                pairs,
                [
                    ("x-a", &b"1"[..]),
                    ("x-a", b"2"),
                    ("content-type", b"text/plain"),
                    ("content-length", b"0"),
                    ("x-request-id", b"id-1"),
                ]
            );
        }
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let framing = |text: &str, method: &Method| head(text, method).unwrap().unwrap().framing;
        let get = &Method::GET;
        assert_eq!(
            framing(
                "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
                &Method::HEAD
            ),
            ResponseFraming::Empty
        );
        assert_eq!(
            framing("HTTP/1.1 204 No Content\r\n\r\n", get),
            ResponseFraming::Empty
        );
        assert_eq!(
            framing(
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n",
                get
            ),
            ResponseFraming::Empty
        );
        assert_eq!(
            framing(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n",
                get
            ),
            ResponseFraming::Chunked
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", get),
            ResponseFraming::UntilClose
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\n\r\n", get),
            ResponseFraming::UntilClose
        );
        assert_eq!(
            framing("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n", get),
            ResponseFraming::Length(7)
        );
        assert_eq!(
            head(
                "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n",
                get
            )
            .unwrap_err(),
            HeadError::Invalid("conflicting Content-Length values")
        );
        assert!(head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", get).is_err());
        // Both framings: chunked wins, the length is dropped, the connection is not reused.
        let both = head(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            get,
        )
        .unwrap()
        .unwrap();
        assert!(!both.keep_alive);
        assert!(!both.fields.contains(&header::CONTENT_LENGTH));
    }

    #[test]
    fn keep_alive_depends_on_version_and_connection() {
        let alive = |text: &str| head(text, &Method::GET).unwrap().unwrap().keep_alive;
        assert!(alive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!alive(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!alive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(alive(
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"
        ));
    }

    #[test]
    fn interim_answers_are_skipped_and_partial_heads_wait() {
        let mut buf =
            BytesMut::from(&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Le"[..]);
        assert!(
            parse_response_head(&mut buf, &Method::POST)
                .unwrap()
                .is_none()
        );
        buf.extend_from_slice(b"ngth: 2\r\n\r\nok");
        let parsed = parse_response_head(&mut buf, &Method::POST)
            .unwrap()
            .unwrap();
        assert_eq!(parsed.status, StatusCode::CREATED);
        assert_eq!(&buf[..], b"ok");
        assert!(head("HTTP/1.1 101 Switching Protocols\r\n\r\n", &Method::GET).is_err());
    }

    #[test]
    fn oversized_and_malformed_heads_are_refused() {
        let mut big = "HTTP/1.1 200 OK\r\n".to_owned();
        while big.len() <= MAX_HEAD_BYTES {
            big.push_str("x-filler: 0123456789012345678901234567890123456789\r\n");
        }
        assert!(head(&big, &Method::GET).is_err());
        let mut many = "HTTP/1.1 200 OK\r\n".to_owned();
        for i in 0..=MAX_RESPONSE_HEADERS {
            many.push_str(&format!("x-{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(
            head(&many, &Method::GET).unwrap_err(),
            HeadError::TooManyHeaders
        );
        assert!(head("HTTP/2 200 OK\r\n\r\n", &Method::GET).is_err());
        assert!(head("garbage\r\n\r\n", &Method::GET).is_err());
    }

    fn decode_all(wire: &[u8], split: usize) -> Result<Vec<u8>, ChunkError> {
        let mut decoder = ChunkedDecoder::default();
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for piece in wire.chunks(split.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode(&mut buf)? {
                    Decoded::Data(data) => body.extend_from_slice(&data),
                    Decoded::NeedMore => break,
                    Decoded::Done => return Ok(body),
                }
            }
        }
        Err(ChunkError("incomplete"))
    }

    #[test]
    fn chunked_bodies_decode_whatever_the_read_boundaries() {
        let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n";
        for split in 1..wire.len() {
            assert_eq!(
                decode_all(wire, split).unwrap(),
                b"hello world",
                "split {split}"
            );
        }
        assert_eq!(decode_all(b"0\r\n\r\n", 2).unwrap(), b"");
    }

    #[test]
    fn malformed_chunked_bodies_are_errors() {
        for wire in [
            &b"zz\r\n"[..],
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"fffffffffffffffff\r\n",
            b"0\r\n\rx",
            b"5 zz\0\r\nhello\r\n0\r\n\r\n",
            b"5x\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhello\r\n0\r\nx-t: 1\n\r\n",
        ] {
            assert!(
                decode_all(wire, 3).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
        let long_extension = format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(MAX_CHUNK_LINE));
        assert!(decode_all(long_extension.as_bytes(), 64).is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Whatever an upstream sends, parsing answers or asks for more; it never panics.
            #[test]
            fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                let mut buf = BytesMut::from(&bytes[..]);
                let _ = parse_response_head(&mut buf, &Method::GET);
                let mut decoder = ChunkedDecoder::default();
                let mut buf = BytesMut::from(&bytes[..]);
                for _ in 0..bytes.len() + 1 {
                    match decoder.decode(&mut buf) {
                        Ok(Decoded::Data(data)) => prop_assert!(!data.is_empty()),
                        Ok(_) | Err(_) => break,
                    }
                }
            }

            /// Every field `httparse` accepts converts to a `HeaderName` and a `HeaderValue`, so
            /// `ReceivedFields::append_to` never leaves one out: hyper's server side writes the
            /// same fields as the fast path.
            #[test]
            fn accepted_fields_all_convert_to_a_header_map(
                name in proptest::collection::vec(prop_oneof![0x21u8..0x7f, any::<u8>()], 1..12),
                value in proptest::collection::vec(prop_oneof![0x20u8..0x7f, any::<u8>()], 0..24),
            ) {
                let mut text = b"HTTP/1.1 200 OK\r\n".to_vec();
                text.extend_from_slice(&name);
                text.extend_from_slice(b": ");
                text.extend_from_slice(&value);
                text.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
                let mut buf = BytesMut::from(&text[..]);
                if let Ok(Some(head)) = parse_response_head(&mut buf, &Method::GET) {
                    let map = head.fields.merged_with(&HeaderMap::new());
                    prop_assert_eq!(map.len(), head.fields.len());
                }
            }

            /// Heads that look almost right: real names and values, random order and case.
            #[test]
            fn plausible_heads_parse_or_are_refused(
                status in 100u16..600,
                fields in proptest::collection::vec(
                    (prop::sample::select(vec![
                        "Content-Length", "content-length", "Transfer-Encoding", "Connection",
                        "Keep-Alive", "X-A", "Trailer", "Upgrade",
                    ]), prop::sample::select(vec![
                        "0", "5", "chunked", "gzip, chunked", "close", "keep-alive, x-a", "", "7, 7",
                        "-1", "18446744073709551616",
                    ])),
                    0..8,
                ),
                split in 0usize..200,
            ) {
                let mut text = format!("HTTP/1.1 {status} X\r\n");
                for (name, value) in &fields {
                    text.push_str(&format!("{name}: {value}\r\n"));
                }
                text.push_str("\r\n");
                // Fed in two reads: the first may end anywhere.
                let cut = split.min(text.len());
                let mut buf = BytesMut::from(&text.as_bytes()[..cut]);
                let first = parse_response_head(&mut buf, &Method::GET);
                if let Ok(None) = first {
                    buf.extend_from_slice(&text.as_bytes()[cut..]);
                    if let Ok(Some(head)) = parse_response_head(&mut buf, &Method::GET) {
                        for name in HOP_BY_HOP.iter() {
                            prop_assert!(!head.fields.contains(name));
                        }
                        prop_assert!(buf.is_empty());
                    }
                }
            }

            /// Any body sent in any chunk sizes decodes to itself, whatever the read boundaries.
            #[test]
            fn chunked_round_trip(
                pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..6),
                split in 1usize..64,
            ) {
                let mut wire = Vec::new();
                for piece in &pieces {
                    encode_chunk(&mut wire, piece);
                }
                wire.extend_from_slice(LAST_CHUNK);
                let expected: Vec<u8> = pieces.concat();
                prop_assert_eq!(decode_all(&wire, split).unwrap(), expected);
            }
        }
    }
}
