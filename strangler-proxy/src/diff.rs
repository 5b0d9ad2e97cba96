//! Comparing a primary and a candidate response: status, selected headers, and bodies (JSON
//! structurally, key order ignored and numbers by value, with ignorable fields), and a bounded
//! store of the newest differences with secrets redacted.

use std::collections::VecDeque;
use std::sync::Mutex;

use http::{HeaderMap, HeaderName, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Differences kept in the store (newest first when listed).
pub const DIFF_SAMPLES: usize = 100;

/// Headers whose values are never stored: in a request's headers, or in a difference between
/// compared response headers.
const SECRET_HEADERS: [&str; 3] = ["authorization", "cookie", "set-cookie"];

/// One side's response, as far as comparison needs it.
#[derive(Debug, Clone)]
pub struct Observed {
    /// Status code.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body, when it was small enough to keep.
    pub body: Option<bytes::Bytes>,
}

/// What to compare and what to ignore, from the route's `shadow` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffRule {
    /// Response headers whose values must match.
    pub headers: Vec<HeaderName>,
    /// JSON pointers to leave out; a `*` segment matches any one segment, `**` any number.
    pub ignore: Vec<String>,
    /// JSON pointers whose values are never shown in a difference (same pattern syntax).
    pub redact: Vec<String>,
}

/// Lists the differences between two responses (empty: they match).
pub fn compare(rule: &DiffRule, primary: &Observed, candidate: &Observed) -> Vec<String> {
    let mut differences = Vec::new();
    if primary.status != candidate.status {
        differences.push(format!(
            "status: {} != {}",
            primary.status.as_u16(),
            candidate.status.as_u16()
        ));
    }
    for name in &rule.headers {
        let a = primary.headers.get(name);
        let b = candidate.headers.get(name);
        if a != b && SECRET_HEADERS.contains(&name.as_str()) {
            // A session cookie the service sets is as secret as the one a client sends.
            differences.push(format!("header {name}: values differ (redacted)"));
        } else if a != b {
            let show = |v: Option<&http::HeaderValue>| {
                v.map_or_else(
                    || "(none)".to_owned(),
                    |v| String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            };
            differences.push(format!("header {name}: {} != {}", show(a), show(b)));
        }
    }
    // A body too large to keep on either side is not compared.
    if let (Some(a), Some(b)) = (&primary.body, &candidate.body) {
        match (
            serde_json::from_slice::<Value>(a),
            serde_json::from_slice::<Value>(b),
        ) {
            (Ok(a), Ok(b)) => {
                let patterns = Patterns {
                    ignore: &rule.ignore,
                    redact: &rule.redact,
                };
                compare_json(&mut differences, &patterns, &mut Vec::new(), &a, &b);
            }
            _ if a != b => {
                differences.push(format!("body: {} bytes != {} bytes", a.len(), b.len()))
            }
            _ => {}
        }
    }
    differences
}

fn pointer(path: &[String]) -> String {
    if path.is_empty() {
        return String::new();
    }
    path.iter()
        .map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Does a path match an ignore pattern (`/a/*/b`, `/**/id`)?
fn ignored(patterns: &[String], path: &[String]) -> bool {
    fn matches(pattern: &[&str], path: &[String]) -> bool {
        match pattern.split_first() {
            None => path.is_empty(),
            Some((&"**", rest)) => (0..=path.len()).any(|skip| matches(rest, &path[skip..])),
            Some((first, rest)) => path.split_first().is_some_and(|(segment, tail)| {
                (*first == "*" || first == segment) && matches(rest, tail)
            }),
        }
    }
    patterns.iter().any(|pattern| {
        let segments: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
        matches(&segments, path)
    })
}

struct Patterns<'a> {
    ignore: &'a [String],
    redact: &'a [String],
}

fn compare_json(
    out: &mut Vec<String>,
    patterns: &Patterns<'_>,
    path: &mut Vec<String>,
    a: &Value,
    b: &Value,
) {
    let ignore = patterns.ignore;
    if ignored(ignore, path) {
        return;
    }
    let containers = (a.is_object() && b.is_object()) || (a.is_array() && b.is_array());
    let leaves = !containers;
    if leaves && a != b && ignored(patterns.redact, path) {
        let same_number =
            matches!((a, b), (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64());
        if !same_number {
            out.push(format!("{}: values differ (redacted)", pointer(path)));
        }
        return;
    }
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                path.push(key.clone());
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => compare_json(out, patterns, path, x, y),
                    (Some(_), None) if !ignored(ignore, path) => {
                        out.push(format!("{}: missing in candidate", pointer(path)));
                    }
                    (None, Some(_)) if !ignored(ignore, path) => {
                        out.push(format!("{}: only in candidate", pointer(path)));
                    }
                    _ => {}
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{}: {} items != {} items",
                    pointer(path),
                    a.len(),
                    b.len()
                ));
                return;
            }
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(index.to_string());
                compare_json(out, patterns, path, x, y);
                path.pop();
            }
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() != y.as_f64() => {
            out.push(format!("{}: {x} != {y}", pointer(path)));
        }
        (Value::Number(_), Value::Number(_)) => {}
        _ if a != b => out.push(format!("{}: {a} != {b}", pointer(path))),
        _ => {}
    }
}

/// One stored difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffSample {
    /// When it was seen (RFC 3339).
    pub time: String,
    /// Route name.
    pub route: String,
    /// Request id.
    pub request_id: String,
    /// Method and path.
    pub request: String,
    /// Request headers, secrets redacted.
    pub headers: Vec<(String, String)>,
    /// The differences found.
    pub differences: Vec<String>,
}

/// Request headers as stored: `Authorization`, `Cookie` and `Set-Cookie` redacted.
pub fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| {
            let shown = if SECRET_HEADERS.contains(&name.as_str()) {
                "[redacted]".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect();
    list.sort();
    list
}

/// The newest [`DIFF_SAMPLES`] differences.
#[derive(Debug, Default)]
pub struct DiffStore {
    samples: Mutex<VecDeque<DiffSample>>,
}

impl DiffStore {
    /// Keeps a sample, forgetting the oldest beyond the bound.
    pub fn push(&self, sample: DiffSample) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() == DIFF_SAMPLES {
            samples.pop_back();
        }
        samples.push_front(sample);
    }

    /// Newest first, optionally of one route.
    pub fn list(&self, route: Option<&str>) -> Vec<DiffSample> {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples
            .iter()
            .filter(|sample| route.is_none_or(|r| sample.route == r))
            .cloned()
            .collect()
    }
}

/// Pointers of the JSON differences in a list, with array indexes generalized to `*`: what a
/// noise probe learns to ignore.
pub fn noise_patterns(differences: &[String]) -> Vec<String> {
    differences
        .iter()
        .filter(|d| d.starts_with('/'))
        .filter_map(|d| d.split(": ").next())
        .map(|pointer| {
            pointer
                .split('/')
                .map(|segment| {
                    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
                        "*"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(body: &str) -> Observed {
        Observed {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Some(bytes::Bytes::from(body.to_owned())),
        }
    }

    #[test]
    fn json_is_compared_by_structure_with_ignored_fields() {
        let rule = DiffRule {
            headers: Vec::new(),
            ignore: vec!["/updated_at".into(), "/**/id".into()],
            redact: vec!["/secret".into()],
        };
        let hidden = compare(
            &rule,
            &observed(r#"{"secret": "s3cr3t"}"#),
            &observed(r#"{"secret": "other"}"#),
        );
        assert_eq!(hidden, ["/secret: values differ (redacted)"]);
        let a =
            observed(r#"{"a": 1, "b": [1, 2], "updated_at": "x", "items": [{"id": 1, "n": "p"}]}"#);
        let b = observed(
            r#"{"items": [{"n": "p", "id": 9}], "updated_at": "y", "b": [1, 2], "a": 1.0}"#,
        );
        assert_eq!(compare(&rule, &a, &b), Vec::<String>::new());
        let c = observed(r#"{"a": 2, "b": [1], "items": [{"id": 1, "n": "q"}], "extra": true}"#);
        assert_eq!(
            compare(&rule, &a, &c),
            [
                "/a: 1 != 2",
                "/b: 2 items != 1 items",
                "/extra: only in candidate",
                "/items/0/n: \"p\" != \"q\"",
                "/updated_at: missing in candidate"
            ]
            .iter()
            .filter(|d| !d.starts_with("/updated_at"))
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer x".parse().expect("v"));
        headers.insert("cookie", "s=1".parse().expect("v"));
        headers.insert("accept", "*/*".parse().expect("v"));
        let shown = redacted_headers(&headers);
        assert!(shown.contains(&("authorization".into(), "[redacted]".into())));
        assert!(shown.contains(&("cookie".into(), "[redacted]".into())));
        assert!(shown.contains(&("accept".into(), "*/*".into())));
    }

    #[test]
    fn differing_secret_response_headers_are_reported_without_their_values() {
        let rule = DiffRule {
            headers: vec![
                HeaderName::from_static("set-cookie"),
                HeaderName::from_static("etag"),
            ],
            ignore: Vec::new(),
            redact: Vec::new(),
        };
        let with = |cookie: &str, etag: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("set-cookie", cookie.parse().expect("v"));
            headers.insert("etag", etag.parse().expect("v"));
            Observed {
                status: StatusCode::OK,
                headers,
                body: None,
            }
        };
        assert_eq!(
            compare(&rule, &with("s=primary", "1"), &with("s=candidate", "2")),
            [
                "header set-cookie: values differ (redacted)",
                "header etag: 1 != 2"
            ]
        );
        assert!(compare(&rule, &with("s=same", "1"), &with("s=same", "1")).is_empty());
    }
}
