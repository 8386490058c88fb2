//! How common each English word is in general use, from a bundled frequency list, so
//! that the engine can tell a word of everyday English from a name, a term of the
//! field or a misspelling. Read-only data; never fetched, never written.
//!
//! `lexicon/english.tsv` holds the 28,338 lowercase ASCII words whose frequency on the
//! Zipf scale (log10 of occurrences per billion words) is 3.0 or more in wordfreq 3.1.1
//! (Robyn Speer et al., <https://github.com/rspeer/wordfreq>), whose data is licensed
//! CC BY-SA 4.0; see `lexicon/README.md` for how it was made.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::corpus::Synonyms;

/// A word at least this common (Zipf) is everyday English: seen by most readers many
/// times, so an unknown word this common is not a misspelling of a corpus word.
pub const EVERYDAY_ZIPF: f32 = 3.0;

const ENGLISH: &str = include_str!("lexicon/english.tsv");

/// The word → Zipf frequency table, parsed on first use (about 28,000 entries).
fn table() -> &'static FxHashMap<&'static str, f32> {
    static TABLE: OnceLock<FxHashMap<&'static str, f32>> = OnceLock::new();
    TABLE.get_or_init(|| {
        ENGLISH
            .lines()
            .filter_map(|line| {
                let (word, zipf) = line.split_once('\t')?;
                Some((word, zipf.parse().ok()?))
            })
            .collect()
    })
}

/// The Zipf frequency of `word` in general English, or `None` when it is rarer than
/// the list goes (Zipf 3.0, about once in a million words) or not a plain English word.
/// Case is ignored.
pub fn zipf(word: &str) -> Option<f32> {
    if word.bytes().any(|b| b.is_ascii_uppercase()) {
        table().get(word.to_ascii_lowercase().as_str()).copied()
    } else {
        table().get(word).copied()
    }
}

/// Whether `word` is everyday English (see [`EVERYDAY_ZIPF`]).
pub fn is_everyday(word: &str) -> bool {
    zipf(word).is_some_and(|z| z >= EVERYDAY_ZIPF)
}

const NAMES: &str = include_str!("lexicon/names.toml");

/// Places and bodies with the adjectives made of them ("Russia", "Russian"), which the
/// stemmer leaves apart, as synonym groups that every corpus shares.
pub fn name_forms() -> &'static Synonyms {
    static NAME_FORMS: OnceLock<Synonyms> = OnceLock::new();
    NAME_FORMS.get_or_init(|| {
        Synonyms::parse("lexicon/names.toml", NAMES).expect("the bundled name list parses")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_are_frequent_and_names_and_misspellings_are_not_listed() {
        let the = zipf("the").unwrap();
        let bread = zipf("Bread").unwrap();
        assert!(the > 7.0 && (4.0..5.0).contains(&bread), "{the} {bread}");
        assert!(is_everyday("bread") && is_everyday("bake"));
        for rare in ["perseverence", "hubbel", "blagonravov", "kibo", ""] {
            assert!(!is_everyday(rare), "{rare}");
        }
    }

    #[test]
    fn name_forms_pair_places_with_their_adjectives() {
        let groups = &name_forms().groups;
        assert!(groups.len() > 50);
        assert!(groups.contains(&vec!["Russia".to_string(), "Russian".to_string()]));
    }

    #[test]
    fn every_line_of_the_list_parses() {
        assert_eq!(table().len(), ENGLISH.lines().count());
    }
}
