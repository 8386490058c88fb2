//! Small helpers on text that several modules share (clipping user input, ...). Pure
//! functions on `str`; nothing here knows documents, indexes or Discord.

/// Cuts a string to at most `max` characters, at a character boundary.
pub fn clip_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((byte, _)) => &text[..byte],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_counts_characters_not_bytes() {
        let multibyte = "🚀".repeat(5_000);
        assert_eq!(clip_chars(&multibyte, 10).chars().count(), 10);
        assert_eq!(clip_chars("short", 10), "short");
        assert_eq!(clip_chars("abc", 0), "");
    }
}
