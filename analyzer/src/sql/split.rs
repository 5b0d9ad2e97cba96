//! Splits a SQL text into statements at top-level semicolons, so that each statement can be
//! parsed (and fail) on its own.
//!
//! Quotes, comments, PostgreSQL dollar quoting and trigger bodies (`BEGIN ... END`) hide their
//! semicolons. The splitter never fails: unbalanced quotes simply run to the end of the text.

/// One statement of a larger text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatementText<'a> {
    /// The statement without its terminating semicolon.
    pub text: &'a str,
    /// 0-based line of the statement's first significant character in the whole text.
    pub line_offset: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    Quoted(u8),
    LineComment,
    BlockComment,
}

/// Splits `text` into its non-empty statements.
pub(crate) fn split_statements(text: &str) -> Vec<StatementText<'_>> {
    // The common case in code: one statement, no semicolon, no comment.
    if !text.contains([';', '-', '/']) {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Vec::new();
        }
        let leading = &text[..text.len() - text.trim_start().len()];
        return vec![StatementText {
            text: trimmed,
            line_offset: u32::try_from(leading.matches('\n').count()).unwrap_or(u32::MAX),
        }];
    }
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let mut state = State::Normal;
    let mut line: u32 = 0;
    let mut first_significant: Option<(usize, u32)> = None;
    // BEGIN/CASE ... END nesting, counted only inside CREATE TRIGGER / PROCEDURE statements.
    let mut block_depth: i32 = 0;
    let mut index = 0usize;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'\n' {
            line += 1;
        }
        match state {
            State::LineComment => {
                if byte == b'\n' {
                    state = State::Normal;
                }
            }
            State::BlockComment => {
                if byte == b'*' && bytes.get(index + 1) == Some(&b'/') {
                    state = State::Normal;
                    index += 1;
                }
            }
            State::Quoted(quote) => {
                if byte == quote {
                    state = State::Normal;
                }
            }
            State::Normal => match byte {
                b'-' if bytes.get(index + 1) == Some(&b'-') => state = State::LineComment,
                b'/' if bytes.get(index + 1) == Some(&b'*') => {
                    state = State::BlockComment;
                    index += 1;
                }
                b'\'' | b'"' | b'`' => {
                    first_significant.get_or_insert((index, line));
                    state = State::Quoted(byte);
                }
                b'$' => {
                    first_significant.get_or_insert((index, line));
                    if let Some(end) = dollar_quote_end(bytes, index) {
                        line += count_newlines(&bytes[index..end]);
                        index = end;
                        continue;
                    }
                }
                b';' if block_depth <= 0 => {
                    if let Some((begin, begin_line)) = first_significant.take() {
                        pieces.push(StatementText {
                            text: &text[begin..index],
                            line_offset: begin_line,
                        });
                    }
                    block_depth = 0;
                }
                b if b.is_ascii_alphabetic() || b == b'_' => {
                    let word_end = bytes[index..]
                        .iter()
                        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                        .map_or(bytes.len(), |p| index + p);
                    let word = &text[index..word_end];
                    let statement_start = first_significant.map_or(index, |(s, _)| s);
                    first_significant.get_or_insert((index, line));
                    if opens_block_statement(&text[statement_start..word_end]) {
                        if word.eq_ignore_ascii_case("begin") || word.eq_ignore_ascii_case("case") {
                            block_depth += 1;
                        } else if word.eq_ignore_ascii_case("end") {
                            block_depth -= 1;
                        }
                    }
                    index = word_end;
                    continue;
                }
                b if b.is_ascii_whitespace() => {}
                _ => {
                    first_significant.get_or_insert((index, line));
                }
            },
        }
        index += 1;
    }
    if let Some((begin, begin_line)) = first_significant {
        let rest = text[begin..].trim_end();
        if !rest.is_empty() {
            pieces.push(StatementText {
                text: rest,
                line_offset: begin_line,
            });
        }
    }
    pieces
}

/// Whether the statement begun so far is one whose body holds semicolons between BEGIN and END.
fn opens_block_statement(statement_so_far: &str) -> bool {
    let mut words = statement_so_far
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(6);
    if !words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("create"))
    {
        return false;
    }
    words.any(|w| {
        w.eq_ignore_ascii_case("trigger")
            || w.eq_ignore_ascii_case("procedure")
            || w.eq_ignore_ascii_case("function")
    })
}

/// If a PostgreSQL dollar quote (`$$` or `$tag$`) opens at `index`, the index just past its
/// closing delimiter (or the end of the text when it never closes).
fn dollar_quote_end(bytes: &[u8], index: usize) -> Option<usize> {
    let tag_len = bytes[index + 1..]
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))?;
    if bytes.get(index + 1 + tag_len) != Some(&b'$') {
        return None;
    }
    // `$1` is a placeholder, not a quote.
    if tag_len > 0 && bytes[index + 1].is_ascii_digit() {
        return None;
    }
    let delimiter = &bytes[index..index + tag_len + 2];
    let body_start = index + delimiter.len();
    let close = bytes[body_start..]
        .windows(delimiter.len())
        .position(|window| window == delimiter);
    Some(close.map_or(bytes.len(), |p| body_start + p + delimiter.len()))
}

fn count_newlines(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.iter().filter(|b| **b == b'\n').count()).unwrap_or(u32::MAX)
}
