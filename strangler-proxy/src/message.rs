//! A client's request as the proxy handles it, with its header fields kept as they arrived.
//!
//! Why not `http::Request` and its `HeaderMap`: a proxy reads a handful of a request's fields
//! (the route's header conditions, the sticky key, the ids, `Host`, `X-Forwarded-*`) and writes
//! all of them out again. Building a map first (each name parsed and hashed, each value copied
//! into its own allocation, the map dropped after) cost 2,500 of the 20,500 instructions a
//! proxied request took (`bench/proxy.sh --instructions`). A [`FieldList`] is the head's bytes,
//! shared with the read buffer, and where each field sits in them; a look-up is a scan of a few
//! names compared by length first. Answers keep their upstream's fields the same way
//! ([`crate::h1::ReceivedFields`]).
//!
//! Every field here passed `httparse` with a name shorter than `HeaderName`'s 64 KiB limit
//! (the fast path hands longer ones to hyper) or came out of hyper's `HeaderMap` (every other
//! request), so every name converts to `http::HeaderName` and every value to `HeaderValue` (a
//! property test holds `httparse` to that), and [`FieldList::to_map`] loses nothing.

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, Uri};

use crate::body::{ClientBody, ProxyBody};

/// Header fields in the order received: a head's bytes and `[name start, name end, value
/// start, value end]` of each field in them. Names keep the sender's spelling; look-ups ignore
/// case.
#[derive(Debug, Clone, Default)]
pub struct FieldList {
    head: Bytes,
    spans: Vec<[u32; 4]>,
    /// The [`name_bit`] of every name here: most names the proxy asks for (`Connection`, the
    /// ids, `Content-Length`, ...) are absent, and such a look-up ends on this word instead
    /// of a scan.
    names: u64,
}

/// A bit for a name, the same for every spelling of it: from its length and last byte with
/// the ASCII case bit set. Different names may share a bit; that only costs a scan.
fn name_bit(name: &[u8]) -> u64 {
    let last = name.last().map_or(0, |&byte| byte | 0x20);
    1 << ((name.len() as u64 * 7 + u64::from(last)) % 64)
}

impl FieldList {
    /// Fields at the given spans of `head` (each within it).
    pub(crate) fn from_spans(head: Bytes, spans: Vec<[u32; 4]>) -> Self {
        let names = spans
            .iter()
            .fold(0, |names, &[name_start, name_end, _, value_end]| {
                debug_assert!(value_end as usize <= head.len());
                names | name_bit(&head[name_start as usize..name_end as usize])
            });
        FieldList { head, spans, names }
    }

    /// The fields of a map, in its order, names as `http` spells them (lower case).
    pub fn from_map(headers: &HeaderMap) -> Self {
        let size = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        let mut head = BytesMut::with_capacity(size);
        let mut spans = Vec::with_capacity(headers.len());
        // A head is bounded by the listener's header limit, far below 4 GiB; past that the
        // fields are cut rather than the offsets wrapped.
        for (name, value) in headers {
            let Ok(name_start) = u32::try_from(head.len()) else {
                break;
            };
            head.extend_from_slice(name.as_str().as_bytes());
            let value_start = head.len() as u32;
            head.extend_from_slice(value.as_bytes());
            let Ok(value_end) = u32::try_from(head.len()) else {
                break;
            };
            spans.push([name_start, value_start, value_start, value_end]);
        }
        FieldList::from_spans(head.freeze(), spans)
    }

    /// Fields from `(name, value)` pairs (a pair `http` refuses is left out).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        FieldList::from_map(&headers)
    }

    /// The fields, names as the sender spelled them.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.fields_of(&self.spans)
    }

    fn fields_of<'a>(
        &'a self,
        spans: &'a [[u32; 4]],
    ) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        spans
            .iter()
            .map(|&[name_start, name_end, value_start, value_end]| {
                (
                    &self.head[name_start as usize..name_end as usize],
                    &self.head[value_start as usize..value_end as usize],
                )
            })
    }

    /// The spans worth scanning for `name`: none when no field's name has its bit.
    fn candidates(&self, name: &[u8]) -> &[[u32; 4]] {
        if self.names & name_bit(name) == 0 {
            &[]
        } else {
            &self.spans
        }
    }

    /// The values of every field named `name` (any case), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        let name = name.as_bytes();
        self.fields_of(self.candidates(name))
            .filter(move |(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// The value of the first field named `name` (any case).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        let name = name.as_bytes();
        for &[name_start, name_end, value_start, value_end] in self.candidates(name) {
            // Lengths first: most fields scanned have a name of another length.
            if (name_end - name_start) as usize == name.len()
                && self.head[name_start as usize..name_end as usize].eq_ignore_ascii_case(name)
            {
                return Some(&self.head[value_start as usize..value_end as usize]);
            }
        }
        None
    }

    /// Whether a field named `name` (any case) is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// A value of these fields (a slice `get` or `iter` returned) as bytes sharing theirs.
    pub fn shared(&self, value: &[u8]) -> Bytes {
        self.head.slice_ref(value)
    }

    /// A value of these fields as a header value sharing their bytes (no copy).
    pub fn shared_value(&self, value: &[u8]) -> Option<HeaderValue> {
        HeaderValue::from_maybe_shared(self.shared(value)).ok()
    }

    /// Appends the fields to `headers`; values share the head's bytes.
    pub fn append_to(&self, headers: &mut HeaderMap) {
        headers.reserve(self.spans.len());
        for (name, value) in self.iter() {
            // Both hold (see the module docs); a field that did not would be left out.
            if let (Ok(name), Some(value)) =
                (HeaderName::from_bytes(name), self.shared_value(value))
            {
                headers.append(name, value);
            }
        }
    }

    /// Fields from `Name: value\r\n` lines, spelled as given (for tests).
    #[cfg(test)]
    pub(crate) fn parse_lines(text: &str) -> Self {
        let head = Bytes::copy_from_slice(text.as_bytes());
        let mut spans = Vec::new();
        let mut at = 0;
        for line in text.split_inclusive("\r\n") {
            let colon = line.find(':').expect("a field line has a colon");
            let value = line[colon + 1..].trim_end_matches("\r\n");
            let skipped = value.len() - value.trim_start().len();
            let start = (at + colon + 1 + skipped) as u32;
            spans.push([
                at as u32,
                (at + colon) as u32,
                start,
                start + value.trim_start().len() as u32,
            ]);
            at += line.len();
        }
        FieldList::from_spans(head, spans)
    }

    /// The same fields in bytes of their own: a copy that may outlive its request (a shadow
    /// mirror) does not keep the connection's whole read buffer.
    pub fn detached(&self) -> Self {
        FieldList {
            head: Bytes::copy_from_slice(&self.head),
            spans: self.spans.clone(),
            names: self.names,
        }
    }

    /// The fields as a map.
    pub fn to_map(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(self.spans.len());
        self.append_to(&mut headers);
        headers
    }
}

/// A request's head: what the client asked for, and the ids the proxy set in place of missing
/// or malformed ones (written instead of the client's when the request is forwarded).
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The target as sent (origin form on anything forwarded; see `forward::refusal`).
    pub uri: Uri,
    /// The client's header fields.
    pub fields: FieldList,
    /// A request id the proxy generated (hex digits), sent as `X-Request-Id` instead of the
    /// client's.
    pub generated_request_id: Option<[u8; 32]>,
    /// A `traceparent` the proxy generated, sent instead of the client's (whose `tracestate`
    /// then goes too: it belongs to the trace the client's `traceparent` named).
    pub generated_traceparent: Option<[u8; 55]>,
}

impl RequestHead {
    /// The fields as forwarded: the client's, with the proxy's ids in place of the client's.
    pub fn to_map(&self) -> HeaderMap {
        let mut headers = self.fields.to_map();
        // Both are hex digits and dashes, valid header values.
        if let Some(Ok(id)) = self
            .generated_request_id
            .map(|id| HeaderValue::from_bytes(&id))
        {
            headers.insert("x-request-id", id);
        }
        if let Some(Ok(trace)) = self
            .generated_traceparent
            .map(|t| HeaderValue::from_bytes(&t))
        {
            headers.insert("traceparent", trace);
            headers.remove("tracestate");
        }
        headers
    }

    /// The same request with its fields in bytes of their own ([`FieldList::detached`]).
    pub fn detached(&self) -> Self {
        RequestHead {
            method: self.method.clone(),
            uri: self.uri.clone(),
            fields: self.fields.detached(),
            generated_request_id: self.generated_request_id,
            generated_traceparent: self.generated_traceparent,
        }
    }

    /// A head with the client's fields and no id of the proxy's yet.
    pub fn new(method: Method, uri: Uri, fields: FieldList) -> Self {
        RequestHead {
            method,
            uri,
            fields,
            generated_request_id: None,
            generated_traceparent: None,
        }
    }
}

/// A request's id: the client's `X-Request-Id` when it is acceptable (its bytes, shared with
/// the head), or one the proxy generated. Visible ASCII either way.
#[derive(Debug, Clone)]
pub enum RequestId {
    /// The client's.
    Kept(Bytes),
    /// 32 hex digits of the proxy's.
    Generated([u8; 32]),
}

impl RequestId {
    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            RequestId::Kept(bytes) => bytes,
            RequestId::Generated(digits) => digits,
        }
    }

    /// The id as text (empty if it were not ASCII, which a kept id was checked to be).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The id as a header value.
    pub fn to_header_value(&self) -> Option<HeaderValue> {
        match self {
            RequestId::Kept(bytes) => HeaderValue::from_maybe_shared(bytes.clone()).ok(),
            RequestId::Generated(digits) => HeaderValue::from_bytes(digits).ok(),
        }
    }
}

/// What the proxy answers a client: the response, and the request id to send back with it
/// (`None` when the response carries the upstream's own or is not a proxied one).
///
/// Why the id is not in the response's header map: the fast path writes it straight from
/// here, and a map built for that one header cost about 800 instructions per request.
#[derive(Debug)]
pub struct ProxyResponse {
    /// The response.
    pub response: Response<ProxyBody>,
    /// `X-Request-Id` to add when the response is written.
    pub request_id: Option<RequestId>,
}

impl From<Response<ProxyBody>> for ProxyResponse {
    fn from(response: Response<ProxyBody>) -> Self {
        ProxyResponse {
            response,
            request_id: None,
        }
    }
}

/// A client's request as the proxy listener hands it to its handler.
#[derive(Debug)]
pub struct ClientRequest {
    /// Method, target and fields.
    pub head: RequestHead,
    /// The body.
    pub body: ClientBody,
}

impl ClientRequest {
    /// A request hyper's server side read.
    pub fn from_hyper(request: Request<hyper::body::Incoming>) -> Self {
        let (parts, body) = request.into_parts();
        ClientRequest {
            head: RequestHead::new(parts.method, parts.uri, FieldList::from_map(&parts.headers)),
            body: ClientBody::Hyper(body),
        }
    }

    /// The request as an `http` request (for the admin API, where speed does not matter).
    pub fn into_http(self) -> Request<ClientBody> {
        let mut request = Request::new(self.body);
        *request.method_mut() = self.head.method;
        *request.uri_mut() = self.head.uri;
        *request.headers_mut() = self.head.fields.to_map();
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_ups_ignore_case_and_keep_order() {
        let fields = FieldList::parse_lines("Host: a\r\nX-Id: 1\r\nx-id: 2\r\n");
        assert_eq!(fields.get("host"), Some(&b"a"[..]));
        assert_eq!(fields.get_all("x-id").collect::<Vec<_>>(), [b"1", b"2"]);
        assert!(fields.contains("X-ID"));
        assert!(!fields.contains("x-i"));
        assert_eq!(fields.get("nope"), None);
        let names: Vec<_> = fields.iter().map(|(name, _)| name).collect();
        assert_eq!(names, [&b"Host"[..], b"X-Id", b"x-id"]);
        let map = fields.to_map();
        assert_eq!(map.get_all("x-id").iter().collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(map["host"], "a");
    }

    #[test]
    fn a_map_round_trips() {
        let mut map = HeaderMap::new();
        map.append("x-a", HeaderValue::from_static("1"));
        map.append("cookie", HeaderValue::from_static("a=1"));
        map.append("x-a", HeaderValue::from_static(""));
        let fields = FieldList::from_map(&map);
        assert_eq!(fields.len(), 3);
        assert_eq!(fields.get_all("x-a").collect::<Vec<_>>(), [&b"1"[..], b""]);
        assert_eq!(fields.to_map(), map);
        assert!(FieldList::from_map(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn a_detached_copy_has_the_same_fields_in_bytes_of_its_own() {
        let read_buffer = Bytes::from_static(b"X-A: 1\r\nX-B: 2\r\n and more of the buffer");
        let fields =
            FieldList::from_spans(read_buffer.clone(), vec![[0, 3, 5, 6], [8, 11, 13, 14]]);
        let copy = fields.detached();
        assert_eq!(
            copy.iter().collect::<Vec<_>>(),
            fields.iter().collect::<Vec<_>>()
        );
        assert_eq!(copy.get("x-b"), Some(&b"2"[..]));
        assert_ne!(copy.head.as_ptr(), read_buffer.as_ptr());
    }

    #[test]
    fn every_spelling_of_a_name_has_its_bit() {
        for (one, other) in [
            ("Content-Length", "content-length"),
            ("X-REQUEST-ID", "x-request-id"),
            ("TraceParent", "traceparent"),
            ("A", "a"),
            ("x_1", "X_1"),
        ] {
            assert_eq!(
                name_bit(one.as_bytes()),
                name_bit(other.as_bytes()),
                "{one}"
            );
            let fields = FieldList::parse_lines(&format!("{one}: v\r\n"));
            assert_eq!(fields.get(other), Some(&b"v"[..]), "{one}");
        }
        // The names the proxy asks about are told apart from the usual ones by the bit alone.
        let usual = FieldList::parse_lines("Host: h\r\nUser-Agent: u\r\nAccept: */*\r\n");
        for absent in [
            "connection",
            "content-length",
            "x-request-id",
            "traceparent",
        ] {
            assert!(usual.candidates(absent.as_bytes()).is_empty(), "{absent}");
        }
    }
}
