//! Page content streams made cheaper for pdf-extract to read, with the same text: hex
//! strings written as literal strings (lopdf parses a hex string a digit at a time,
//! which was a sixth of the reading time of LibreOffice's PDFs, whose text is all hex),
//! and the colour and path operators dropped, which the reader parses only to ignore.
//! Never changes what the reader sees otherwise: a stream with anything this scanner
//! does not fully understand (comments, inline images, unusual tokens) is left as it is.

/// How many operands an operator dropped with them takes, if it is one: colours, line
/// styles, path construction, painting and clipping. pdf-extract only logs these, or
/// builds paths that [`super::Collector`] never looks at. Each is dropped only with
/// exactly this many plain numbers before it, so that a malformed one still fails as it
/// would have (`v` is kept: it reads the current point of the path).
fn dropped_operands(operator: &[u8]) -> Option<usize> {
    match operator {
        b"h" | b"S" | b"s" | b"f" | b"F" | b"f*" | b"B" | b"B*" | b"b" | b"b*" | b"n" | b"W"
        | b"W*" => Some(0),
        b"g" | b"G" | b"w" | b"J" | b"j" | b"M" | b"i" => Some(1),
        b"m" | b"l" => Some(2),
        b"rg" | b"RG" => Some(3),
        b"k" | b"K" | b"y" | b"re" => Some(4),
        b"c" => Some(6),
        _ => None,
    }
}

/// Appends `content`, rewritten as the module says, to `out`; or appends it unchanged
/// when it holds anything the scanner does not understand.
pub(super) fn append_for_text(content: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    if !rewrite(content, out) {
        out.truncate(start);
        out.extend_from_slice(content);
    }
}

/// lopdf's white space between operands and operators (its content parser stops at any
/// other, such as NUL or form feed).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// An integer or a real as lopdf reads them: `[+-]?(\d+(\.\d*)?|\.\d+)`, and no
/// integer too long for an `i64`, on which lopdf stops.
fn is_number(word: &[u8]) -> bool {
    let digits = word
        .strip_prefix(b"+")
        .or(word.strip_prefix(b"-"))
        .unwrap_or(word);
    let (whole, fraction) = match digits.iter().position(|&b| b == b'.') {
        Some(dot) => (&digits[..dot], Some(&digits[dot + 1..])),
        None => (digits, None),
    };
    let all_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    all_digits(whole)
        && (fraction.is_some() || whole.len() <= 18)
        && fraction.is_none_or(all_digits)
        && (!whole.is_empty() || fraction.is_some_and(|f| !f.is_empty()))
}

/// An operator as lopdf reads one.
fn is_operator(word: &[u8]) -> bool {
    word.iter()
        .all(|&b| b.is_ascii_alphabetic() || matches!(b, b'*' | b'\'' | b'"'))
}

/// Writes `content` rewritten into `out`; false when it cannot be rewritten safely.
fn rewrite(content: &[u8], out: &mut Vec<u8>) -> bool {
    out.reserve(content.len());
    // The operation being read starts at `operation` in `out`; whether its operands are
    // all plain numbers at the top level, and how many there are.
    let mut operation = out.len();
    let mut numbers = 0usize;
    let mut only_numbers = true;
    // Arrays and dictionaries open around the current token.
    let mut nesting: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < content.len() {
        let byte = content[at];
        if is_space(byte) {
            // One space between operands; operators end with a line break of their own.
            if out.len() > operation && out.last() != Some(&b' ') {
                out.push(b' ');
            }
            at += 1;
            continue;
        }
        let top_level = nesting.is_empty();
        match byte {
            b'(' => {
                let Some(end) = literal_string_end(content, at) else {
                    return false;
                };
                out.extend_from_slice(&content[at..end]);
                at = end;
                only_numbers &= !top_level;
            }
            b'<' if content.get(at + 1) == Some(&b'<') => {
                nesting.push(b'>');
                out.extend_from_slice(b"<<");
                at += 2;
                only_numbers = false;
            }
            b'<' => {
                let Some(end) = hex_string_as_literal(content, at, out) else {
                    return false;
                };
                at = end;
                only_numbers &= !top_level;
            }
            b'>' => {
                if content.get(at + 1) != Some(&b'>') || nesting.pop() != Some(b'>') {
                    return false;
                }
                out.extend_from_slice(b">>");
                at += 2;
            }
            b'[' => {
                nesting.push(b']');
                out.push(b'[');
                at += 1;
                only_numbers = false;
            }
            b']' => {
                if nesting.pop() != Some(b']') {
                    return false;
                }
                out.push(b']');
                at += 1;
            }
            b'/' => {
                let end = word_end(content, at + 1);
                let name = &content[at..end];
                // `#` escapes are left to lopdf's own reading of the unchanged stream.
                if name.contains(&b'#') {
                    return false;
                }
                out.extend_from_slice(name);
                at = end;
                only_numbers &= !top_level;
            }
            b')' | b'{' | b'}' | b'%' | b'\0' | b'\x0c' => return false,
            _ => {
                let end = word_end(content, at);
                let word = &content[at..end];
                if word.is_empty() {
                    return false;
                }
                at = end;
                if is_number(word) {
                    out.extend_from_slice(word);
                    numbers += usize::from(top_level);
                    continue;
                }
                // Inside a dictionary: `R` of a reference, which lopdf reads there.
                if !top_level && word == b"R" {
                    out.extend_from_slice(word);
                    continue;
                }
                let keyword = [&b"true"[..], b"false", b"null"]
                    .iter()
                    .any(|k| word.starts_with(k));
                if !top_level || keyword || !is_operator(word) || word == b"BI" {
                    return false;
                }
                if only_numbers && dropped_operands(word) == Some(numbers) {
                    out.truncate(operation);
                } else {
                    out.extend_from_slice(word);
                    out.push(b'\n');
                }
                operation = out.len();
                numbers = 0;
                only_numbers = true;
            }
        }
    }
    nesting.is_empty()
}

/// Where the run of regular characters from `at` ends.
fn word_end(content: &[u8], at: usize) -> usize {
    content[at..]
        .iter()
        .position(|&b| is_space(b) || is_delimiter(b) || matches!(b, b'\0' | b'\x0c'))
        .map_or(content.len(), |length| at + length)
}

/// The end of the literal string opening at `at`: nested parentheses balance, and a
/// backslash escapes the byte after it.
fn literal_string_end(content: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut index = at;
    while index < content.len() {
        match content[index] {
            b'\\' => index += 1,
            b'(' => {
                depth += 1;
                // Deeper than anything real; lopdf has its own limit.
                if depth > 8 {
                    return None;
                }
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index + 1);
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
}

/// Writes the hex string opening at `at` as a literal string of the same bytes; returns
/// where it ends, or `None` when it is not one lopdf reads.
fn hex_string_as_literal(content: &[u8], at: usize, out: &mut Vec<u8>) -> Option<usize> {
    let length = content[at + 1..].iter().position(|&b| b == b'>')?;
    let end = at + 1 + length;
    // At most a byte per two digits, each escaped, and the parentheses.
    out.reserve(length + 3);
    out.push(b'(');
    let mut high = None;
    for &b in &content[at + 1..end] {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b' ' | b'\t' | b'\r' | b'\n' | b'\0' | b'\x0c' => continue,
            _ => return None,
        };
        match high.take() {
            None => high = Some(nibble),
            Some(h) => push_literal_byte(out, h << 4 | nibble),
        }
    }
    // An odd last digit is followed by an implied 0.
    if let Some(h) = high {
        push_literal_byte(out, h << 4);
    }
    out.push(b')');
    Some(end + 1)
}

/// A byte inside a literal string, escaped where it would end the string or be read as
/// a line end.
#[inline]
fn push_literal_byte(out: &mut Vec<u8>, byte: u8) {
    match byte {
        b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', byte]),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\n' => out.extend_from_slice(b"\\n"),
        _ => out.push(byte),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pdf_extract::Object;

    fn rewritten(content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        append_for_text(content, &mut out);
        out
    }

    /// The operations lopdf reads, with strings compared by their bytes only.
    fn operations(content: &[u8]) -> Vec<(String, Vec<Object>)> {
        fn normal(object: &Object) -> Object {
            match object {
                Object::String(bytes, _) => Object::string_literal(bytes.clone()),
                Object::Array(items) => Object::Array(items.iter().map(normal).collect()),
                other => other.clone(),
            }
        }
        pdf_extract::content::Content::decode(content)
            .unwrap()
            .operations
            .into_iter()
            .map(|o| (o.operator, o.operands.iter().map(normal).collect()))
            .collect()
    }

    #[test]
    fn hex_strings_become_the_same_literal_strings() {
        let content = b"BT /F1 10 Tf<01 28295C0d0A4>Tj [<41>-20(B\\)c)] TJ ET";
        let out = rewritten(content);
        assert!(!out.contains(&b'<'), "{}", String::from_utf8_lossy(&out));
        assert_eq!(operations(&out), operations(content));
    }

    #[test]
    fn colour_and_path_operators_are_dropped() {
        let content = b"0.1 w\nq 0 0.028 595.275 841.861 re\nW* n\nq 0 0 0 rg\nBT\n56.8 776.789 Td /F1 10 Tf<0102>Tj\nET\nQ\nQ\n";
        let out = rewritten(content);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "q\nq\nBT\n56.8 776.789 Td\n/F1 10 Tf\n(\u{1}\u{2})Tj\nET\nQ\nQ\n"
        );
        assert_eq!(operations(&out), kept_operations(content));
    }

    /// The operations of `content` that the rewriting keeps.
    fn kept_operations(content: &[u8]) -> Vec<(String, Vec<Object>)> {
        operations(content)
            .into_iter()
            .filter(|(operator, operands)| {
                let numbers = operands
                    .iter()
                    .all(|o| matches!(o, Object::Integer(_) | Object::Real(_)));
                !(numbers && dropped_operands(operator.as_bytes()) == Some(operands.len()))
            })
            .collect()
    }

    #[test]
    fn libreoffice_pages_keep_every_text_operation() {
        for name in [
            "mission-report.pdf",
            "newsletter-two-column.pdf",
            "handbook-headings.pdf",
        ] {
            let path = format!(
                "{}/tests/fixtures/formats/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let document = pdf_extract::Document::load(&path).unwrap();
            for (number, id) in document.get_pages() {
                let content = document.get_page_content(id).unwrap();
                let out = rewritten(&content);
                assert!(
                    out.len() < content.len(),
                    "{name} page {number} not rewritten"
                );
                assert_eq!(
                    operations(&out),
                    kept_operations(&content),
                    "{name} page {number}"
                );
            }
        }
    }

    #[test]
    fn operators_with_unexpected_operands_are_kept() {
        let content = b"0 0 rg /P <</MCID 3 /Ref 4 0 R>> BDC [3 2] 0 d 1 2 3 4 v EMC";
        assert_eq!(operations(&rewritten(content)), operations(content));
        assert_eq!(operations(&rewritten(content)).len(), 5);
    }

    #[test]
    fn streams_the_scanner_does_not_know_are_left_alone() {
        for content in [
            &b"BT % a comment\n(x) Tj ET"[..],
            b"BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI",
            b"BT (unclosed Tj ET",
            b"BT <4G> Tj ET",
            b"BT /A#20B 1 Tf ET",
            b"10Tf",
            b"{ }",
            b"[ 1 2",
        ] {
            assert_eq!(rewritten(content), content);
        }
    }

    #[test]
    fn numbers_are_those_lopdf_reads() {
        for number in ["0", "-1", "+2.5", ".5", "5.", "-.25"] {
            assert!(is_number(number.as_bytes()), "{number}");
        }
        for word in [
            "",
            ".",
            "-",
            "1.2.3",
            "1e5",
            "0x10",
            "+-1",
            "9999999999999999999",
        ] {
            assert!(!is_number(word.as_bytes()), "{word}");
        }
    }
}
