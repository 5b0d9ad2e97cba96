//! What a route matches (path, methods, headers) and how specific it is.
//!
//! Precedence is a total order computed once when the table is built, so a lookup is a scan that
//! stops at the first match. The order, most specific first:
//!
//! 1. path kind: `exact` before `pattern` before `prefix`;
//! 2. within patterns: more literal segments, then more segments; within prefixes: the longer
//!    prefix;
//! 3. a route that also restricts methods before one that does not;
//! 4. more header conditions before fewer;
//! 5. the order in the config file.

use std::cmp::Reverse;

use http::{HeaderName, HeaderValue, Method};

use crate::message::FieldList;

/// How a route matches the request path (the query string is never part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The path equals this string.
    Exact(String),
    /// The path is this prefix or continues it at a `/` boundary: `/api/reviews` matches
    /// `/api/reviews` and `/api/reviews/7`, not `/api/reviewsx`.
    Prefix(String),
    /// Segment by segment; a `{name}` segment matches any one non-empty segment.
    Pattern(Vec<PatternSegment>),
}

impl PathMatch {
    /// The path as written in the config: the literal path or prefix, or the pattern with
    /// `{name}` for its parameters.
    pub fn text(&self) -> String {
        match self {
            PathMatch::Exact(path) | PathMatch::Prefix(path) => path.clone(),
            PathMatch::Pattern(segments) => {
                let mut text = String::new();
                for segment in segments {
                    text.push('/');
                    match segment {
                        PatternSegment::Literal(literal) => text.push_str(literal),
                        PatternSegment::Param(name) => {
                            text.push('{');
                            text.push_str(name);
                            text.push('}');
                        }
                    }
                }
                text
            }
        }
    }
}

/// One segment of a `pattern`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternSegment {
    /// Must equal the text.
    Literal(String),
    /// `{name}`: any one non-empty segment.
    Param(String),
}

/// A condition on one request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderCondition {
    /// The header's name.
    pub name: HeaderName,
    /// `Some`: the header must have exactly this value; `None`: it must be present.
    pub value: Option<HeaderValue>,
}

/// Everything a route asks of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The path condition.
    pub path: PathMatch,
    /// Allowed methods; empty means any.
    pub methods: Vec<Method>,
    /// All of these must hold.
    pub headers: Vec<HeaderCondition>,
}

/// Sort key: smaller sorts first (more specific). The config index breaks ties.
pub(crate) type Specificity = (u8, Reverse<usize>, Reverse<usize>, u8, Reverse<usize>);

impl RouteMatch {
    /// Does this request satisfy every condition?
    pub fn matches(&self, method: &Method, path: &str, fields: &FieldList) -> bool {
        if !self.methods.is_empty() && !self.methods.contains(method) {
            return false;
        }
        if !self.path.matches(path) {
            return false;
        }
        self.headers.iter().all(|condition| match &condition.value {
            None => fields.contains(condition.name.as_str()),
            Some(wanted) => fields
                .get_all(condition.name.as_str())
                .any(|value| value == wanted.as_bytes()),
        })
    }

    pub(crate) fn specificity(&self) -> Specificity {
        let (kind, first, second) = match &self.path {
            PathMatch::Exact(path) => (0, path.len(), 0),
            PathMatch::Pattern(segments) => {
                let literals = segments
                    .iter()
                    .filter(|segment| matches!(segment, PatternSegment::Literal(_)))
                    .count();
                (1, literals, segments.len())
            }
            PathMatch::Prefix(prefix) => (2, prefix.len(), 0),
        };
        let methods = if self.methods.is_empty() { 1 } else { 0 };
        (
            kind,
            Reverse(first),
            Reverse(second),
            methods,
            Reverse(self.headers.len()),
        )
    }

    /// A one-line human description, e.g. `prefix /api/reviews [GET,POST]`.
    pub fn describe(&self) -> String {
        let kind = match &self.path {
            PathMatch::Exact(_) => "exact",
            PathMatch::Prefix(_) => "prefix",
            PathMatch::Pattern(_) => "pattern",
        };
        let mut text = format!("{kind} {}", self.path.text());
        if !self.methods.is_empty() {
            let methods: Vec<&str> = self.methods.iter().map(Method::as_str).collect();
            text.push_str(&format!(" [{}]", methods.join(",")));
        }
        for condition in &self.headers {
            match &condition.value {
                None => text.push_str(&format!(" {}:*", condition.name)),
                Some(value) => text.push_str(&format!(
                    " {}={}",
                    condition.name,
                    String::from_utf8_lossy(value.as_bytes())
                )),
            }
        }
        text
    }
}

impl PathMatch {
    /// Does the path (without query) satisfy this condition?
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatch::Exact(exact) => path == exact,
            PathMatch::Prefix(prefix) => {
                path.starts_with(prefix.as_str())
                    && (path.len() == prefix.len()
                        || prefix.ends_with('/')
                        || path.as_bytes()[prefix.len()] == b'/')
            }
            PathMatch::Pattern(segments) => {
                let Some(rest) = path.strip_prefix('/') else {
                    return false;
                };
                let mut parts = rest.split('/');
                for segment in segments {
                    let Some(part) = parts.next() else {
                        return false;
                    };
                    match segment {
                        PatternSegment::Literal(text) if text != part => return false,
                        PatternSegment::Param(_) if part.is_empty() => return false,
                        _ => {}
                    }
                }
                parts.next().is_none()
            }
        }
    }
}

/// Parses `/api/movies/{id}/reviews` into segments, or says what is wrong with it.
pub(crate) fn parse_pattern(pattern: &str) -> Result<Vec<PatternSegment>, String> {
    let Some(rest) = pattern.strip_prefix('/') else {
        return Err(format!("pattern `{pattern}` must start with `/`"));
    };
    let mut segments = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        if let Some(inner) = part.strip_prefix('{') {
            let Some(name) = inner.strip_suffix('}') else {
                return Err(format!(
                    "pattern `{pattern}`: segment `{part}` lacks its `}}`"
                ));
            };
            let valid =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "pattern `{pattern}`: parameter `{{{name}}}` must be letters, digits or `_`"
                ));
            }
            if names.contains(&name) {
                return Err(format!(
                    "pattern `{pattern}`: parameter `{{{name}}}` appears twice"
                ));
            }
            names.push(name);
            segments.push(PatternSegment::Param(name.to_owned()));
        } else if part.contains('{') || part.contains('}') {
            return Err(format!(
                "pattern `{pattern}`: a parameter must be a whole segment, not `{part}`"
            ));
        } else {
            segments.push(PatternSegment::Literal(part.to_owned()));
        }
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> PathMatch {
        PathMatch::Pattern(parse_pattern(text).expect("valid pattern"))
    }

    #[test]
    fn prefix_matches_at_segment_boundaries_only() {
        let prefix = PathMatch::Prefix("/api/reviews".into());
        assert!(prefix.matches("/api/reviews"));
        assert!(prefix.matches("/api/reviews/7"));
        assert!(!prefix.matches("/api/reviewsx"));
        assert!(!prefix.matches("/api"));
        assert!(PathMatch::Prefix("/".into()).matches("/anything"));
    }

    #[test]
    fn pattern_params_match_one_non_empty_segment() {
        let movies = pattern("/api/movies/{id}/reviews");
        assert!(movies.matches("/api/movies/42/reviews"));
        assert!(!movies.matches("/api/movies//reviews"));
        assert!(!movies.matches("/api/movies/42/reviews/1"));
        assert!(!movies.matches("/api/movies/42"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        assert!(parse_pattern("api/x").is_err());
        assert!(parse_pattern("/a/{id").is_err());
        assert!(parse_pattern("/a/x{id}").is_err());
        assert!(parse_pattern("/a/{id}/{id}").is_err());
        assert!(parse_pattern("/a/{}").is_err());
    }
}
