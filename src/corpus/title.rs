//! Titles from file names, spelled the way the document itself spells their words, so
//! that `nasa.txt` is titled "NASA" and not "Nasa".

/// Short words that stay lowercase inside a title made from a file name.
const SMALL_WORDS: &[&str] = &[
    "a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with",
];

/// A title from a document id's file name (`international_space_station`): the words of
/// the name, each spelled as the text most often spells it. The whole name as a phrase is
/// looked for first ("International Space Station"), then each word on its own; a word
/// the text writes only in lowercase, or not at all, is capitalised, except short words
/// such as "of" inside the title.
pub fn from_file_name(id: &str, text: &str) -> String {
    let stem = id.rsplit('/').next().unwrap_or(id);
    let words: Vec<&str> = stem
        .split(|c: char| c == '-' || c == '_' || c == '.' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return stem.to_string();
    }
    let tokens = tokens(text);
    let spelled: Vec<String> = most_frequent_phrase(&tokens, &words).unwrap_or_else(|| {
        words
            .iter()
            .map(|word| {
                most_frequent_phrase(&tokens, &[word])
                    .and_then(|mut spelling| spelling.pop())
                    .unwrap_or_else(|| word.to_string())
            })
            .collect()
    });
    spelled
        .iter()
        .enumerate()
        .map(|(index, word)| {
            let lowercase = !word.chars().any(char::is_uppercase);
            if lowercase && (index == 0 || !SMALL_WORDS.contains(&word.as_str())) {
                capitalise(word)
            } else {
                word.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of a text: runs of letters and digits.
fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The most frequent spelling of `words` as consecutive tokens, ignoring case; ties go
/// to the spelling seen first.
fn most_frequent_phrase(tokens: &[&str], words: &[&str]) -> Option<Vec<String>> {
    let mut counts: Vec<(Vec<&str>, usize)> = Vec::new();
    for window in tokens.windows(words.len()) {
        let matches = window
            .iter()
            .zip(words)
            .all(|(token, word)| token.len() == word.len() && token.eq_ignore_ascii_case(word));
        if !matches {
            continue;
        }
        match counts.iter_mut().find(|(spelling, _)| spelling == window) {
            Some((_, count)) => *count += 1,
            None => counts.push((window.to_vec(), 1)),
        }
    }
    let mut best: Option<(Vec<&str>, usize)> = None;
    for (spelling, count) in counts {
        if best.as_ref().is_none_or(|(_, most)| count > *most) {
            best = Some((spelling, count));
        }
    }
    best.map(|(spelling, _)| spelling.into_iter().map(str::to_string).collect())
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acronym_keeps_the_spelling_the_text_uses() {
        let text = "NASA was founded in 1958. Nasa is a misspelling; NASA runs the programme.";
        assert_eq!(from_file_name("agencies/nasa", text), "NASA");
        assert_eq!(
            from_file_name("esa", "The agency (ESA) has 23 members. ESA builds."),
            "ESA"
        );
    }

    #[test]
    fn a_phrase_is_spelled_as_the_text_spells_it_as_a_whole() {
        // "space" alone is mostly lowercase, but the phrase is a name.
        let text = "The International Space Station is in space. The International Space \
            Station orbits in space, far out in space.";
        assert_eq!(
            from_file_name("international_space_station", text),
            "International Space Station"
        );
    }

    #[test]
    fn words_the_text_does_not_use_are_capitalised_and_small_words_stay_small() {
        assert_eq!(
            from_file_name("treaty-of-the-moon", "nothing matching"),
            "Treaty of the Moon"
        );
        assert_eq!(from_file_name("gateway", "the gateway module"), "Gateway");
    }

    #[test]
    fn words_found_apart_take_their_own_spellings() {
        let text = "JAXA built Kibo. The kibo module and JAXA.";
        assert_eq!(from_file_name("jaxa-kibo", text), "JAXA Kibo");
    }
}
