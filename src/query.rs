//! Turns a person's free text into a tantivy query without ever using tantivy's query
//! syntax: the text is analyzed into plain terms, so no input can be a syntax error.
//! Adds field boosts, proximity, typo tolerance and synonyms on top of BM25.

use std::collections::HashSet;

use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

use crate::corpus::Synonyms;
use crate::index::Fields;

/// Only this much of a question is read; the rest cannot change the answer much
/// and would only cost time.
pub const MAX_QUESTION_CHARS: usize = 1_000;
/// At most this many distinct terms are searched for.
pub const MAX_TERMS: usize = 32;

/// Words of a question that say what kind of answer is wanted, not what it is about.
/// They are searched for only when a question has nothing else.
const QUESTION_WORDS: &[&str] = &[
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "do", "does", "did",
    "can", "could", "would", "should", "tell", "me", "about", "please", "explain", "describe", "i",
    "you", "we", "my", "your", "our", "has", "have", "had", "were", "am", "any", "some", "know",
    "give", "list", "name", "many", "much",
];

/// Weights of the parts of the query; tuned with `spacecollab eval`.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub title: f32,
    pub section: f32,
    pub body: f32,
    /// Pairs of question words found near each other in a passage.
    pub proximity: f32,
    /// Close spellings of a word that does not occur in the index.
    pub fuzzy: f32,
    /// Alternative names from the synonyms file.
    pub synonym: f32,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            title: 1.5,
            section: 1.2,
            body: 1.0,
            proximity: 0.5,
            fuzzy: 0.3,
            synonym: 0.6,
        }
    }
}

/// A question analyzed into index terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Terms {
    /// Distinct analyzed terms, in question order.
    pub terms: Vec<String>,
    /// Alternative phrasings from the synonym groups, each a sequence of analyzed terms.
    pub alternatives: Vec<Vec<String>>,
}

/// Cuts a string to at most `max` characters, at a character boundary.
pub fn clip_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((byte, _)) => &text[..byte],
        None => text,
    }
}

/// Runs the index analyzer over `text`.
pub fn analyze(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        tokens.push(stream.token().text.clone());
    }
    tokens
}

/// Analyzes synonym groups once per index generation.
#[derive(Debug, Clone, Default)]
pub struct AnalyzedSynonyms {
    groups: Vec<Vec<Vec<String>>>,
}

impl AnalyzedSynonyms {
    pub fn new(analyzer: &TextAnalyzer, synonyms: &Synonyms) -> AnalyzedSynonyms {
        let groups = synonyms
            .groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|term| analyze(analyzer, term))
                    .filter(|tokens| !tokens.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|group| group.len() >= 2)
            .collect();
        AnalyzedSynonyms { groups }
    }

    /// Phrasings from groups that have a member in `tokens`, other than that member.
    fn alternatives(&self, tokens: &[String]) -> Vec<Vec<String>> {
        let mut alternatives = Vec::new();
        for group in &self.groups {
            let present = group.iter().position(|member| contains_run(tokens, member));
            if let Some(found) = present {
                for (i, member) in group.iter().enumerate() {
                    if i != found && !contains_run(tokens, member) && !alternatives.contains(member)
                    {
                        alternatives.push(member.clone());
                    }
                }
            }
        }
        alternatives
    }
}

fn contains_run(haystack: &[String], needle: &[String]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// Analyzes a question: clipped, analyzed, question words dropped (unless nothing else
/// is left), duplicates removed, capped at [`MAX_TERMS`].
pub fn question_terms(
    analyzer: &TextAnalyzer,
    synonyms: &AnalyzedSynonyms,
    question: &str,
) -> Terms {
    let question = clip_chars(question, MAX_QUESTION_CHARS);
    let tokens = analyze(analyzer, question);
    let question_words: HashSet<String> = QUESTION_WORDS
        .iter()
        .flat_map(|word| analyze(analyzer, word))
        .collect();
    let content: Vec<String> = tokens
        .iter()
        .filter(|t| !question_words.contains(*t))
        .cloned()
        .collect();
    let chosen = if content.is_empty() { tokens } else { content };

    let mut seen = HashSet::new();
    let terms: Vec<String> = chosen
        .iter()
        .filter(|t| seen.insert(t.to_string()))
        .take(MAX_TERMS)
        .cloned()
        .collect();
    let alternatives = synonyms.alternatives(&chosen);
    Terms {
        terms,
        alternatives,
    }
}

/// Builds the query for analyzed terms. Returns `None` when there is nothing to search.
pub fn build_query(
    terms: &Terms,
    fields: Fields,
    searcher: &Searcher,
    weights: Weights,
) -> Option<Box<dyn Query>> {
    if terms.terms.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let weighted_fields = [
        (fields.title, weights.title),
        (fields.section, weights.section),
        (fields.body, weights.body),
    ];
    for text in &terms.terms {
        for (field, weight) in weighted_fields {
            clauses.push((Occur::Should, boosted(term_query(field, text), weight)));
        }
        let unknown = weighted_fields.iter().all(|(field, _)| {
            searcher
                .doc_freq(&Term::from_field_text(*field, text))
                .unwrap_or(0)
                == 0
        });
        // Only words the index has never seen get typo tolerance, so a fuzzy match can
        // never outrank an exact one.
        if unknown && text.chars().count() >= 4 {
            let distance = if text.chars().count() >= 8 { 2 } else { 1 };
            for (field, weight) in weighted_fields {
                let fuzzy = FuzzyTermQuery::new(Term::from_field_text(field, text), distance, true);
                clauses.push((
                    Occur::Should,
                    boosted(Box::new(fuzzy), weight * weights.fuzzy),
                ));
            }
        }
    }
    for pair in terms.terms.windows(2) {
        let phrase = PhraseQuery::new_with_offset_and_slop(
            vec![
                (0, Term::from_field_text(fields.body, &pair[0])),
                (1, Term::from_field_text(fields.body, &pair[1])),
            ],
            2,
        );
        clauses.push((Occur::Should, boosted(Box::new(phrase), weights.proximity)));
    }
    for alternative in &terms.alternatives {
        for (field, weight) in weighted_fields {
            clauses.push((
                Occur::Should,
                boosted(phrase_or_term(field, alternative), weight * weights.synonym),
            ));
        }
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn phrase_or_term(field: Field, tokens: &[String]) -> Box<dyn Query> {
    if tokens.len() == 1 {
        return term_query(field, &tokens[0]);
    }
    let terms = tokens
        .iter()
        .map(|t| Term::from_field_text(field, t))
        .collect();
    Box::new(PhraseQuery::new(terms))
}

fn boosted(query: Box<dyn Query>, weight: f32) -> Box<dyn Query> {
    if (weight - 1.0).abs() < f32::EPSILON {
        query
    } else {
        Box::new(BoostQuery::new(query, weight))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::english_analyzer;

    fn terms(question: &str) -> Vec<String> {
        question_terms(&english_analyzer(), &AnalyzedSynonyms::default(), question).terms
    }

    #[test]
    fn question_words_and_stop_words_are_dropped() {
        assert_eq!(
            terms("Which agencies built the ISS?"),
            vec!["agenc", "built", "iss"]
        );
    }

    #[test]
    fn a_question_of_only_question_words_keeps_them() {
        assert_eq!(terms("Who?"), vec!["who"]);
    }

    #[test]
    fn query_syntax_is_just_text() {
        assert_eq!(
            terms("title:(ISS^2 AND -\"Zarya\")"),
            vec!["titl", "iss", "2", "zarya"]
        );
        assert!(terms("*^2 (((( ))))").contains(&"2".to_string()));
    }

    #[test]
    fn long_input_is_clipped_and_capped() {
        let long: String = (0..50_000).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&long).len(), MAX_TERMS);
        let multibyte = "🚀".repeat(5_000);
        assert_eq!(clip_chars(&multibyte, 10).chars().count(), 10);
    }

    #[test]
    fn synonyms_add_the_other_members_of_a_group() {
        let analyzer = english_analyzer();
        let synonyms = Synonyms {
            groups: vec![vec!["ISS".into(), "International Space Station".into()]],
        };
        let analyzed = AnalyzedSynonyms::new(&analyzer, &synonyms);
        let found = question_terms(&analyzer, &analyzed, "who runs the ISS");
        assert_eq!(found.alternatives, vec![vec!["intern", "space", "station"]]);
        let reverse = question_terms(&analyzer, &analyzed, "the international space station");
        assert_eq!(reverse.alternatives, vec![vec!["iss"]]);
    }
}
