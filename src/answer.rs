//! The answer engine: a question in, ranked passages out, with bold-marked snippets and
//! a judgement of whether they answer it. `spacecollab ask` and Discord's `/ask` both
//! call [`Engine::ask`]. Never imports Discord types.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, DocSet, Score, Searcher, TantivyDocument, Term, TERMINATED};

use crate::analyzer::english_analyzer;
use crate::corpus::split;
use crate::index::{self, Generation, IndexError};
use crate::query::{self, AnalyzedSynonyms, Terms, Weights};

/// The searcher, the query it ran and the passages it found, best first.
type RankedPassages = (
    Searcher,
    Box<dyn tantivy::query::Query>,
    Vec<(Score, DocAddress)>,
);

/// At most this many passages of one document among the top results.
pub const MAX_PASSAGES_PER_DOCUMENT: usize = 2;

/// How answers are shaped; from the `[answer]` section of the config.
#[derive(Debug, Clone, Copy)]
pub struct AnswerSettings {
    /// Passages returned by `ask` unless the caller asks for another number.
    pub limit: usize,
    /// Longest snippet, in characters.
    pub snippet_chars: usize,
    /// Share (0–1) of the question's weight the top passage must cover to count as an answer.
    pub min_coverage: f32,
    pub weights: Weights,
}

impl Default for AnswerSettings {
    fn default() -> AnswerSettings {
        AnswerSettings {
            limit: 3,
            snippet_chars: 400,
            min_coverage: 0.5,
            weights: Weights::default(),
        }
    }
}

/// One passage in a result list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub doc_id: String,
    pub title: String,
    pub section: String,
    pub source: String,
    pub score: f32,
    pub text: String,
    /// Markdown: the best fragment of the passage, matched words in `**bold**`,
    /// other Markdown characters escaped.
    pub snippet: String,
    #[serde(skip)]
    pub position: u64,
}

/// The engine's reply to a question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub question: String,
    /// Whether the top passage covers the question well enough to be called an answer.
    pub answered: bool,
    pub passages: Vec<Hit>,
    /// The sentence of the top passage that best answers the question (the one holding
    /// the most of the question's weight), for renderers to mark.
    pub best_sentence: Option<String>,
    /// "Did you mean …?": the question with each word the index has never seen replaced
    /// by its closest spelling in the index, when there is one.
    pub suggestion: Option<String>,
}

impl Answer {
    /// The suggested question without its closing question mark, for renderers that
    /// frame it in their own "Did you mean …?".
    pub fn suggested_question(&self) -> Option<&str> {
        self.suggestion
            .as_deref()
            .map(|s| s.trim_end_matches(['?', ' ']))
    }
}

/// A searchable corpus. Cheap to share: every query takes a snapshot of the current
/// generation, so a reindex can switch generations while queries run.
pub struct Engine {
    root: PathBuf,
    /// A std lock, not tokio's: it is held only to clone or replace an `Arc`, never across `.await`.
    current: RwLock<Arc<Snapshot>>,
    settings: AnswerSettings,
}

/// A document and the score of its best passage, for document-level rankings
/// (`spacecollab eval` on BEIR sets, where relevance is judged per document).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentHit {
    pub doc_id: String,
    pub score: f32,
}

/// Passages fetched per wanted document in [`Engine::rank_documents`]: documents are
/// split into a few passages, so this many leave enough distinct documents after grouping.
const PASSAGES_PER_DOCUMENT_FETCHED: usize = 3;

/// A generation plus what the engine derives from it once.
#[derive(Debug)]
pub struct Snapshot {
    pub generation: Generation,
    analyzer: TextAnalyzerHolder,
    synonyms: AnalyzedSynonyms,
    /// The document id of every passage, by segment and doc number (see
    /// [`document_ids`]): grouping hundreds of passages per query by reading stored
    /// documents would cost more than the search itself.
    doc_ids: Vec<Vec<Arc<str>>>,
    /// Close spellings of unknown words, by analyzed word: finding them scans a slice of
    /// the term dictionary, and both the query and "Did you mean" need them. A std mutex:
    /// held for a lookup or an insert, never across `.await`.
    spellings: Mutex<HashMap<String, Vec<String>>>,
}

/// Unknown words remembered per generation before the memo starts afresh.
const MAX_REMEMBERED_SPELLINGS: usize = 10_000;

/// `TextAnalyzer` has no `Debug`; this wrapper gives it one.
struct TextAnalyzerHolder(TextAnalyzer);

impl std::fmt::Debug for TextAnalyzerHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextAnalyzer")
    }
}

/// The document id of every passage, by segment and doc number. Read from the `doc_id`
/// field's term dictionary and postings rather than from stored documents: no passage
/// text is decompressed, which makes it several times faster on large indexes.
fn document_ids(searcher: &Searcher, field: tantivy::schema::Field) -> Vec<Vec<Arc<str>>> {
    searcher
        .segment_readers()
        .iter()
        .map(|reader| {
            let mut table: Vec<Arc<str>> = vec![Arc::from(""); reader.max_doc() as usize];
            let Ok(inverted) = reader.inverted_index(field) else {
                return table;
            };
            let Ok(mut terms) = inverted.terms().stream() else {
                return table;
            };
            while terms.advance() {
                let id: Arc<str> = Arc::from(String::from_utf8_lossy(terms.key()).as_ref());
                let Ok(mut postings) =
                    inverted.read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)
                else {
                    continue;
                };
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if let Some(slot) = table.get_mut(doc as usize) {
                        *slot = Arc::clone(&id);
                    }
                    doc = postings.advance();
                }
            }
            table
        })
        .collect()
}

impl Snapshot {
    fn new(generation: Generation) -> Snapshot {
        let analyzer = english_analyzer();
        let synonyms = AnalyzedSynonyms::new(&analyzer, &generation.synonyms);
        // Filled here, when a generation is opened or switched to, not by the first
        // question that needs it.
        let doc_ids = document_ids(&generation.reader.searcher(), generation.fields.doc_id);
        Snapshot {
            generation,
            analyzer: TextAnalyzerHolder(analyzer),
            synonyms,
            doc_ids,
            spellings: Mutex::new(HashMap::new()),
        }
    }

    /// The closest spellings the index has for `stem`, closest and most common first.
    fn spellings(&self, searcher: &Searcher, stem: &str) -> Vec<String> {
        let lock = || self.spellings.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = lock().get(stem) {
            return found.clone();
        }
        let found: Vec<String> = query::close_terms(
            searcher,
            self.generation.fields.body,
            stem,
            query::MAX_SPELLINGS,
        )
        .into_iter()
        .map(|(term, _)| term)
        .collect();
        let mut memo = lock();
        if memo.len() >= MAX_REMEMBERED_SPELLINGS {
            memo.clear();
        }
        memo.insert(stem.to_string(), found.clone());
        found
    }

    /// The close spellings already found for `stem`, if it was searched as unknown.
    fn spellings_found(&self, stem: &str) -> Vec<String> {
        let memo = self.spellings.lock().unwrap_or_else(|p| p.into_inner());
        memo.get(stem).cloned().unwrap_or_default()
    }

    /// The document id of the passage at `address` (empty if it cannot be read).
    fn doc_id(&self, address: DocAddress) -> Arc<str> {
        self.doc_ids
            .get(address.segment_ord as usize)
            .and_then(|segment| segment.get(address.doc_id as usize))
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }

    /// The analyzed form of a question, as the engine will search for it.
    pub fn terms(&self, question: &str) -> Terms {
        query::question_terms(&self.analyzer.0, &self.synonyms, question)
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("root", &self.root).finish()
    }
}

impl Engine {
    /// Opens the index generation in service under `root`.
    ///
    /// # Errors
    /// [`IndexError::Missing`] when no index was built there yet.
    pub fn open(root: &Path, settings: AnswerSettings) -> Result<Engine, IndexError> {
        let generation = index::open_current(root)?;
        Ok(Engine {
            root: root.to_path_buf(),
            current: RwLock::new(Arc::new(Snapshot::new(generation))),
            settings,
        })
    }

    /// Switches to the generation now in service on disk, if it changed.
    /// Queries already running finish on the generation they started with.
    ///
    /// # Errors
    /// When the generation on disk cannot be opened; the old one stays in service.
    pub fn reload(&self) -> Result<(), IndexError> {
        let generation = index::open_current(&self.root)?;
        if generation.name != self.snapshot().generation.name {
            let snapshot = Arc::new(Snapshot::new(generation));
            *self
                .current
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = snapshot;
        }
        Ok(())
    }

    /// The generation in service, for listing documents.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn settings(&self) -> &AnswerSettings {
        &self.settings
    }

    /// Where the index lives.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Answers a question with up to `limit` passages (the configured number when `None`).
    /// Never fails: a question the index cannot use gives an unanswered, empty answer.
    pub fn ask(&self, question: &str, limit: Option<usize>) -> Answer {
        let limit = limit.unwrap_or(self.settings.limit).max(1);
        let snapshot = self.snapshot();
        let terms = snapshot.terms(question);
        let passages = self.rank(&snapshot, &terms, 0, limit);
        let (answered, best_sentence) = match passages.first() {
            Some(top) => {
                let weights = term_weights(&snapshot, &terms);
                let forms = term_forms(&snapshot, &terms);
                let body = query::analyze_with_offsets(&snapshot.analyzer.0, &top.text);
                (
                    coverage(&snapshot, &terms, &forms, &weights, top, &body)
                        >= self.settings.min_coverage,
                    best_sentence(&forms, &weights, &top.text, &body),
                )
            }
            None => (false, None),
        };
        let suggestion = suggest(&snapshot, question, &terms);
        Answer {
            question: question.to_string(),
            answered,
            passages,
            best_sentence,
            suggestion,
        }
    }

    /// Ranked passages for a query, skipping the first `offset`, for result lists.
    pub fn search(&self, query: &str, offset: usize, limit: usize) -> Vec<Hit> {
        let snapshot = self.snapshot();
        let terms = snapshot.terms(query);
        self.rank(&snapshot, &terms, offset, limit)
    }

    /// The `limit` best documents for a query, each scored by its best passage.
    pub fn rank_documents(&self, query: &str, limit: usize) -> Vec<DocumentHit> {
        let snapshot = self.snapshot();
        let terms = snapshot.terms(query);
        let candidates = limit.max(1) * PASSAGES_PER_DOCUMENT_FETCHED;
        let Some((_, _, top)) = self.top_passages(&snapshot, &terms, candidates) else {
            return Vec::new();
        };
        // Passages come best first, so a document's first passage is its best. (Adding
        // a share of its other passages' scores was measured and lowered SciFact nDCG@10.)
        let mut seen = std::collections::HashSet::new();
        let mut documents = Vec::with_capacity(limit);
        for (score, address) in top {
            let doc_id = snapshot.doc_id(address);
            if seen.insert(doc_id.clone()) {
                documents.push(DocumentHit {
                    doc_id: doc_id.to_string(),
                    score,
                });
                if documents.len() == limit {
                    break;
                }
            }
        }
        documents
    }

    /// Builds the query for `terms` and runs it for the `candidates` best passages;
    /// `None` when there is nothing to search or the search fails (logged).
    fn top_passages(
        &self,
        snapshot: &Snapshot,
        terms: &Terms,
        candidates: usize,
    ) -> Option<RankedPassages> {
        let generation = &snapshot.generation;
        let searcher = generation.reader.searcher();
        let query = query::build_query(
            terms,
            generation.fields,
            &searcher,
            self.settings.weights,
            &|stem| snapshot.spellings(&searcher, stem),
        )?;
        match searcher.search(&*query, &TopDocs::with_limit(candidates)) {
            Ok(top) => Some((searcher, query, top)),
            Err(error) => {
                tracing::warn!(%error, "search failed");
                None
            }
        }
    }

    fn rank(&self, snapshot: &Snapshot, terms: &Terms, offset: usize, limit: usize) -> Vec<Hit> {
        let generation = &snapshot.generation;
        let wanted = offset + limit;
        // Fetch extra candidates so that capping passages per document still fills the page.
        let candidates = (wanted * 4).max(20);
        let Some((searcher, query, top)) = self.top_passages(snapshot, terms, candidates) else {
            return Vec::new();
        };
        let chosen = diversify(snapshot, top, wanted);
        let mut snippets =
            SnippetGenerator::create(&searcher, &*query, generation.fields.body).ok();
        if let Some(generator) = snippets.as_mut() {
            generator.set_max_num_chars(self.settings.snippet_chars);
        }
        chosen
            .into_iter()
            .skip(offset)
            .filter_map(|(score, address)| {
                let stored: TantivyDocument = searcher.doc(address).ok()?;
                Some(to_hit(
                    generation,
                    &stored,
                    score,
                    snippets.as_ref(),
                    self.settings.snippet_chars,
                ))
            })
            .collect()
    }
}

/// Keeps at most [`MAX_PASSAGES_PER_DOCUMENT`] passages per document, in rank order;
/// when that leaves too few (a corpus of few documents), the passages set aside fill up.
fn diversify(
    snapshot: &Snapshot,
    top: Vec<(Score, DocAddress)>,
    wanted: usize,
) -> Vec<(Score, DocAddress)> {
    let mut per_document: HashMap<Arc<str>, usize> = HashMap::new();
    let mut chosen = Vec::new();
    let mut set_aside = Vec::new();
    for (score, address) in top {
        let count = per_document.entry(snapshot.doc_id(address)).or_default();
        if *count < MAX_PASSAGES_PER_DOCUMENT {
            *count += 1;
            chosen.push((score, address));
            if chosen.len() == wanted {
                return chosen;
            }
        } else {
            set_aside.push((score, address));
        }
    }
    chosen.extend(set_aside.into_iter().take(wanted - chosen.len()));
    chosen
}

fn stored_text(document: &TantivyDocument, field: tantivy::schema::Field) -> String {
    document
        .get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

fn to_hit(
    generation: &Generation,
    stored: &TantivyDocument,
    score: Score,
    snippets: Option<&SnippetGenerator>,
    snippet_chars: usize,
) -> Hit {
    let fields = generation.fields;
    let text = stored_text(stored, fields.body);
    let snippet = match snippets.map(|g| g.snippet(&text)) {
        Some(snippet) if !snippet.is_empty() => {
            markdown_snippet(&text, snippet.fragment(), snippet.highlighted())
        }
        // No question word is in the body (the match was on title or section): show the start.
        _ => {
            let start = query::clip_chars(&text, snippet_chars);
            markdown_snippet(&text, start, &[])
        }
    };
    Hit {
        doc_id: stored_text(stored, fields.doc_id),
        title: stored_text(stored, fields.title),
        section: stored_text(stored, fields.section),
        source: stored_text(stored, fields.source),
        score,
        text,
        snippet,
        position: stored
            .get_first(fields.position)
            .and_then(|v| v.as_u64())
            .unwrap_or(0),
    }
}

/// Renders a fragment as Markdown with its highlighted ranges in bold, escaping every
/// other Markdown character, and with "…" where the fragment cuts the passage.
pub fn markdown_snippet(
    text: &str,
    fragment: &str,
    highlighted: &[std::ops::Range<usize>],
) -> String {
    let mut out = String::with_capacity(fragment.len() + 16);
    let trimmed = fragment.trim();
    let lead = fragment.len() - fragment.trim_start().len();
    let starts_text = text.trim_start().starts_with(trimmed);
    let ends_text = text.trim_end().ends_with(trimmed);
    if !starts_text {
        out.push('…');
    }
    let mut cursor = lead;
    let end = lead + trimmed.len();
    for range in highlighted {
        let (start, stop) = (range.start.max(cursor), range.end.min(end));
        if start >= stop {
            continue;
        }
        out.push_str(&escape_markdown(&fragment[cursor..start]));
        out.push_str("**");
        out.push_str(&escape_markdown(&fragment[start..stop]));
        out.push_str("**");
        cursor = stop;
    }
    out.push_str(&escape_markdown(&fragment[cursor..end]));
    if !ends_text {
        out.push('…');
    }
    out
}

/// Escapes the characters Markdown (as Discord renders it) gives meaning to, and the
/// quote, heading and list markers that only count at the start of a line.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut line_start = true;
    for c in text.chars() {
        let special = matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']' | '<')
            || (line_start && matches!(c, '>' | '#' | '-'));
        if special {
            out.push('\\');
        }
        out.push(c);
        if c == '\n' {
            line_start = true;
        } else if !c.is_whitespace() {
            line_start = false;
        }
    }
    out
}

/// The weight of each question term: its inverse document frequency in passage bodies.
fn term_weights(snapshot: &Snapshot, terms: &Terms) -> Vec<f32> {
    let generation = &snapshot.generation;
    let searcher = generation.reader.searcher();
    let total_docs = searcher.num_docs().max(1) as f32;
    terms
        .terms
        .iter()
        .map(|term| {
            let doc_freq = searcher
                .doc_freq(&Term::from_field_text(generation.fields.body, term))
                .unwrap_or(0) as f32;
            (1.0 + (total_docs - doc_freq + 0.5) / (doc_freq + 0.5)).ln()
        })
        .collect()
}

/// Share of a question's weight its correctly spelt words must cover before close
/// spellings of the others count towards an answer.
const MIN_EXACT_SHARE: f32 = 0.25;

/// Each question term with the close spellings searched in its place: a misspelt word
/// was found through them, so a passage that has one has the word.
fn term_forms(snapshot: &Snapshot, terms: &Terms) -> Vec<Vec<String>> {
    terms
        .terms
        .iter()
        .map(|term| {
            let mut forms = vec![term.clone()];
            forms.extend(snapshot.spellings_found(term));
            forms
        })
        .collect()
}

/// How much of the question's weight (IDF of its terms) the passage contains, 0–1.
/// BM25 scores are not comparable between questions; this share is. `body` is the
/// passage text analyzed.
fn coverage(
    snapshot: &Snapshot,
    terms: &Terms,
    forms: &[Vec<String>],
    weights: &[f32],
    hit: &Hit,
    body: &[(String, usize)],
) -> f32 {
    let heading = format!("{} {}", hit.title, hit.section);
    let mut passage_terms: HashSet<&str> = body.iter().map(|(term, _)| term.as_str()).collect();
    let heading_terms = query::analyze(&snapshot.analyzer.0, &heading);
    passage_terms.extend(heading_terms.iter().map(String::as_str));
    let alternatives_present = terms.alternatives.iter().any(|alternative| {
        alternative
            .iter()
            .all(|t| passage_terms.contains(t.as_str()))
    });

    let (mut exact, mut respelled, mut total) = (0.0f32, 0.0f32, 0.0f32);
    for (forms, idf) in forms.iter().zip(weights) {
        total += idf;
        if passage_terms.contains(forms[0].as_str()) {
            exact += idf;
        } else if forms[1..]
            .iter()
            .any(|form| passage_terms.contains(form.as_str()))
        {
            respelled += idf;
        }
    }
    if total <= 0.0 {
        return 0.0;
    }
    // Close spellings may complete what the words spelt right began, never carry a
    // question alone: "bake bread" has close spellings ("break") in any corpus.
    let share = if exact >= total * MIN_EXACT_SHARE {
        (exact + respelled) / total
    } else {
        exact / total
    };
    // A synonym found in the passage stands in for the word it replaces.
    if alternatives_present {
        (share + 1.0 / terms.terms.len() as f32).min(1.0)
    } else {
        share
    }
}

/// The sentence of `text` holding the most of the question's weight; the first such
/// sentence on ties, none when no sentence holds any question word. `body` is `text`
/// analyzed, with each term's byte offset.
fn best_sentence(
    forms: &[Vec<String>],
    weights: &[f32],
    text: &str,
    body: &[(String, usize)],
) -> Option<String> {
    let mut best: Option<(f32, &str)> = None;
    for paragraph in text.split("\n\n") {
        for sentence in split::split_sentences(paragraph) {
            // Sentences are slices of `text`, so their place in it is pointer arithmetic.
            let start = sentence.as_ptr() as usize - text.as_ptr() as usize;
            let span = start..start + sentence.len();
            let present: HashSet<&str> = body
                .iter()
                .filter(|(_, offset)| span.contains(offset))
                .map(|(term, _)| term.as_str())
                .collect();
            let weight: f32 = forms
                .iter()
                .zip(weights)
                .filter(|(forms, _)| forms.iter().any(|form| present.contains(form.as_str())))
                .map(|(_, idf)| idf)
                .sum();
            if weight > 0.0 && best.is_none_or(|(top, _)| weight > top) {
                best = Some((weight, sentence));
            }
        }
    }
    best.map(|(_, sentence)| sentence.trim().to_string())
}

/// The question with each word the index has never seen replaced by the closest
/// spelling the index has, written as it appears in the corpus; `None` when no word
/// needed (or found) a correction.
fn suggest(snapshot: &Snapshot, question: &str, terms: &Terms) -> Option<String> {
    let generation = &snapshot.generation;
    let fields = generation.fields;
    let searcher = generation.reader.searcher();
    let analyzer = &snapshot.analyzer.0;
    // Most questions have no unknown word; they need no look at their words one by one.
    if !terms
        .terms
        .iter()
        .any(|term| query::is_unknown(&searcher, fields, term))
    {
        return None;
    }
    let question = query::clip_chars(question, query::MAX_QUESTION_CHARS);
    let mut corrected = question.to_string();
    let mut changed = false;
    let words: Vec<&str> = question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for word in words {
        let analyzed = query::analyze(analyzer, word);
        let [stem] = analyzed.as_slice() else {
            continue;
        };
        if !terms.terms.contains(stem) || !query::is_unknown(&searcher, fields, stem) {
            continue;
        }
        let Some(close) = snapshot.spellings(&searcher, stem).into_iter().next() else {
            continue;
        };
        if let Some(surface) = surface_form(snapshot, &searcher, &close) {
            corrected = corrected.replacen(word, &surface, 1);
            changed = true;
        }
    }
    changed.then_some(corrected)
}

/// A word of the corpus that the analyzer turns into `stem`, as written in a passage.
fn surface_form(snapshot: &Snapshot, searcher: &Searcher, stem: &str) -> Option<String> {
    let body = snapshot.generation.fields.body;
    let query = tantivy::query::TermQuery::new(
        Term::from_field_text(body, stem),
        tantivy::schema::IndexRecordOption::Basic,
    );
    let top = searcher.search(&query, &TopDocs::with_limit(1)).ok()?;
    let (_, address) = top.first()?;
    let stored: TantivyDocument = searcher.doc(*address).ok()?;
    let text = stored_text(&stored, body);
    text.split(|c: char| !c.is_alphanumeric())
        .find(|word| query::analyze(&snapshot.analyzer.0, word) == [stem])
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_bold_highlights_and_escape_markdown() {
        let text = "The *Kibo* module_a was built by JAXA.";
        let start = text.find("JAXA").unwrap();
        let highlighted = [start..start + 4, start + 4..start + 4];
        let snippet = markdown_snippet(text, text, &highlighted);
        assert_eq!(snippet, "The \\*Kibo\\* module\\_a was built by **JAXA**.");
    }

    #[test]
    fn cut_fragments_get_ellipses() {
        let text = "One two three four five.";
        assert_eq!(markdown_snippet(text, "two three", &[]), "…two three…");
        assert_eq!(markdown_snippet(text, "One two", &[]), "One two…");
    }
}
