//! Small text helpers shared by the formats: counts with the right plural, grouped thousands,
//! and the escaping each target needs (terminal, Markdown, DOT, Mermaid). HTML escaping is left
//! to askama, which escapes every value by default.

/// `1 file`, `3 files`, `2,874 lines`.
pub(super) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// `2874` as `2,874`.
pub(super) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Control characters (escape sequences included) replaced, so a crafted file name cannot
/// drive the user's terminal.
pub(super) fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Text for a Markdown table cell or list item: characters Markdown would read as syntax are
/// backslash-escaped, HTML is neutralised and line breaks become spaces.
pub(super) fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a Markdown code span: backticks cannot be escaped there, so they are replaced.
pub(super) fn markdown_code(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '`' => '\'',
            '|' => '¦',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// A DOT double-quoted string body.
pub(super) fn dot(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid quoted label body: quotes and angle brackets as Mermaid entity codes.
pub(super) fn mermaid(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn plurals() {
        assert_eq!(count(1, "file", "files"), "1 file");
        assert_eq!(count(2874, "line", "lines"), "2,874 lines");
    }

    #[test]
    fn hostile_text_is_neutralised() {
        assert_eq!(terminal_safe("a\u{1b}[2Jb"), "a?[2Jb");
        assert_eq!(markdown("a|b<script>"), "a\\|b&lt;script&gt;");
        assert_eq!(dot("say \"hi\"\n"), "say \\\"hi\\\" ");
        assert_eq!(mermaid("x\"<y>#"), "x#quot;#lt;y#gt;#35;");
    }
}
