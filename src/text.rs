//! Small helpers on text that several modules share (clipping user input, ...). Pure
//! functions on `str`; nothing here knows documents, indexes or Discord.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

/// Removes invisible format characters (Unicode category Cf) from user text before it
/// is echoed: bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// the direction marks (U+200E, U+200F, U+061C), zero-width spaces and joiners
/// (U+200B–U+200D, U+2060, U+FEFF), soft hyphens, tag characters. A bidi control in an
/// echoed question could make the bot's whole reply read as something else. Never used
/// on corpus text, whose authors may need a joiner or a mark.
pub fn strip_format_chars(text: &str) -> Cow<'_, str> {
    // The regex crate's Unicode tables know the whole Cf category, kept current with
    // Unicode, rather than a hand-written list of ranges.
    static FORMAT: OnceLock<Regex> = OnceLock::new();
    let format = FORMAT.get_or_init(|| Regex::new(r"\p{Cf}").expect("a valid regex"));
    format.replace_all(text, "")
}

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

    #[test]
    fn bidi_and_invisible_format_characters_are_stripped() {
        let controls = [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{E0041}',
        ];
        for c in controls {
            let text = format!("Who{c} built Kibo?");
            assert_eq!(
                strip_format_chars(&text),
                "Who built Kibo?",
                "U+{:04X}",
                c as u32
            );
        }
        // Visible text of every script stays as it is, and so does ordinary whitespace.
        for text in ["Kibo 希望 كيبو Кибо", "a\nb\tc", "🚀 launch", ""] {
            assert!(matches!(strip_format_chars(text), Cow::Borrowed(t) if t == text));
        }
    }
}
