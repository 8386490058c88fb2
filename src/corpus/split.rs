//! Splits a document's sections into passages that read well on their own: whole
//! paragraphs packed together, long paragraphs cut between sentences, never inside one.

/// Passages aim to have at least this many words (shorter ones are merged with a neighbour).
pub const MIN_WORDS: usize = 60;
/// Passages never exceed this many words unless a single sentence is longer.
pub const MAX_WORDS: usize = 250;

/// Whether an ASCII byte is whitespace as `char::is_whitespace` sees it: ASCII's own
/// definition leaves out the vertical tab.
fn is_ascii_space(byte: u8) -> bool {
    byte.is_ascii_whitespace() || byte == 0x0b
}

/// Counts whitespace-separated words, as `split_whitespace` separates them.
pub fn word_count(text: &str) -> usize {
    // Counting starts of words in one pass, without the slices `split_whitespace`
    // makes, is a third of its cost; splitting counts the words of every paragraph.
    let mut words = 0;
    let mut in_word = false;
    if text.is_ascii() {
        for &byte in text.as_bytes() {
            let space = is_ascii_space(byte);
            words += usize::from(!space && !in_word);
            in_word = !space;
        }
    } else {
        for c in text.chars() {
            let space = c.is_whitespace();
            words += usize::from(!space && !in_word);
            in_word = !space;
        }
    }
    words
}

/// The words of `text` joined by single spaces, as `split_whitespace` and `join(" ")`
/// would give them, in one pass that decodes only non-ASCII characters: loading spent
/// half its time in `split_whitespace`.
pub fn collapse_whitespace(text: &str) -> String {
    if is_collapsed(text) {
        return text.to_string();
    }
    let mut collapsed = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut word_start = 0;
    let mut at = 0;
    while at < bytes.len() {
        let (space, width) = if bytes[at].is_ascii() {
            (is_ascii_space(bytes[at]), 1)
        } else {
            let c = text[at..]
                .chars()
                .next()
                .expect("`at` is a character boundary");
            (c.is_whitespace(), c.len_utf8())
        };
        if space {
            push_word(&mut collapsed, &text[word_start..at]);
            word_start = at + width;
        }
        at += width;
    }
    push_word(&mut collapsed, &text[word_start..]);
    collapsed
}

/// Whether `text` is already words joined by single spaces, which most text of a corpus
/// is: then it is copied whole instead of word by word. Written as whole-slice passes
/// without early exits, which the compiler turns into vector code; a byte-by-byte loop
/// with a branch per space cost 2 ns a byte.
fn is_collapsed(text: &str) -> bool {
    let (ascii_space, non_ascii) = text.bytes().fold((false, false), |(space, wide), byte| {
        (
            space | (byte != b' ' && is_ascii_space(byte)),
            wide | !byte.is_ascii(),
        )
    });
    !ascii_space
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && (!non_ascii || !text.chars().any(|c| !c.is_ascii() && c.is_whitespace()))
}

fn push_word(collapsed: &mut String, word: &str) {
    if word.is_empty() {
        return;
    }
    if !collapsed.is_empty() {
        collapsed.push(' ');
    }
    collapsed.push_str(word);
}

/// Packs the paragraphs of one section into passage texts of about
/// [`MIN_WORDS`]..=[`MAX_WORDS`] words, preserving order.
///
/// Paragraph breaks inside a passage are kept as blank lines so that lists and
/// paragraphs still read as such when the passage is shown alone.
pub fn pack_paragraphs<S: AsRef<str>>(paragraphs: &[S]) -> Vec<String> {
    pack_paragraphs_with_starts(paragraphs)
        .into_iter()
        .map(|(text, _)| text)
        .collect()
}

/// [`pack_paragraphs`], with the index of the paragraph each passage starts in, so that
/// a paged document can tell on which page a passage begins.
pub fn pack_paragraphs_with_starts<S: AsRef<str>>(paragraphs: &[S]) -> Vec<(String, usize)> {
    // Units are whole paragraphs, or sentence groups of paragraphs too long to keep whole.
    let mut units: Vec<(String, usize, usize)> = Vec::new();
    for (index, paragraph) in paragraphs.iter().enumerate() {
        let paragraph = paragraph.as_ref().trim();
        let words = word_count(paragraph);
        if words == 0 {
            continue;
        }
        if words <= MAX_WORDS {
            units.push((paragraph.to_string(), words, index));
        } else {
            units.extend(
                group_sentences(paragraph)
                    .into_iter()
                    .map(|(text, words)| (text, words, index)),
            );
        }
    }

    let mut passages: Vec<(String, usize, usize)> = Vec::new();
    for (text, words, index) in units {
        match passages.last_mut() {
            Some((current, current_words, _))
                if *current_words + words <= MAX_WORDS
                    // A full-enough passage is not padded with the start of a new topic.
                    && (*current_words < MIN_WORDS || *current_words + words <= MAX_WORDS * 3 / 4) =>
            {
                current.push_str("\n\n");
                current.push_str(&text);
                *current_words += words;
            }
            _ => passages.push((text, words, index)),
        }
    }

    // A short tail reads better joined to its predecessor, even slightly over the limit.
    if passages.len() >= 2 {
        let (_, last_words, _) = passages[passages.len() - 1];
        let (_, before_words, _) = passages[passages.len() - 2];
        if last_words < MIN_WORDS && before_words + last_words <= MAX_WORDS + MIN_WORDS / 2 {
            let (tail, tail_words, _) = passages.pop().expect("two passages");
            let previous = passages.last_mut().expect("one passage");
            previous.0.push_str("\n\n");
            previous.0.push_str(&tail);
            previous.1 += tail_words;
        }
    }
    passages
        .into_iter()
        .map(|(text, _, index)| (text, index))
        .collect()
}

/// Cuts an over-long paragraph into runs of whole sentences of at most [`MAX_WORDS`] words,
/// balanced so that the last run is not a stub.
fn group_sentences(paragraph: &str) -> Vec<(String, usize)> {
    let sentences: Vec<&str> = split_sentences(paragraph)
        .into_iter()
        .flat_map(cut_runaway_sentence)
        .collect();
    let total: usize = sentences.iter().map(|s| word_count(s)).sum();
    let pieces = total.div_ceil(MAX_WORDS).max(1);
    let target = total.div_ceil(pieces);

    let mut groups: Vec<(String, usize)> = Vec::new();
    let mut current = String::new();
    let mut current_words = 0;
    for sentence in sentences {
        let words = word_count(sentence);
        if current_words > 0 && (current_words + words > MAX_WORDS || current_words >= target) {
            groups.push((std::mem::take(&mut current), current_words));
            current_words = 0;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(sentence);
        current_words += words;
    }
    if current_words > 0 {
        groups.push((current, current_words));
    }
    groups
}

/// A "sentence" of more than four passages' worth of words is no sentence (a text
/// without punctuation, a word list): it is cut every [`MAX_WORDS`] words instead, so
/// that no passage grows without bound.
fn cut_runaway_sentence(sentence: &str) -> Vec<&str> {
    if word_count(sentence) <= 4 * MAX_WORDS {
        return vec![sentence];
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut words = 0;
    let mut in_word = false;
    for (at, c) in sentence.char_indices() {
        let space = c.is_whitespace();
        if !space && !in_word {
            if words == MAX_WORDS {
                pieces.push(sentence[start..at].trim_end());
                start = at;
                words = 0;
            }
            words += 1;
        }
        in_word = !space;
    }
    pieces.push(&sentence[start..]);
    pieces
}

/// Words that end with a full stop without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "no", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "gen",
    "col", "lt", "capt", "cmdr", "co", "inc", "ltd", "corp", "fig", "al", "u.s", "u.k", "u.n",
];

/// Splits text into sentences at `.`, `!` or `?` followed by white space and a capital
/// letter, digit or opening quote, skipping common abbreviations and initials.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut sentences = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(byte, c)) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        // Closing quotes and brackets belong to the sentence they close.
        let mut end = i + 1;
        while end < chars.len() && matches!(chars[end].1, '"' | '\'' | ')' | '”' | '’' | ']') {
            end += 1;
        }
        let Some(&(_, after)) = chars.get(end) else {
            continue;
        };
        if !after.is_whitespace() {
            continue;
        }
        let next = chars[end..]
            .iter()
            .map(|&(_, c)| c)
            .find(|c| !c.is_whitespace());
        let starts_sentence = next.is_some_and(|n| {
            n.is_uppercase() || n.is_ascii_digit() || matches!(n, '"' | '“' | '\'' | '(' | '*')
        });
        if !starts_sentence || (c == '.' && ends_with_abbreviation(&text[start..byte])) {
            continue;
        }
        let end_byte = chars.get(end).map_or(text.len(), |&(b, _)| b);
        let sentence = text[start..end_byte].trim();
        if !sentence.is_empty() {
            sentences.push(sentence);
        }
        start = end_byte;
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        sentences.push(rest);
    }
    sentences
}

fn ends_with_abbreviation(before_dot: &str) -> bool {
    let last_word = before_dot
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    // Initials such as the "J" of "J. Smith" or the "S" of "U.S".
    if last_word.chars().count() == 1 && last_word.chars().all(char::is_uppercase) {
        return true;
    }
    let lower = last_word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize, word: &str) -> String {
        let mut text = vec![word; n].join(" ");
        text.push('.');
        text
    }

    proptest::proptest! {
        #[test]
        fn word_count_agrees_with_split_whitespace(text in "[a-z \t\n\r\x0b\x0c.é\u{a0}\u{2003}]{0,80}") {
            proptest::prop_assert_eq!(word_count(&text), text.split_whitespace().count());
        }

        #[test]
        fn collapsing_whitespace_agrees_with_split_whitespace(text in "([a-z \t\n\r\x0b\x0c.é\u{a0}\u{2003}\u{85}]|\\PC){0,80}") {
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            proptest::prop_assert_eq!(collapse_whitespace(&text), joined);
        }
    }

    #[test]
    fn sentences_split_at_terminal_punctuation_only() {
        let text =
            "The U.S. and Dr. Smith met. They signed it! Did they? Yes (in 1998.) Then 2000 came.";
        assert_eq!(
            split_sentences(text),
            vec![
                "The U.S. and Dr. Smith met.",
                "They signed it!",
                "Did they?",
                "Yes (in 1998.)",
                "Then 2000 came."
            ]
        );
    }

    #[test]
    fn decimal_numbers_and_lowercase_continuations_do_not_split() {
        let text = "It weighs 4.5 tonnes. e.g. the module. version 2.0 is out.";
        assert_eq!(split_sentences(text), vec![text]);
    }

    #[test]
    fn small_paragraphs_are_packed_together() {
        let paragraphs = [words(30, "alpha"), words(30, "beta"), words(30, "gamma")];
        let passages = pack_paragraphs(&paragraphs);
        assert_eq!(passages.len(), 1);
        assert_eq!(word_count(&passages[0]), 90);
        assert!(passages[0].contains("\n\n"), "paragraph breaks are kept");
    }

    #[test]
    fn passages_never_exceed_the_maximum_and_never_cut_sentences() {
        let sentence = "The station was assembled in orbit by five agencies over thirteen years.";
        let paragraph = vec![sentence; 100].join(" "); // 1,200 words in one paragraph
        let passages = pack_paragraphs(&[paragraph]);
        assert!(passages.len() >= 5);
        for passage in &passages {
            let n = word_count(passage);
            assert!((MIN_WORDS..=MAX_WORDS).contains(&n), "{n} words");
            assert!(passage.starts_with("The station") && passage.ends_with("years."));
        }
    }

    #[test]
    fn a_short_tail_is_merged_into_the_previous_passage() {
        let paragraphs = [words(200, "alpha"), words(20, "beta")];
        let passages = pack_paragraphs(&paragraphs);
        assert_eq!(passages.len(), 1);
        assert_eq!(word_count(&passages[0]), 220);
    }

    #[test]
    fn a_full_passage_does_not_absorb_the_next_paragraph() {
        let paragraphs = [words(150, "alpha"), words(90, "beta")];
        assert_eq!(pack_paragraphs(&paragraphs).len(), 2);
    }

    #[test]
    fn each_passage_knows_the_paragraph_it_starts_in() {
        let paragraphs = [
            words(150, "alpha"),
            String::new(),
            words(90, "beta"),
            words(20, "gamma"),
        ];
        let starts: Vec<usize> = pack_paragraphs_with_starts(&paragraphs)
            .into_iter()
            .map(|(_, start)| start)
            .collect();
        assert_eq!(starts, vec![0, 2]);
    }

    #[test]
    fn empty_paragraphs_give_no_passages() {
        assert!(pack_paragraphs(&["", "   "]).is_empty());
    }
}
