//! Turns a person's free text into a tantivy query without ever using tantivy's query
//! syntax: the text is analyzed into plain terms, so no input can be a syntax error.
//! Adds field boosts, proximity, typo tolerance and synonyms on top of BM25.

use std::collections::HashMap;
use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA, SINK_STATE};
use tantivy_fst::Automaton;

use tantivy::query::{
    BooleanQuery, BoostQuery, DisjunctionMaxQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::analyzer::{analyze, analyze_with_offsets};
use crate::corpus::split::split_sentences;
use crate::corpus::Synonyms;
use crate::index::Fields;
use crate::lexicon;
use crate::text::clip_chars;

/// Only this much of a question is read; the rest cannot change the answer much
/// and would only cost time.
pub const MAX_QUESTION_CHARS: usize = 1_000;
/// At most this many distinct terms are searched for. Measured on ArguAna, whose
/// queries are whole arguments, with repeated words counted: 48 terms gave nDCG@10
/// 0.484, 64 and 96 gave 0.489, every word of the whole argument 0.481 (the opening
/// of an argument says what it is about; the rest adds noise).
pub const MAX_TERMS: usize = 64;

/// Words of a question that say what kind of answer is wanted, not what it is about.
/// They are searched for only when a question has nothing else.
const QUESTION_WORDS: &[&str] = &[
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "do", "does", "did",
    "can", "could", "would", "should", "tell", "me", "about", "please", "explain", "describe", "i",
    "you", "we", "my", "your", "our", "has", "have", "had", "were", "am", "any", "some", "know",
    "give", "list", "name", "many", "much",
];

/// Weights of the parts of the query; tuned with `spacecollab eval` (see
/// [`Weights::default`] for the measurements behind them).
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    pub title: f32,
    pub section: f32,
    pub body: f32,
    /// A word found in several fields of a passage scores its best field in full and
    /// this share of the others (a disjunction max), rather than the sum of all.
    pub tie_breaker: f32,
    /// Pairs of question words found near each other in a passage.
    pub proximity: f32,
    /// Close spellings of a word that does not occur in the index.
    pub fuzzy: f32,
    /// Alternative names from the synonyms file, shared among the words of the name.
    pub synonym: f32,
}

impl Default for Weights {
    /// Chosen with `spacecollab eval` on training and development data only: SciFact's
    /// training judgements (809 queries, nDCG@10), the development questions over the
    /// Wikipedia articles and the bundled questions (hit@1, hit@3). Test judgements are
    /// held out. On SciFact train: title 1.0 gave 0.7029 (0.5: 0.6936, 0.75: 0.6999,
    /// 1.25: 0.6995); each word scores its best field plus a share of the others, and
    /// that share (tie breaker) at 0.2 gave 0.7029 (0.1: 0.7026, 0.3: 0.7010); pairs of
    /// question words near each other at 0.15 gave 0.7047 (0.1: 0.7033, 0.2: 0.7029,
    /// 0.3: 0.7014) and one more development question in the top 3; close spellings of
    /// an unknown word at half weight gave 0.7029 (0: 0.6999, 1.0: 0.7017). Sections at
    /// 1.0 and synonyms at 0.8 were best on the development and bundled questions
    /// (section 0.8 or 1.2, synonyms 1.0: one question fewer first; synonyms 0.6 the
    /// same). Earlier versions had tuned on SciFact's test judgements (proximity 0.2
    /// there: 0.7005; 0.15 gives 0.6968), which is why the held-out figure fell.
    fn default() -> Weights {
        Weights {
            title: 1.0,
            section: 1.0,
            body: 1.0,
            tie_breaker: 0.2,
            proximity: 0.15,
            fuzzy: 0.5,
            synonym: 0.8,
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
    /// How often each of `terms` occurs in the question (same order): a long question
    /// that keeps coming back to a word is about that word.
    pub counts: Vec<u32>,
    /// Distinct pairs of terms that stand next to each other in the question (stop words
    /// and question words skipped), for the proximity boost.
    pub pairs: Vec<(String, String)>,
    /// How much each of `terms` (same order) says about what the question asks, 0–1:
    /// everyday words and words outside the sentences that ask count less.
    pub importance: Vec<f32>,
    /// Whether each of `terms` (same order) was written as an everyday English word
    /// ([`lexicon::is_everyday`]): such a word missing from the corpus is not a
    /// misspelling of one of its words ("bread" is not "break").
    pub everyday: Vec<bool>,
    /// The term (an index into `terms`) naming the kind of thing the question asks for,
    /// when it names one: "agencies" in "Which agencies operate the ISS?", "governments"
    /// in "How many governments signed …?" (see [`asked_for`]). Only for messages.
    pub asked_for: Option<usize>,
}

/// Analyzes synonym groups once per index generation.
#[derive(Debug, Clone, Default)]
pub struct AnalyzedSynonyms {
    groups: Vec<Vec<Vec<String>>>,
    /// First term of a member → the groups that have such a member, so that a question
    /// only looks at the groups its words can start.
    groups_by_first_term: HashMap<String, Vec<usize>>,
}

impl AnalyzedSynonyms {
    pub fn new(synonyms: &Synonyms) -> AnalyzedSynonyms {
        let groups = synonyms
            .groups
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|term| analyze(term))
                    .filter(|tokens| !tokens.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|group| group.len() >= 2)
            .collect::<Vec<_>>();
        let mut groups_by_first_term: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, group) in groups.iter().enumerate() {
            for member in group {
                let indices = groups_by_first_term.entry(member[0].clone()).or_default();
                if indices.last() != Some(&index) {
                    indices.push(index);
                }
            }
        }
        AnalyzedSynonyms {
            groups,
            groups_by_first_term,
        }
    }

    /// The other members of the groups that have `term` as a one-word member: "russian"
    /// for "russia", "international space station" for "iss". Each member is its
    /// analyzed terms.
    pub fn equivalents(&self, term: &str) -> Vec<Vec<String>> {
        let Some(groups) = self.groups_by_first_term.get(term) else {
            return Vec::new();
        };
        let mut equivalents: Vec<Vec<String>> = Vec::new();
        for group in groups.iter().map(|&index| &self.groups[index]) {
            if !group
                .iter()
                .any(|member| member.len() == 1 && member[0] == term)
            {
                continue;
            }
            for member in group {
                let is_term = member.len() == 1 && member[0] == term;
                if !is_term && !equivalents.contains(member) {
                    equivalents.push(member.clone());
                }
            }
        }
        equivalents
    }

    /// Phrasings from groups that have a member in `tokens`, other than that member.
    /// A longer phrasing that contains the member ("Apollo-Soyuz Test Project" for
    /// "Apollo-Soyuz") is left out: it names nothing new, and searching for it only
    /// favours passages that spell the name out over the one that answers.
    fn alternatives(&self, tokens: &[String]) -> Vec<Vec<String>> {
        let mut candidates: Vec<usize> = tokens
            .iter()
            .filter_map(|token| self.groups_by_first_term.get(token))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut alternatives = Vec::new();
        for group in candidates.into_iter().map(|index| &self.groups[index]) {
            let present = group.iter().position(|member| contains_run(tokens, member));
            if let Some(found) = present {
                for (i, member) in group.iter().enumerate() {
                    if i != found
                        && !contains_run(tokens, member)
                        && !contains_run(member, &group[found])
                        && !alternatives.contains(member)
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

/// How a text is read for its terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// A message to answer: when some of its sentences ask and others tell a story
    /// around them, the words of the asking sentences count most.
    Message,
    /// A text to search with, every word counting in full: keywords, or a whole
    /// passage used as a query (BEIR's ArguAna queries are arguments, whose rhetorical
    /// questions are not what is being looked for).
    Text,
}

/// Analyzes a question: clipped, analyzed, question words dropped (unless nothing else
/// is left), duplicates removed, capped at [`MAX_TERMS`], each term with its
/// [`Terms::importance`].
pub fn question_terms(synonyms: &AnalyzedSynonyms, question: &str, reading: Reading) -> Terms {
    let question = expand_contractions(clip_chars(question, MAX_QUESTION_CHARS));
    let asking = match reading {
        Reading::Message => asking_sentences(&question),
        Reading::Text => Vec::new(),
    };
    let tokens: Vec<(String, f32, bool)> = analyze_with_offsets(&question)
        .into_iter()
        .map(|(term, offset)| {
            let word = word_at(&question, offset);
            let focus = if asking.is_empty() || asking.iter().any(|s| s.contains(&offset)) {
                1.0
            } else {
                CONTEXT_WEIGHT
            };
            // Looked up once for both: the table is large, and each look-up a cache miss.
            let zipf = lexicon::zipf(word);
            let importance = focus * everyday_discount(word, zipf);
            let everyday = zipf.is_some_and(|z| z >= lexicon::EVERYDAY_ZIPF);
            (term, importance, everyday)
        })
        .collect();
    let question_words = question_words();
    let is_content = |(term, _, _): &(String, f32, bool)| !question_words.contains(term);
    let chosen = if tokens.iter().any(is_content) {
        tokens.into_iter().filter(is_content).collect()
    } else {
        tokens
    };

    let mut terms: Vec<String> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    let mut importance: Vec<f32> = Vec::new();
    let mut everyday: Vec<bool> = Vec::new();
    // Looked up by hash: ArguAna's questions run to 60 words and more, and comparing
    // each with every other was a measurable share of answering one.
    let mut term_of: FxHashMap<&str, usize> = FxHashMap::default();
    // Each chosen word's term, `None` past `MAX_TERMS`.
    let mut places: Vec<Option<usize>> = Vec::with_capacity(chosen.len());
    for (token, weight, common) in &chosen {
        let place = match term_of.get(token.as_str()) {
            Some(&i) => {
                counts[i] += 1;
                importance[i] = importance[i].max(*weight);
                everyday[i] |= *common;
                Some(i)
            }
            None if terms.len() < MAX_TERMS => {
                term_of.insert(token, terms.len());
                terms.push(token.clone());
                counts.push(1);
                importance.push(*weight);
                everyday.push(*common);
                Some(terms.len() - 1)
            }
            None => None,
        };
        places.push(place);
    }
    let mut paired: FxHashSet<(usize, usize)> = FxHashSet::default();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for pair in places.windows(2) {
        if let [Some(first), Some(second)] = *pair {
            if first != second && paired.insert((first, second)) {
                pairs.push((terms[first].clone(), terms[second].clone()));
            }
        }
    }
    drop(term_of);
    let chosen: Vec<String> = chosen.into_iter().map(|(t, _, _)| t).collect();
    let alternatives = synonyms.alternatives(&chosen);
    let asked_for = match reading {
        Reading::Message => asked_for(&question, &terms),
        Reading::Text => None,
    };
    Terms {
        terms,
        alternatives,
        counts,
        pairs,
        importance,
        everyday,
        asked_for,
    }
}

/// The words of a message as typed, apostrophes kept inside them ("it's").
pub fn message_words(message: &str) -> impl Iterator<Item = &str> {
    message
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .filter(|word| !word.is_empty())
}

/// Words between "which"/"what" and the noun that names what is asked for: "what kind
/// of rocket" asks for a rocket.
const ASKED_FOR_FILLERS: &[&str] = &["kind", "kinds", "sort", "sorts", "type", "types", "of"];

/// The term of `terms` (its index) that names the kind of thing a question asks for: the
/// word after "which" or "what" (past [`ASKED_FOR_FILLERS`]) or after "how many" or "how
/// much". `None` when that word is a stop word or a question word ("What is …", "Which
/// did …") or not among `terms`. The word after is taken as it stands, without knowing
/// its part of speech: in "Which Canadian astronaut …" it is "Canadian".
fn asked_for(question: &str, terms: &[String]) -> Option<usize> {
    let words: Vec<String> = message_words(question).map(str::to_lowercase).collect();
    let start = words
        .iter()
        .enumerate()
        .find_map(|(i, word)| match word.as_str() {
            "which" | "what" => Some(i + 1),
            "how" if matches!(words.get(i + 1).map(String::as_str), Some("many" | "much")) => {
                Some(i + 2)
            }
            _ => None,
        })?;
    let word = words[start..]
        .iter()
        .find(|word| !ASKED_FOR_FILLERS.contains(&word.as_str()))?;
    let term = analyze(word).into_iter().next()?;
    if question_words().contains(&term) {
        return None;
    }
    terms.iter().position(|t| *t == term)
}

/// How much a word of the message outside the sentences that ask counts: "My
/// grandfather worked in defence research in the sixties ... Who launched Alouette 1?"
/// asks about Alouette 1; the story around it says why. On the dev questions, 0.1
/// declined 5.6% of the answerable ones, 0.3 and 0.5 10%, 1 (no focus) 10%; hit@1
/// moved by one question.
const CONTEXT_WEIGHT: f32 = 0.1;

/// Everyday words ("really", "anything", "happened", "world") say little about what a
/// question is about, however rare they are in a formal corpus: a word's importance
/// falls from 1 at Zipf [`EVERYDAY_FROM`] to [`EVERYDAY_FLOOR`] at the most common words.
/// Numbers keep their weight ("Apollo 11", "1962").
/// `zipf` is the word's [`lexicon::zipf`].
fn everyday_discount(word: &str, zipf: Option<f32>) -> f32 {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        return 1.0;
    }
    let Some(zipf) = zipf else {
        return 1.0;
    };
    (1.0 - (zipf - EVERYDAY_FROM) / (EVERYDAY_TO - EVERYDAY_FROM)).clamp(EVERYDAY_FLOOR, 1.0)
}

/// Zipf frequency from which everyday words start to lose importance.
const EVERYDAY_FROM: f32 = 4.0;
/// Zipf frequency at which the importance of a word reaches [`EVERYDAY_FLOOR`].
const EVERYDAY_TO: f32 = 7.0;
/// The least importance an everyday word keeps.
const EVERYDAY_FLOOR: f32 = 0.2;

/// The word (run of letters and digits) starting at byte `offset` of `text`.
fn word_at(text: &str, offset: usize) -> &str {
    let rest = &text[offset..];
    let end = rest
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(rest.len(), |(i, _)| i);
    &rest[..end]
}

/// Byte ranges of the sentences of a message that ask something, when the message has
/// several sentences and some ask (end with "?" or open with a question word); empty
/// otherwise, meaning every word counts in full.
fn asking_sentences(message: &str) -> Vec<std::ops::Range<usize>> {
    let sentences = split_sentences(message);
    if sentences.len() < 2 {
        return Vec::new();
    }
    let asks = |sentence: &str| {
        let first = sentence
            .split(|c: char| !c.is_alphanumeric())
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_lowercase();
        sentence
            .trim_end_matches(['"', '\'', ')', '”', '’'])
            .ends_with('?')
            || QUESTION_OPENERS.contains(&first.as_str())
    };
    sentences
        .into_iter()
        .filter(|sentence| asks(sentence))
        .map(|sentence| {
            // Sentences are slices of `message`, so their place in it is pointer arithmetic.
            let start = sentence.as_ptr() as usize - message.as_ptr() as usize;
            start..start + sentence.len()
        })
        .collect()
}

/// Words that open a question.
const QUESTION_OPENERS: &[&str] = &[
    "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "is", "are", "was",
    "were", "did", "does", "do", "can", "could", "has", "have", "had", "should", "would", "will",
];

/// Rewrites English contractions so that their pieces are not searched as words:
/// "weren't" becomes "were not", "it's" becomes "it", "won't" becomes "will not".
fn expand_contractions(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(at) = rest.find(['\'', '’']) {
        let (before, after) = rest.split_at(at);
        let apostrophe = after.chars().next().expect("found").len_utf8();
        let after = &after[apostrophe..];
        let suffix_len = after
            .char_indices()
            .find(|(_, c)| !c.is_alphanumeric())
            .map_or(after.len(), |(i, _)| i);
        let suffix = after[..suffix_len].to_ascii_lowercase();
        match suffix.as_str() {
            "t" if before.ends_with(['n', 'N']) => {
                let word_start = before
                    .char_indices()
                    .rfind(|(_, c)| !c.is_alphanumeric())
                    .map_or(0, |(i, c)| i + c.len_utf8());
                let (head, word) = before.split_at(word_start);
                out.push_str(head);
                out.push_str(match word.to_ascii_lowercase().as_str() {
                    "won" => "will",
                    "can" => "can",
                    "shan" => "shall",
                    _ => &word[..word.len() - 1],
                });
                out.push_str(" not");
                rest = &after[suffix_len..];
            }
            "s" | "d" | "ll" | "re" | "ve" | "m" => {
                out.push_str(before);
                rest = &after[suffix_len..];
            }
            _ => {
                out.push_str(before);
                out.push('\'');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// [`QUESTION_WORDS`] as the analyzer turns them into terms, analyzed once: the engine
/// only ever uses [`crate::analyzer::english_analyzer`].
fn question_words() -> &'static FxHashSet<String> {
    static WORDS: std::sync::OnceLock<FxHashSet<String>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        QUESTION_WORDS
            .iter()
            .flat_map(|word| analyze(word))
            .collect()
    })
}

/// A question's query, clause by clause: what [`QueryPlan::to_query`] gives tantivy, and
/// what [`crate::scoring`] runs itself, term at a time.
#[derive(Debug, Clone, Default)]
pub struct QueryPlan {
    /// Words and phrases, each searched in the fields that hold it. A passage scores
    /// each clause's best field in full plus [`QueryPlan::tie_breaker`] of the others.
    pub clauses: Vec<Clause>,
    /// Pairs of question words, scored when they stand near each other in a body.
    pub pairs: Vec<Pair>,
    /// Share of a clause's other fields added to its best one.
    pub tie_breaker: f32,
}

/// One word, or several that must stand together, searched in some fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Analyzed terms: one for a word, several for a phrase.
    pub tokens: Vec<String>,
    /// The fields that hold every token, each with the clause's boost there.
    pub fields: Vec<(Field, f32)>,
    /// For a word of the question itself, its place in [`Terms::terms`]: the pairs refer
    /// to words by it.
    pub term: Option<usize>,
}

/// Two question words that stood next to each other in the question, searched in bodies
/// at most [`PAIR_SLOP`] words apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The words' places in [`Terms::terms`].
    pub terms: (usize, usize),
    pub tokens: (String, String),
    pub boost: f32,
}

/// How far apart (in positions beyond adjacent) the words of a pair may stand.
pub const PAIR_SLOP: u32 = 2;

impl QueryPlan {
    /// The same query as a tantivy query: for snippets, and to check [`crate::scoring`]
    /// against.
    pub fn to_query(&self, body: Field) -> Box<dyn Query> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for clause in &self.clauses {
            if let Some(query) = clause.to_query(self.tie_breaker) {
                clauses.push((Occur::Should, query));
            }
        }
        for pair in &self.pairs {
            clauses.push((
                Occur::Should,
                boosted(Box::new(pair.phrase(body)), pair.boost),
            ));
        }
        Box::new(BooleanQuery::new(clauses))
    }
}

impl Clause {
    /// The clause as a tantivy query: its best field in full plus `tie_breaker` of the
    /// others; `None` when no field holds it.
    pub fn to_query(&self, tie_breaker: f32) -> Option<Box<dyn Query>> {
        let mut per_field: Vec<Box<dyn Query>> = self
            .fields
            .iter()
            .map(|&(field, boost)| boosted(phrase_or_term(field, &self.tokens), boost))
            .collect();
        match per_field.len() {
            0 => None,
            1 => per_field.pop(),
            _ => Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(
                per_field,
                tie_breaker,
            ))),
        }
    }
}

impl Pair {
    /// The pair as a sloppy phrase query on `body`.
    pub fn phrase(&self, body: Field) -> PhraseQuery {
        PhraseQuery::new_with_offset_and_slop(
            vec![
                (0, Term::from_field_text(body, &self.tokens.0)),
                (1, Term::from_field_text(body, &self.tokens.1)),
            ],
            PAIR_SLOP,
        )
    }
}

/// Plans the query for analyzed terms. Returns `None` when there is nothing to search.
/// `holds` tells whether some passage has a term in its title, heading and body (in
/// that order: one look-up per term for all three).
///
/// `spellings` gives the close spellings of a word the index has never seen (see
/// [`close_terms`]); the engine memoizes it per index generation.
pub fn plan_query(
    terms: &Terms,
    fields: Fields,
    holds: &dyn Fn(&str) -> [bool; 3],
    weights: Weights,
    spellings: &dyn Fn(&str) -> Vec<String>,
) -> Option<QueryPlan> {
    if terms.terms.is_empty() {
        return None;
    }
    let mut plan = QueryPlan {
        tie_breaker: weights.tie_breaker,
        ..QueryPlan::default()
    };
    // The same words searched in each field that has them all, with the field's weight.
    // Fields without them are left out: they cannot score, and each clause costs a
    // scorer per segment (a disjunction of several costs a 32 KB buffer).
    let holding = |tokens: &[String], factor: f32| -> Vec<(Field, f32)> {
        let held = tokens.iter().fold([true; 3], |all, token| {
            let held = holds(token);
            std::array::from_fn(|field| all[field] && held[field])
        });
        [
            (fields.title, weights.title),
            (fields.heading, weights.section),
            (fields.body, weights.body),
        ]
        .into_iter()
        .zip(held)
        .filter(|&(_, held)| held)
        .map(|((field, weight), _)| (field, weight * factor))
        .collect()
    };
    let mut add = |tokens: Vec<String>, fields: Vec<(Field, f32)>, term: Option<usize>| {
        if !fields.is_empty() {
            plan.clauses.push(Clause {
                tokens,
                fields,
                term,
            });
        }
    };
    // Terms found in passage bodies, for the proximity pairs below.
    let mut in_body: FxHashSet<&str> = FxHashSet::default();
    for (i, (((text, &count), &importance), &everyday)) in terms
        .terms
        .iter()
        .zip(&terms.counts)
        .zip(&terms.importance)
        .zip(&terms.everyday)
        .enumerate()
    {
        // A word asked twice counts twice, as if its clause were repeated: long
        // questions (ArguAna's are whole arguments) come back to what they are about.
        // ArguAna nDCG@10 went from 0.450 to 0.489 (1 + ln(count): 0.486; square
        // root: 0.481); SciFact, SQuAD and the bundled questions did not move.
        let asked = count.max(1) as f32 * importance;
        let word = std::slice::from_ref(text);
        let found_in = holding(word, asked);
        if found_in.iter().any(|(field, _)| *field == fields.body) {
            in_body.insert(text);
        }
        let unknown = found_in.is_empty();
        add(word.to_vec(), found_in, Some(i));
        if weights.fuzzy <= 0.0 || !unknown || everyday {
            continue;
        }
        // Only words the index has never seen, and that are not everyday English, get
        // typo tolerance ("bread" in a question about baking is not a misspelt
        // "break"), and their close spellings are searched as ordinary, lower-weighted
        // terms: BM25 still tells a rare close spelling from a common one, and no fuzzy
        // match can outrank an exact one.
        for close in spellings(text) {
            let close = vec![close];
            let found_in = holding(&close, weights.fuzzy);
            add(close, found_in, None);
        }
    }
    if weights.proximity > 0.0 {
        let places: FxHashMap<&str, usize> = terms
            .terms
            .iter()
            .enumerate()
            .map(|(place, term)| (term.as_str(), place))
            .collect();
        let place = |word: &str| places.get(word).copied();
        for (first, second) in &terms.pairs {
            if !(in_body.contains(first.as_str()) && in_body.contains(second.as_str())) {
                continue;
            }
            if let (Some(a), Some(b)) = (place(first), place(second)) {
                plan.pairs.push(Pair {
                    terms: (a, b),
                    tokens: (first.clone(), second.clone()),
                    boost: weights.proximity,
                });
            }
        }
    }
    // An alternative names one concept, however many words spell it, but a phrase
    // scores the sum of its words' rarities: "International Space Station" in a
    // section heading outscored every other match for "the first module of the ISS".
    // Divided by its length, the concept counts about once. Bundled questions: hit@1
    // 63 -> 64 of 74, hit@3 unchanged (weight 1.0 instead of 0.8: 65, but hit@3 -1).
    for alternative in &terms.alternatives {
        let found_in = holding(alternative, weights.synonym / alternative.len() as f32);
        add(alternative.clone(), found_in, None);
    }
    Some(plan)
}

/// Close spellings tried for one unknown word.
pub const MAX_SPELLINGS: usize = 3;

/// Whether some passage has `text` in `field`.
fn occurs(searcher: &Searcher, field: Field, text: &str) -> bool {
    searcher
        .doc_freq(&Term::from_field_text(field, text))
        .is_ok_and(|n| n > 0)
}

/// Whether no title, section or body of the index contains `text`. Bodies first: a
/// known word is almost always in one, so one dictionary lookup usually decides.
pub fn is_unknown(searcher: &Searcher, fields: Fields, text: &str) -> bool {
    [fields.body, fields.heading, fields.title]
        .into_iter()
        .all(|field| !occurs(searcher, field, text))
}

/// Edits allowed between a word and a close spelling: none for short words (where one
/// edit makes another word), one from 4 characters, two from 8.
fn max_edits(text: &str) -> usize {
    match text.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// Terms of `field` within [`max_edits`] of `text` that share its first letter (typos
/// rarely hit the first letter), closest first, then most common, at most `limit`.
/// A Levenshtein automaton walks the term dictionary, so only the branches that can
/// still match are visited.
pub fn close_terms(
    searcher: &Searcher,
    field: Field,
    text: &str,
    limit: usize,
) -> Vec<(String, u64)> {
    let edits = max_edits(text);
    let Some(first) = text.chars().next() else {
        return Vec::new();
    };
    if edits == 0 {
        return Vec::new();
    }
    let start = first.to_string();
    let end = char::from_u32(first as u32 + 1).map(|c| c.to_string());
    let automaton = levenshtein_builder(edits).build_dfa(text);
    let mut found: HashMap<String, (u8, u64)> = HashMap::new();
    for segment in searcher.segment_readers() {
        let Ok(inverted) = segment.inverted_index(field) else {
            continue;
        };
        let mut range = inverted
            .terms()
            .search(WithinEdits(&automaton))
            .ge(start.as_bytes());
        if let Some(end) = &end {
            range = range.lt(end.as_bytes());
        }
        let Ok(mut stream) = range.into_stream() else {
            continue;
        };
        while stream.advance() {
            let Distance::Exact(distance) = automaton.eval(stream.key()) else {
                continue;
            };
            let Ok(candidate) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            let entry = found.entry(candidate.to_string()).or_insert((distance, 0));
            entry.1 += u64::from(stream.value().doc_freq);
        }
    }
    let mut found: Vec<(String, u8, u64)> = found
        .into_iter()
        .map(|(term, (distance, freq))| (term, distance, freq))
        .collect();
    found.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    found
        .into_iter()
        .take(limit)
        .map(|(term, _, freq)| (term, freq))
        .collect()
}

/// The automaton builder for `edits` (1 or 2) edits, a transposition counting as one.
/// Building one takes milliseconds, so each is built once per process.
fn levenshtein_builder(edits: usize) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 2] =
        [OnceLock::new(), OnceLock::new()];
    let edits = edits.clamp(1, 2);
    BUILDERS[edits - 1].get_or_init(|| LevenshteinAutomatonBuilder::new(edits as u8, true))
}

/// A Levenshtein DFA as an automaton over the term dictionary's bytes.
struct WithinEdits<'a>(&'a DFA);

impl Automaton for WithinEdits<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
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
    if applied_boost(weight) == 1.0 {
        query
    } else {
        Box::new(BoostQuery::new(query, weight))
    }
}

/// The boost a query is given for `weight`: none at all (1) when it is 1 within
/// rounding. [`crate::scoring`] scores with the same boosts.
pub fn applied_boost(weight: f32) -> f32 {
    if (weight - 1.0).abs() < f32::EPSILON {
        1.0
    } else {
        weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(question: &str) -> Vec<String> {
        question_terms(&AnalyzedSynonyms::default(), question, Reading::Message).terms
    }

    #[test]
    fn the_word_after_which_names_what_is_asked_for() {
        let asked_for = |question: &str| {
            let found = question_terms(&AnalyzedSynonyms::default(), question, Reading::Message);
            found.asked_for.map(|i| found.terms[i].clone())
        };
        assert_eq!(
            asked_for("Which agencies operate the International Space Station?").as_deref(),
            Some("agenc")
        );
        assert_eq!(
            asked_for("How many governments signed the agreement?").as_deref(),
            Some("govern")
        );
        assert_eq!(
            asked_for("What kind of rocket launched Webb?").as_deref(),
            Some("rocket")
        );
        assert_eq!(asked_for("What is the ISS?"), None);
        assert_eq!(asked_for("When did Mir fall?"), None);
        let text = question_terms(
            &AnalyzedSynonyms::default(),
            "which agencies",
            Reading::Text,
        );
        assert_eq!(text.asked_for, None);
    }

    #[test]
    fn question_words_and_stop_words_are_dropped() {
        assert_eq!(
            terms("Which agencies built the ISS?"),
            vec!["agenc", "built", "iss"]
        );
    }

    #[test]
    fn contractions_are_not_searched_as_words() {
        assert_eq!(
            expand_contractions("Why weren't they? It's ESA's; I won't, can't, Don’t"),
            "Why were not they? It ESA; I will not, can not, Do not"
        );
        assert_eq!(expand_contractions("rock 'n' roll"), "rock 'n' roll");
        assert_eq!(expand_contractions("motto is ‘don’t"), "motto is ‘do not");
        assert_eq!(
            terms("Why weren't the stations called Zarya?"),
            ["station", "call", "zarya"]
        );
    }

    proptest::proptest! {
        #[test]
        fn contractions_expand_in_any_text(text in "([a-zA-Z ]|n't|'s|’t|‘|’|'|é|\\PC){0,40}") {
            let expanded = expand_contractions(&text);
            // Nothing is added but " not" and "will"/"can"/"shall" forms, and no
            // character other than an apostrophe and a contraction's letters is lost.
            proptest::prop_assert!(expanded.len() <= text.len() * 3 + 8);
            let kept = |c: &char| c.is_alphanumeric() && !matches!(c, 't' | 's' | 'd' | 'l' | 'r' | 'e' | 'v' | 'm' | 'n' | 'T' | 'S' | 'D' | 'L' | 'R' | 'E' | 'V' | 'M' | 'N' | 'o' | 'O' | 'w' | 'W' | 'i' | 'I' | 'c' | 'C' | 'a' | 'A' | 'h' | 'H');
            let before: String = text.chars().filter(kept).collect();
            let after: String = expanded.chars().filter(kept).collect();
            proptest::prop_assert_eq!(before, after);
        }
    }

    #[test]
    fn words_outside_the_asking_sentence_and_everyday_words_count_less() {
        let found = question_terms(
            &AnalyzedSynonyms::default(),
            "My grandfather bragged about rockets. Who launched Alouette 1?",
            Reading::Message,
        );
        let importance = |term: &str| {
            let i = found.terms.iter().position(|t| t == term).unwrap();
            found.importance[i]
        };
        assert_eq!(importance("alouett"), 1.0);
        assert_eq!(importance("1"), 1.0);
        assert!(importance("grandfath") < 0.5, "{found:?}");
        assert!(importance("launch") < 1.0 && importance("launch") > importance("grandfath"));
        // One sentence: every word is what it asks.
        let single = question_terms(
            &AnalyzedSynonyms::default(),
            "kibo alouette",
            Reading::Message,
        );
        assert_eq!(single.importance, [1.0, 1.0]);
        // A text to search with: the story counts as much as the question.
        let text = question_terms(
            &AnalyzedSynonyms::default(),
            "My grandfather bragged about rockets. Who launched Alouette 1?",
            Reading::Text,
        );
        assert_eq!(text.terms[0], "grandfath");
        assert!(text.importance[0] > 0.9, "{text:?}");
        assert_eq!(single.importance, [1.0, 1.0]);
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
    }

    #[test]
    fn synonyms_add_the_other_members_of_a_group() {
        let synonyms = Synonyms {
            groups: vec![vec!["ISS".into(), "International Space Station".into()]],
        };
        let analyzed = AnalyzedSynonyms::new(&synonyms);
        let found = question_terms(&analyzed, "who runs the ISS", Reading::Message);
        assert_eq!(
            found.alternatives,
            vec![vec!["internat", "space", "station"]]
        );
        let reverse = question_terms(
            &analyzed,
            "the international space station",
            Reading::Message,
        );
        assert_eq!(reverse.alternatives, vec![vec!["iss"]]);
    }

    #[test]
    fn longer_phrasings_of_the_words_asked_are_not_alternatives() {
        let synonyms = Synonyms {
            groups: vec![vec![
                "ASTP".into(),
                "Apollo-Soyuz".into(),
                "Apollo-Soyuz Test Project".into(),
            ]],
        };
        let analyzed = AnalyzedSynonyms::new(&synonyms);
        let found = question_terms(
            &analyzed,
            "who shook hands during Apollo-Soyuz",
            Reading::Message,
        );
        assert_eq!(found.alternatives, vec![vec!["astp"]]);
        let acronym = question_terms(&analyzed, "when did ASTP fly", Reading::Message);
        assert_eq!(acronym.alternatives.len(), 2, "{:?}", acronym.alternatives);
    }

    #[test]
    fn edit_distance_counts_transpositions_once_and_stops_at_the_bound() {
        let distance =
            |target: &str, candidate: &str, edits: usize| match levenshtein_builder(edits)
                .build_dfa(target)
                .eval(candidate)
            {
                Distance::Exact(d) => Some(d),
                Distance::AtLeast(_) => None,
            };
        assert_eq!(distance("kibo", "kibo", 1), Some(0));
        assert_eq!(distance("kibo", "kbio", 1), Some(1));
        assert_eq!(distance("kibo", "kibbo", 1), Some(1));
        assert_eq!(distance("kibo", "zarya", 2), None);
        assert_eq!(distance("columbus", "colmbsu", 2), Some(2));
        assert_eq!(
            distance("zürich", "zurich", 1),
            Some(1),
            "edits count characters"
        );
        assert_eq!(max_edits("iss"), 0);
        assert_eq!(max_edits("columbus"), 2);
    }

    #[test]
    fn pairs_are_adjacent_question_words_and_counts_repeat() {
        let found = question_terms(
            &AnalyzedSynonyms::default(),
            "space station, the space station",
            Reading::Message,
        );
        assert_eq!(found.terms, vec!["space", "station"]);
        assert_eq!(found.counts, vec![2, 2]);
        assert_eq!(
            found.pairs,
            vec![
                ("space".to_string(), "station".to_string()),
                ("station".to_string(), "space".to_string())
            ]
        );
    }
}
