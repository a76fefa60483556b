//! Text from submissions put into Markdown (`report.md`, `feedback/*.md`): masked for CPR
//! numbers, and escaped so that a Markdown renderer shows it as text. Without this, a value
//! like `<img src=x onerror=…>` is raw HTML that a renderer passes through, and
//! `[click](javascript:…)` or `<javascript:…>` is a link.

/// Characters a Markdown renderer may act on, escaped with a backslash (CommonMark lets any
/// ASCII punctuation be escaped): raw HTML and autolinks (`<`, `>`), links and images (`[`,
/// `]`, `!`), entities (`&`), code spans, emphasis and strike-through, table cells (`|`),
/// and the backslash itself. A line break would end a table row: it becomes a space.
pub fn escape(text: &str) -> String {
    let text = crate::privacy::mask_cpr(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '<' | '>' | '|' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Undoes [`escape`]'s backslashes, for the HTML pages made from the same Markdown (which
/// escape for HTML instead).
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_renderer_would_run_is_escaped() {
        assert_eq!(
            escape("<img src=x onerror=alert(1)>"),
            "\\<img src=x onerror=alert(1)\\>"
        );
        assert_eq!(
            escape("[click](javascript:alert(1))"),
            "\\[click\\](javascript:alert(1))"
        );
        assert_eq!(escape("<javascript:alert(1)>"), "\\<javascript:alert(1)\\>");
        assert_eq!(escape("a|b\nc"), "a\\|b c");
        assert_eq!(escape("&#106;"), "\\&#106;");
        assert_eq!(escape("010180 1234"), "010180-\\*\\*\\*\\*");
        for s in [
            "<b>x</b> [a](b) `c` *d* _e_ ~f~ | \\ & !",
            "plain text 2026",
        ] {
            assert_eq!(unescape(&escape(s)), s);
        }
    }
}
