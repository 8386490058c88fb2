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
use tantivy::{DocAddress, DocSet, Score, Searcher, TantivyDocument, Term, TERMINATED};

use crate::analyzer::{analyze, analyze_with_offsets};
use crate::corpus::split;
use crate::index::{self, DocumentInfo, Generation, IndexError};
use crate::query::{self, AnalyzedSynonyms, QueryPlan, Reading, Terms, Weights};
use crate::scoring;
use crate::text::clip_chars;

/// The searcher, the query it ran and the passages it found, best first.
type RankedPassages = (Searcher, QueryPlan, Vec<(Score, DocAddress)>);

/// At most this many passages of one document among the top results, unless a further
/// one clearly leads the other documents' (see [`CLEAR_LEAD_OVER_OTHER_DOCUMENTS`]).
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
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub doc_id: String,
    pub title: String,
    pub section: String,
    pub source: String,
    pub score: f32,
    pub text: String,
    /// The best fragment of the passage, with the question's words marked; each
    /// renderer (Discord Markdown, terminal, JSON) marks them up its own way.
    pub snippet: Snippet,
    pub position: u64,
}

/// `--json` and other machine readers get the snippet as plain text with the
/// highlighted character ranges, and, for readers of earlier versions, `snippet`:
/// the fragment with `**` around highlights and "…" where it is cut, unescaped.
impl Serialize for Hit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct HitJson<'a> {
            doc_id: &'a str,
            title: &'a str,
            section: &'a str,
            source: &'a str,
            score: f32,
            text: &'a str,
            snippet: String,
            fragment: &'a str,
            highlights: Vec<[usize; 2]>,
            cut_before: bool,
            cut_after: bool,
        }
        let fragment = &self.snippet.fragment;
        let char_offset = |byte: usize| fragment[..byte].chars().count();
        HitJson {
            doc_id: &self.doc_id,
            title: &self.title,
            section: &self.section,
            source: &self.source,
            score: self.score,
            text: &self.text,
            snippet: self.snippet.marked("**", "**", str::to_string),
            fragment,
            highlights: self
                .snippet
                .highlights
                .iter()
                .map(|range| [char_offset(range.start), char_offset(range.end)])
                .collect(),
            cut_before: self.snippet.cut_before,
            cut_after: self.snippet.cut_after,
        }
        .serialize(serializer)
    }
}

/// A fragment of a passage and where the question's words are in it, as tantivy's
/// `Snippet` gives them: plain text, no markup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snippet {
    /// The fragment, trimmed, as it stands in the passage.
    pub fragment: String,
    /// Byte ranges of `fragment` that hold the question's words, in order, not overlapping.
    pub highlights: Vec<std::ops::Range<usize>>,
    /// Whether the passage goes on before the fragment (a renderer shows "…").
    pub cut_before: bool,
    /// Whether the passage goes on after the fragment.
    pub cut_after: bool,
}

impl Snippet {
    /// The snippet of `text` made of `fragment` (a slice of it as tantivy returns it,
    /// possibly with surrounding white space) and its highlighted byte ranges.
    pub fn new(text: &str, fragment: &str, highlighted: &[std::ops::Range<usize>]) -> Snippet {
        let trimmed = fragment.trim();
        let lead = fragment.len() - fragment.trim_start().len();
        let end = lead + trimmed.len();
        let mut highlights: Vec<std::ops::Range<usize>> = Vec::new();
        for range in highlighted {
            let start = range.start.max(lead);
            let stop = range.end.min(end);
            if start >= stop {
                continue;
            }
            let (start, stop) = (start - lead, stop - lead);
            match highlights.last_mut() {
                Some(last) if last.end >= start => last.end = last.end.max(stop),
                _ => highlights.push(start..stop),
            }
        }
        Snippet {
            fragment: trimmed.to_string(),
            highlights,
            cut_before: !text.trim_start().starts_with(trimmed),
            cut_after: !text.trim_end().ends_with(trimmed),
        }
    }

    /// Walks the fragment as alternating plain and highlighted pieces, in order.
    pub fn pieces(&self) -> impl Iterator<Item = (&str, bool)> + '_ {
        let mut cursor = 0;
        let mut ranges = self.highlights.iter().peekable();
        std::iter::from_fn(move || {
            if cursor >= self.fragment.len() {
                return None;
            }
            match ranges.peek() {
                Some(range) if range.start == cursor => {
                    let range = ranges.next().expect("peeked");
                    cursor = range.end;
                    Some((&self.fragment[range.clone()], true))
                }
                Some(range) => {
                    let piece = &self.fragment[cursor..range.start];
                    cursor = range.start;
                    Some((piece, false))
                }
                None => {
                    let piece = &self.fragment[cursor..];
                    cursor = self.fragment.len();
                    Some((piece, false))
                }
            }
        })
    }

    /// The fragment with its highlights between `open` and `close` and each piece of
    /// text passed through `escape`, with "…" where the passage was cut.
    pub fn marked(&self, open: &str, close: &str, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(self.fragment.len() + 16);
        if self.cut_before {
            out.push('…');
        }
        for (piece, highlighted) in self.pieces() {
            if highlighted {
                out.push_str(open);
                out.push_str(&escape(piece));
                out.push_str(close);
            } else {
                out.push_str(&escape(piece));
            }
        }
        if self.cut_after {
            out.push('…');
        }
        out
    }
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
    /// The pronoun a question names its subject with, when nothing else in it says what
    /// it is about ("and when was it launched?", typed after another question): the
    /// engine does not guess, and renderers ask the user to name it.
    pub unnamed_subject: Option<String>,
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
    pub doc_id: Arc<str>,
    pub score: f32,
}

/// Passages fetched per wanted document in [`Engine::rank_documents`] at first, as a
/// fraction: most documents of a result list are one or two passages. Fetching 3 a
/// document scored three times the passages needed on SciFact.
const PASSAGES_PER_DOCUMENT_FETCHED: (usize, usize) = (3, 2);

/// The `limit` best documents among passages ranked best first, each scored by its
/// best passage.
fn best_documents(
    snapshot: &Snapshot,
    top: &[(Score, DocAddress)],
    limit: usize,
) -> Vec<DocumentHit> {
    // Passages come best first, so a document's first passage is its best. (Adding
    // a share of its other passages' scores was measured and lowered SciFact nDCG@10.)
    // Equal scores would keep the order passages were indexed in, which several
    // indexing threads vary from build to build: within a run of equal scores,
    // documents go by id, so that a run over the same data repeats exactly.
    let mut seen = vec![false; snapshot.doc_ids.len()];
    let mut documents: Vec<(u32, Score)> = Vec::with_capacity(limit);
    let mut rest = top;
    let mut tied_documents: Vec<u32> = Vec::new();
    'passages: while let Some(&(score, _)) = rest.first() {
        let tied = rest.iter().take_while(|(s, _)| *s == score).count();
        tied_documents.clear();
        tied_documents.extend(
            rest[..tied]
                .iter()
                .map(|&(_, address)| snapshot.document_number(address))
                .filter(|&number| number != NO_DOCUMENT),
        );
        tied_documents.sort_unstable_by(|&a, &b| {
            snapshot.doc_ids[a as usize].cmp(&snapshot.doc_ids[b as usize])
        });
        rest = &rest[tied..];
        for &number in &tied_documents {
            if !std::mem::replace(&mut seen[number as usize], true) {
                documents.push((number, score));
                if documents.len() == limit {
                    break 'passages;
                }
            }
        }
    }
    // The ids' reference counts are read first, all at once: each is a cache miss, and
    // the locked increment of a clone waits for its miss before the next can start
    // (cloning them one by one was 4% of SciFact's search time).
    let counts: usize = documents
        .iter()
        .map(|&(number, _)| Arc::strong_count(&snapshot.doc_ids[number as usize]))
        .sum();
    std::hint::black_box(counts);
    documents
        .into_iter()
        .map(|(number, score)| DocumentHit {
            doc_id: Arc::clone(&snapshot.doc_ids[number as usize]),
            score,
        })
        .collect()
}

/// A generation plus what the engine derives from it once.
#[derive(Debug)]
pub struct Snapshot {
    generation: Generation,
    synonyms: AnalyzedSynonyms,
    /// The id of every document, by its number.
    doc_ids: Vec<Arc<str>>,
    /// The document number of every passage, by segment and doc number (see
    /// [`document_ids`]): grouping hundreds of passages per query by reading stored
    /// documents would cost more than the search itself.
    documents_of_passages: Vec<Vec<u32>>,
    /// What BM25 needs of this generation that no query changes.
    statistics: scoring::Statistics,
    /// Close spellings of unknown words, by analyzed word: finding them scans a slice of
    /// the term dictionary, and both the query and "Did you mean" need them. A std mutex:
    /// held for a lookup or an insert, never across `.await`.
    spellings: Mutex<HashMap<String, Vec<String>>>,
}

/// Unknown words remembered per generation before the memo starts afresh.
const MAX_REMEMBERED_SPELLINGS: usize = 10_000;

/// Which document each passage belongs to: the documents' ids, and each passage's
/// document as a number into them, by segment and doc number ([`NO_DOCUMENT`] for a
/// number no passage has). Read from the `doc_id` field's term dictionary and postings
/// rather than from stored documents: no passage text is decompressed, which makes it
/// several times faster on large indexes.
fn document_ids(
    searcher: &Searcher,
    field: tantivy::schema::Field,
) -> (Vec<Arc<str>>, Vec<Vec<u32>>) {
    let mut ids: Vec<Arc<str>> = Vec::new();
    let mut numbers_by_id: HashMap<Arc<str>, u32> = HashMap::new();
    let tables = searcher
        .segment_readers()
        .iter()
        .map(|reader| {
            let mut table = vec![NO_DOCUMENT; reader.max_doc() as usize];
            let Ok(inverted) = reader.inverted_index(field) else {
                return table;
            };
            let Ok(mut terms) = inverted.terms().stream() else {
                return table;
            };
            while terms.advance() {
                let id: Arc<str> = Arc::from(String::from_utf8_lossy(terms.key()).as_ref());
                let number = *numbers_by_id.entry(Arc::clone(&id)).or_insert_with(|| {
                    ids.push(id);
                    ids.len() as u32 - 1
                });
                let Ok(mut postings) =
                    inverted.read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)
                else {
                    continue;
                };
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if let Some(slot) = table.get_mut(doc as usize) {
                        *slot = number;
                    }
                    doc = postings.advance();
                }
            }
            table
        })
        .collect();
    (ids, tables)
}

/// The document number of a passage that has none.
const NO_DOCUMENT: u32 = u32::MAX;

impl Snapshot {
    fn new(generation: Generation) -> Result<Snapshot, IndexError> {
        // The corpus's own groups add to the name forms every corpus shares.
        let mut groups = crate::lexicon::name_forms().clone();
        groups
            .groups
            .extend(generation.synonyms.groups.iter().cloned());
        let synonyms = AnalyzedSynonyms::new(&groups);
        // Filled here, when a generation is opened or switched to, not by the first
        // question that needs it.
        let searcher = generation.reader.searcher();
        let (doc_ids, documents_of_passages) = document_ids(&searcher, generation.fields.doc_id);
        let fields = generation.fields;
        let statistics =
            scoring::Statistics::new(&searcher, &[fields.title, fields.heading, fields.body])?;
        Ok(Snapshot {
            generation,
            synonyms,
            doc_ids,
            documents_of_passages,
            statistics,
            spellings: Mutex::new(HashMap::new()),
        })
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

    /// The document number of the passage at `address` ([`NO_DOCUMENT`] if it has none).
    fn document_number(&self, address: DocAddress) -> u32 {
        self.documents_of_passages
            .get(address.segment_ord as usize)
            .and_then(|segment| segment.get(address.doc_id as usize))
            .copied()
            .unwrap_or(NO_DOCUMENT)
    }

    /// The analyzed form of a question, as the engine will answer it.
    pub fn terms(&self, question: &str) -> Terms {
        query::question_terms(&self.synonyms, question, Reading::Message)
    }

    /// The analyzed form of a text to search with, every word counting in full.
    pub fn search_terms(&self, text: &str) -> Terms {
        query::question_terms(&self.synonyms, text, Reading::Text)
    }

    /// Every document of this generation, in corpus order.
    pub fn documents(&self) -> &[DocumentInfo] {
        &self.generation.manifest.documents
    }

    /// The document with this id, or else the first whose title is this one (ignoring
    /// ASCII case), as `/source` and its autocompletion name them.
    pub fn find_document(&self, id_or_title: &str) -> Option<&DocumentInfo> {
        let documents = self.documents();
        documents.iter().find(|d| d.id == id_or_title).or_else(|| {
            documents
                .iter()
                .find(|d| d.title.eq_ignore_ascii_case(id_or_title))
        })
    }

    /// How many passages this generation holds.
    pub fn passage_count(&self) -> usize {
        self.generation.manifest.passages
    }

    /// How many tantivy segments this generation is split into; each costs every
    /// question time, so builds keep it low.
    pub fn segment_count(&self) -> usize {
        self.generation.reader.searcher().segment_readers().len()
    }

    /// Whether some passage body contains the analyzed term `term`.
    pub fn body_contains(&self, term: &str) -> bool {
        let searcher = self.generation.reader.searcher();
        searcher
            .doc_freq(&Term::from_field_text(self.generation.fields.body, term))
            .is_ok_and(|n| n > 0)
    }

    /// Every passage as stored, in index order, for tools and tests that check what a
    /// build wrote. Reads the whole store: not for the query path.
    pub fn stored_passages(&self) -> Vec<StoredPassage> {
        let searcher = self.generation.reader.searcher();
        let fields = self.generation.fields;
        let mut passages = Vec::new();
        for (segment_ord, reader) in searcher.segment_readers().iter().enumerate() {
            for doc_id in reader.doc_ids_alive() {
                let address = DocAddress::new(segment_ord as u32, doc_id);
                let Ok(stored) = searcher.doc::<TantivyDocument>(address) else {
                    continue;
                };
                passages.push(StoredPassage {
                    doc_id: stored_text(&stored, fields.doc_id),
                    title: stored_text(&stored, fields.title),
                    section: stored_text(&stored, fields.section),
                    text: stored_text(&stored, fields.body),
                });
            }
        }
        passages
    }

    /// The name of the generation folder in service.
    pub(crate) fn generation_name(&self) -> &str {
        &self.generation.name
    }
}

/// A passage as the index stores it (see [`Snapshot::stored_passages`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPassage {
    pub doc_id: String,
    pub title: String,
    pub section: String,
    pub text: String,
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
            current: RwLock::new(Arc::new(Snapshot::new(generation)?)),
            settings,
        })
    }

    /// Switches to the generation now in service on disk, if it changed.
    /// Queries already running finish on the generation they started with.
    ///
    /// # Errors
    /// When the generation on disk cannot be opened; the old one stays in service.
    pub fn reload(&self) -> Result<(), IndexError> {
        // Reading the pointer is one small file; opening a generation reads its
        // manifest and every segment's metadata, so it is done only on a change.
        if index::current_name(&self.root)? == self.snapshot().generation_name() {
            return Ok(());
        }
        let generation = index::open_current(&self.root)?;
        if generation.name != self.snapshot().generation_name() {
            let snapshot = Arc::new(Snapshot::new(generation)?);
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
        if let Some(pronoun) = unnamed_subject(question, &terms) {
            return Answer {
                question: question.to_string(),
                answered: false,
                passages: Vec::new(),
                best_sentence: None,
                suggestion: None,
                unnamed_subject: Some(pronoun),
            };
        }
        let passages = self.rank(&snapshot, &terms, 0, limit);
        let (answered, best_sentence) = match passages.first() {
            Some(top) => {
                let weights = term_weights(&snapshot, &terms);
                let forms = term_forms(&snapshot, &terms);
                let body = analyze_with_offsets(&top.text);
                let covered = coverage(&forms, &weights, &terms.importance, top, &body);
                tracing::debug!(
                    question,
                    terms = ?terms.terms.iter().zip(&weights).collect::<Vec<_>>(),
                    covered,
                    top = %format!("{} § {}", top.doc_id, top.section),
                    "coverage of the top passage"
                );
                (
                    covered >= self.settings.min_coverage,
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
            unnamed_subject: None,
        }
    }

    /// Ranked passages for a query, skipping the first `offset`, for result lists.
    pub fn search(&self, query: &str, offset: usize, limit: usize) -> Vec<Hit> {
        let snapshot = self.snapshot();
        let terms = snapshot.search_terms(query);
        self.rank(&snapshot, &terms, offset, limit)
    }

    /// The `limit` best documents for a query, each scored by its best passage.
    pub fn rank_documents(&self, query: &str, limit: usize) -> Vec<DocumentHit> {
        let snapshot = self.snapshot();
        let terms = snapshot.search_terms(query);
        let limit = limit.max(1);
        // Most documents are one or two passages: fetch a few more passages than
        // documents, and more only when that left too few documents. The top documents
        // are exactly those a larger fetch would give.
        let mut candidates =
            limit * PASSAGES_PER_DOCUMENT_FETCHED.0 / PASSAGES_PER_DOCUMENT_FETCHED.1;
        loop {
            let Some((_, _, top)) = self.top_passages(&snapshot, &terms, candidates) else {
                return Vec::new();
            };
            let documents = best_documents(&snapshot, &top, limit);
            if documents.len() == limit || top.len() < candidates {
                return documents;
            }
            candidates *= 2;
        }
    }

    /// Plans the query for `terms` and runs it for the `candidates` best passages;
    /// `None` when there is nothing to search or the search fails (logged).
    fn top_passages(
        &self,
        snapshot: &Snapshot,
        terms: &Terms,
        candidates: usize,
    ) -> Option<RankedPassages> {
        let generation = &snapshot.generation;
        let searcher = generation.reader.searcher();
        let plan = query::plan_query(
            terms,
            generation.fields,
            &|token| {
                let fields = generation.fields;
                let held = snapshot.statistics.held_in(&searcher, token);
                [held(fields.title), held(fields.heading), held(fields.body)]
            },
            self.settings.weights,
            &|stem| snapshot.spellings(&searcher, stem),
        )?;
        let body = generation.fields.body;
        match scoring::top_passages(&searcher, &snapshot.statistics, &plan, body, candidates) {
            Ok(top) => Some((searcher, plan, top)),
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
        let Some((searcher, plan, mut top)) = self.top_passages(snapshot, terms, candidates) else {
            return Vec::new();
        };
        let leader = first_stage_leader(&top);
        rerank(snapshot, &searcher, terms, &mut top);
        let document = |address| snapshot.document_number(address);
        let mut chosen = diversify(&top, wanted, document);
        if let Some(leader) = leader {
            keep_place_for_leader(&mut chosen, leader, document);
        }
        let query = plan.to_query(generation.fields.body);
        let mut snippets =
            SnippetGenerator::create(&searcher, &*query, generation.fields.body).ok();
        if let Some(generator) = snippets.as_mut() {
            generator.set_max_num_chars(self.settings.snippet_chars);
        }
        chosen
            .into_iter()
            .skip(offset)
            .filter_map(|(score, address)| {
                // Only the passages shown are read from the store: reading every
                // candidate's cost about a tenth of an answer's instructions (callgrind,
                // `cargo bench --bench discord`: 1.59 M against 1.45 M an answer).
                let document: TantivyDocument = searcher.doc(address).ok()?;
                Some(to_hit(
                    generation,
                    &document,
                    score,
                    snippets.as_ref(),
                    self.settings.snippet_chars,
                ))
            })
            .collect()
    }
}

/// How much the share of the question a candidate holds counts in the second stage,
/// against its BM25 score scaled to the best candidate's (so 0–1). Dev questions over
/// the Wikipedia articles (hit@1): 54.4% without the second stage, 61.1% at 2,
/// 65.6% at 4 with the share of the title below; 4 and 6 gave the same. (With the
/// passage's share counting importance twice, see [`rerank`], and the title at 2:
/// 66/90 at 3 and at 5, 67/90 at 4, 65/90 at 6.)
const SECOND_STAGE_COVERAGE: f32 = 4.0;
/// How much the share of the question the candidate's document title holds counts:
/// what the document is about, beside what the passage holds. Dev hit@1 65.6% at 0,
/// 70.0% at 1, 72.2% at 2 and at 4. (A title weight of 2 in the first stage did as
/// much for the dev questions but cost SciFact 0.04 nDCG@10. The share held by the
/// passage's own section heading, added beside it, cost dev hit@1: 71.1% at 0.5, 70.0%
/// at 1, 67.8% at 2.) Once the passage's share counted importance twice: dev hit@1
/// 66/90 at 1 (hit@3 77/90), 67/90 at 2, 68/90 at 3, 69/90 at 4 but with 2/74 of the
/// bundled questions declined (1/74 at 3), 68/90 at 5 and 69/90 at 6 with 3/90 and
/// 4/90 of the dev questions declined (2/90 at 3) and hit@3 77/90 at 6.
const SECOND_STAGE_TITLE: f32 = 3.0;
/// Added to a candidate whose own section heading holds the term naming what the
/// question asks for ([`Terms::asked_for`], "agencies" in "Which agencies operate the
/// International Space Station?"): such a heading says the passage is about things of
/// that kind ("Five partner agencies", naming all five), where another passage holds
/// the same words in passing ("Partner commitments as of 2024", whose document title
/// holds "operations"). Bundled hit@1 65/74 at 0 and 0.1, 66/74 from 0.15 to 0.8, 65/74
/// and hit@3 71/74 at 1; dev hit@1 68/90 up to 0.4, 67/90 from 0.5 ("… and which
/// spacecraft did he fly on?" went to a "Spacecraft history" heading), hit@3 81/90 up
/// to 0.8, 80/90 at 1. At 0.25 no other first result changed in either set. Replayed
/// over the candidates instead: the document title holding the term (it moved "Which
/// Canadian astronaut flew on Artemis II?" to the Canadian Space Agency's document,
/// and from 3 lost two bundled questions); the term counted more in the title's share
/// (dev hit@1 67/90 from twice); the share of the question held by the passage's first
/// sentence, or by its best sentence (2 to 16 dev questions fewer first at 0.25 to 2).
const SECOND_STAGE_HEADING_NAMES_ASKED_FOR: f32 = 0.25;

/// The second stage of ranking, for answers and result lists: the first stage (BM25)
/// finds candidates; here each is scored again by how much of the question's weight
/// (its words' rarity times their importance, synonyms and close spellings counted)
/// it holds, in its title, section and text, and by how much its document's title
/// holds, and a little more when its section heading names what the question asks for
/// (see [`SECOND_STAGE_HEADING_NAMES_ASKED_FOR`]). BM25 rewards a short passage or a
/// heading that repeats one word of the question; the answer is more often the passage
/// that holds most of the question.
///
/// In the passage's share each word's weight counts its importance once more, as
/// [`coverage`] does: an everyday word is rare in a formal corpus, and a passage that
/// happens to hold "fly", "called" or "ever" should not win over one that holds the
/// names. Dev hit@1 65/90 with importance counted once, 66/90 at the power 1.75,
/// 67/90 squared (68/90 with the title at 3, as now), 66/90 at 2.25 and 2.5, 65/90 at
/// 3; hit@3 78/90 throughout but at 3 (77/90). Counted twice in the title's share as
/// well: 67/90. The bundled questions kept hit@1 65/74 and hit@3 72/74, and one
/// answerable question fewer was declined (2/74 -> 1/74).
fn rerank(
    snapshot: &Snapshot,
    searcher: &Searcher,
    terms: &Terms,
    top: &mut [(Score, DocAddress)],
) {
    let Some(&(best, _)) = top.first() else {
        return;
    };
    let best = best.max(f32::EPSILON);
    let weights = term_weights(snapshot, terms);
    let passage_weights: Vec<f32> = weights
        .iter()
        .zip(&terms.importance)
        .map(|(weight, importance)| weight * importance)
        .collect();
    let forms = term_forms(snapshot, terms);
    let share = |weights: &[f32], present: &HashSet<&str>| -> f32 {
        let total = weights.iter().sum::<f32>().max(f32::EPSILON);
        forms
            .iter()
            .zip(weights)
            .filter(|(forms, _)| forms.any_in(present))
            .map(|(_, weight)| weight)
            .sum::<f32>()
            / total
    };
    // Which candidates hold which forms of the question's terms, from the index's
    // postings rather than by analyzing each candidate's text again: a few postings
    // lookups per term instead of a stemmer-memo lookup per word of every candidate
    // (that took half of each answer's time on SQuAD's paragraphs).
    let wanted: Vec<&str> = forms
        .iter()
        .flat_map(TermForms::terms)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let fields = snapshot.generation.fields;
    let addresses: Vec<DocAddress> = top.iter().map(|&(_, address)| address).collect();
    let mut title = vec![HashSet::new(); top.len()];
    terms_in_field(searcher, fields.title, &wanted, &addresses, &mut title);
    let mut passage = title.clone();
    terms_in_field(searcher, fields.heading, &wanted, &addresses, &mut passage);
    terms_in_field(searcher, fields.body, &wanted, &addresses, &mut passage);
    let names_asked_for = match terms.asked_for {
        Some(asked_for) => {
            headings_holding(searcher, fields, &forms[asked_for], &addresses, &title)
        }
        None => vec![false; top.len()],
    };
    for ((((score, _), title), passage), names) in top
        .iter_mut()
        .zip(&title)
        .zip(&passage)
        .zip(names_asked_for)
    {
        *score = *score / best
            + SECOND_STAGE_COVERAGE * share(&passage_weights, passage)
            + SECOND_STAGE_TITLE * share(&weights, title)
            + if names {
                SECOND_STAGE_HEADING_NAMES_ASKED_FOR
            } else {
                0.0
            };
    }
    top.sort_by(|a, b| b.0.total_cmp(&a.0));
}

/// Whether the section heading of each passage at `addresses` holds `forms` (the term
/// naming what the question asks for); `title` holds the question's terms found in
/// each passage's document title.
fn headings_holding(
    searcher: &Searcher,
    fields: index::Fields,
    forms: &TermForms,
    addresses: &[DocAddress],
    title: &[HashSet<&str>],
) -> Vec<bool> {
    let wanted: Vec<&str> = forms.terms().collect();
    let mut heading = vec![HashSet::new(); addresses.len()];
    terms_in_field(searcher, fields.heading, &wanted, addresses, &mut heading);
    addresses
        .iter()
        .zip(&heading)
        .zip(title)
        .map(|((&address, heading), title)| {
            if forms.any_in(heading) {
                return true;
            }
            if !forms.any_in(title) {
                return false;
            }
            // The heading field leaves out the words of the document's title (see
            // `index::heading_terms`), so "Five partner agencies" under a title naming
            // "agencies" is read from the store; only such passages are.
            let Ok(document) = searcher.doc::<TantivyDocument>(address) else {
                return false;
            };
            let section = analyze(&stored_text(&document, fields.section));
            forms.any_in(&section.iter().map(String::as_str).collect())
        })
        .collect()
}

/// Pronouns a question can name its subject with.
const PRONOUNS: &[&str] = &[
    "it", "its", "they", "them", "their", "this", "that", "these", "those", "he", "she", "him",
    "her", "his",
];

/// A question's words other than question words, at most this many, all everyday English,
/// with a pronoun among them: the pronoun is the subject ("when was it launched").
const MAX_WORDS_BESIDE_A_PRONOUN: usize = 2;

/// The pronoun standing for a question's subject, when nothing else in the question
/// names it: every word searched for is everyday English (and there are at most two),
/// and the question has a pronoun. "What is it like to live in space?" says enough to
/// answer; "And when was it launched?" does not, and no passage should be guessed.
fn unnamed_subject(question: &str, terms: &Terms) -> Option<String> {
    if terms.terms.len() > MAX_WORDS_BESIDE_A_PRONOUN
        || !terms.everyday.iter().all(|&everyday| everyday)
    {
        return None;
    }
    query::message_words(clip_chars(question, query::MAX_QUESTION_CHARS))
        .map(|word| word.split(['\'', '’']).next().unwrap_or(word))
        .find(|word| PRONOUNS.contains(&word.to_lowercase().as_str()))
        .map(str::to_string)
}

/// How far (in second-stage score: the BM25 score scaled to the best candidate's, plus
/// the weighted shares of [`rerank`]) a passage of a document already shown
/// [`MAX_PASSAGES_PER_DOCUMENT`] times must lead the next passage of another document to
/// be shown before it: when one document holds the answer in a third passage ("Which
/// space agency provided the seismometer on NASA's InSight lander?"), a passage of
/// another document that holds little of the question should not push it out. Dev
/// hit@3 (hit@1 cannot move): 78/90 with the cap always kept, 80/90 at 0.3 and 0.4,
/// 81/90 at 0.5, 80/90 from 0.6 to 1.5. The bundled set kept 72/74 from 0.75 and fell
/// to 71/74 below ("What does Canada contribute to the Gateway?": a third Gateway
/// passage, on ESA's part, 0.72 ahead of the Artemis passage naming Canadarm3); with
/// [`FIRST_STAGE_LEAD`] it is 72/74 at 0.5 and 73/74 from 0.75.
pub const CLEAR_LEAD_OVER_OTHER_DOCUMENTS: f32 = 0.5;

/// Keeps at most [`MAX_PASSAGES_PER_DOCUMENT`] passages per document (`document` names
/// a passage's), in rank order, unless a passage set aside leads the next one of another
/// document by [`CLEAR_LEAD_OVER_OTHER_DOCUMENTS`]; when that leaves too few (a corpus
/// of few documents), the passages set aside fill up.
fn diversify<A: Copy, D: Eq + std::hash::Hash>(
    top: &[(Score, A)],
    wanted: usize,
    document: impl Fn(A) -> D,
) -> Vec<(Score, A)> {
    let mut per_document: HashMap<D, usize> = HashMap::new();
    let mut chosen = Vec::new();
    let mut set_aside: std::collections::VecDeque<(Score, A)> = Default::default();
    for &(score, address) in top {
        let count = per_document.entry(document(address)).or_default();
        if *count < MAX_PASSAGES_PER_DOCUMENT {
            *count += 1;
            while set_aside
                .front()
                .is_some_and(|&(aside, _)| aside >= score + CLEAR_LEAD_OVER_OTHER_DOCUMENTS)
            {
                chosen.push(set_aside.pop_front().expect("front"));
                if chosen.len() == wanted {
                    return chosen;
                }
            }
            chosen.push((score, address));
            if chosen.len() == wanted {
                return chosen;
            }
        } else {
            set_aside.push_back((score, address));
        }
    }
    chosen.extend(set_aside.into_iter().take(wanted - chosen.len()));
    chosen
}

/// How many times the second-best first-stage (BM25) score the best one must be for
/// that passage to keep a place among the first [`FIRST_STAGE_LEADER_PLACES`] results,
/// wherever the second stage puts it. The second stage counts the question's words a
/// passage holds and misses those it holds in another form ("When did the Hope probe
/// reach Mars?": the passage on the Hope mission says "spacecraft" and "arrived", and
/// fell from first to ninth), while BM25 rarely leads by that much on a passage that
/// does not answer. Only the last of those places is taken, so the first result, and
/// whether the question is answered, never move. Bundled hit@3 72/74 -> 73/74 from 1.1
/// to 1.3, 72/74 from 1.4; dev hit@3 unchanged (it fires on one question at 1.1–1.2,
/// which was a hit already, and on none from 1.3).
const FIRST_STAGE_LEAD: f32 = 1.2;

/// The results among which a clear first-stage leader (see [`FIRST_STAGE_LEAD`]) keeps
/// a place.
const FIRST_STAGE_LEADER_PLACES: usize = 3;

/// The first stage's best passage, when it leads the second by [`FIRST_STAGE_LEAD`];
/// `top` is in first-stage order.
fn first_stage_leader<A: Copy>(top: &[(Score, A)]) -> Option<A> {
    match top {
        [(best, address), (second, _), ..] if *best >= FIRST_STAGE_LEAD * second.max(0.0) => {
            Some(*address)
        }
        _ => None,
    }
}

/// Puts `leader` at the last of the first [`FIRST_STAGE_LEADER_PLACES`] results of
/// `chosen` when it is not among them already, unless its document already has
/// [`MAX_PASSAGES_PER_DOCUMENT`] passages before that place; the length of `chosen`
/// stays. It takes the score of the result it displaces, so that scores still go down
/// the list (its own second-stage score is most often lower).
fn keep_place_for_leader<A: Copy + PartialEq, D: PartialEq>(
    chosen: &mut Vec<(Score, A)>,
    leader: A,
    document: impl Fn(A) -> D,
) {
    let place = FIRST_STAGE_LEADER_PLACES - 1;
    if chosen.len() <= place || chosen[..=place].iter().any(|&(_, a)| a == leader) {
        return;
    }
    let leader_document = document(leader);
    let same_document = chosen[..place]
        .iter()
        .filter(|&&(_, a)| document(a) == leader_document)
        .count();
    if same_document >= MAX_PASSAGES_PER_DOCUMENT {
        return;
    }
    let length = chosen.len();
    chosen.retain(|&(_, a)| a != leader);
    let score = chosen[place].0;
    chosen.insert(place, (score, leader));
    chosen.truncate(length);
}

fn stored_text(document: &TantivyDocument, field: tantivy::schema::Field) -> String {
    document
        .get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Adds to `present[i]` each of the `wanted` terms that the passage at `addresses[i]`
/// holds in `field`, read from the field's postings.
fn terms_in_field<'w>(
    searcher: &Searcher,
    field: tantivy::schema::Field,
    wanted: &[&'w str],
    addresses: &[DocAddress],
    present: &mut [HashSet<&'w str>],
) {
    // Postings are read forwards: visit each segment's candidates in document order.
    let mut order: Vec<usize> = (0..addresses.len()).collect();
    order.sort_unstable_by_key(|&i| (addresses[i].segment_ord, addresses[i].doc_id));
    for segment in order.chunk_by(|&a, &b| addresses[a].segment_ord == addresses[b].segment_ord) {
        let reader = searcher.segment_reader(addresses[segment[0]].segment_ord);
        let Ok(inverted) = reader.inverted_index(field) else {
            continue;
        };
        for &term in wanted {
            let key = Term::from_field_text(field, term);
            let Ok(Some(mut postings)) = inverted.read_postings(&key, IndexRecordOption::Basic)
            else {
                continue;
            };
            for &i in segment {
                let doc = addresses[i].doc_id;
                if postings.doc() <= doc && postings.seek(doc) == doc {
                    present[i].insert(term);
                }
            }
        }
    }
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
            Snippet::new(&text, snippet.fragment(), snippet.highlighted())
        }
        // No question word is in the body (the match was on title or section): show the start.
        _ => Snippet::new(&text, clip_chars(&text, snippet_chars), &[]),
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

/// The weight of each question term: its inverse document frequency in passage bodies,
/// times its importance in the question.
fn term_weights(snapshot: &Snapshot, terms: &Terms) -> Vec<f32> {
    let generation = &snapshot.generation;
    let searcher = generation.reader.searcher();
    let total_docs = searcher.num_docs().max(1) as f32;
    terms
        .terms
        .iter()
        .zip(&terms.importance)
        .map(|(term, importance)| {
            let doc_freq = searcher
                .doc_freq(&Term::from_field_text(generation.fields.body, term))
                .unwrap_or(0) as f32;
            (1.0 + (total_docs - doc_freq + 0.5) / (doc_freq + 0.5)).ln() * importance
        })
        .collect()
}

/// A word carrying this share of a question's weight by itself must be in a passage
/// that answers it. Dev questions: off-topic declined 90% without, 95% at 0.3 and 0.25;
/// answerable declined 4.4% without, 5.6% at 0.3, 8.9% at 0.25.
const HEAVY_WORD_SHARE: f32 = 0.3;

/// Share of a question's weight its correctly spelt words must cover before close
/// spellings of the others count towards an answer.
const MIN_EXACT_SHARE: f32 = 0.25;

/// The ways a passage can hold one question term.
#[derive(Debug, Clone)]
struct TermForms {
    /// The term, and its synonyms as their analyzed terms ("russian" for "russia",
    /// "international space station" for "iss").
    exact: Vec<Vec<String>>,
    /// Close spellings searched in its place: a misspelt word was found through them.
    respelled: Vec<String>,
}

impl TermForms {
    /// Whether the passage whose terms are `present` holds the term or a synonym (a
    /// synonym of several words when it holds them all).
    fn exact_in(&self, present: &HashSet<&str>) -> bool {
        self.exact
            .iter()
            .any(|form| form.iter().all(|term| present.contains(term.as_str())))
    }

    fn respelled_in(&self, present: &HashSet<&str>) -> bool {
        self.respelled
            .iter()
            .any(|form| present.contains(form.as_str()))
    }

    fn any_in(&self, present: &HashSet<&str>) -> bool {
        self.exact_in(present) || self.respelled_in(present)
    }

    /// Every term the forms are made of.
    fn terms(&self) -> impl Iterator<Item = &str> {
        self.exact
            .iter()
            .flatten()
            .chain(&self.respelled)
            .map(String::as_str)
    }
}

/// Each question term with its one-word synonyms and the close spellings searched in
/// its place.
fn term_forms(snapshot: &Snapshot, terms: &Terms) -> Vec<TermForms> {
    terms
        .terms
        .iter()
        .map(|term| {
            let mut exact = vec![vec![term.clone()]];
            exact.extend(snapshot.synonyms.equivalents(term));
            TermForms {
                exact,
                respelled: snapshot.spellings_found(term),
            }
        })
        .collect()
}

/// How much of the question the passage contains, 0–1: the share of the question's
/// weight its terms hold, with each term's weight (IDF times importance) counted at its
/// importance once more. BM25 scores are not comparable between questions; this share
/// is. An everyday word ("really", "happen", "true", "supposed") is rare in a formal
/// corpus, so its IDF is high however little it says about what is asked; counted once,
/// the asking words of a conversational message kept such a question below the
/// threshold while its passage held everything else. Development questions over the
/// Wikipedia articles, answerable declined: 5/90 with importance counted once, 3/90
/// with it to the power 1.75, 2/90 squared (as here) and at 2.5; off-topic declined
/// 19/20 at each, 18/20 at the power 3. The bundled questions did not change (18/18
/// off-topic declined, 2/74 answerable declined). `body` is the passage text analyzed.
///
/// The heavy-word rule keeps the weights counted once: squared there too, as it was
/// tried before, no question changed (5/90 declined), and squared in both with the
/// IDF of everyday words capped by their general-English frequency, off-topic
/// declined fell to 18/20 and 17/18 on the bundled set ("What is the capital of Peru?").
fn coverage(
    forms: &[TermForms],
    weights: &[f32],
    importance: &[f32],
    hit: &Hit,
    body: &[(String, usize)],
) -> f32 {
    let heading = format!("{} {}", hit.title, hit.section);
    let mut passage_terms: HashSet<&str> = body.iter().map(|(term, _)| term.as_str()).collect();
    let heading_terms = analyze(&heading);
    passage_terms.extend(heading_terms.iter().map(String::as_str));

    let (mut exact, mut respelled, mut total) = (0.0f32, 0.0f32, 0.0f32);
    for ((forms, weight), importance) in forms.iter().zip(weights).zip(importance) {
        let weight = weight * importance;
        total += weight;
        if forms.exact_in(&passage_terms) {
            exact += weight;
        } else if forms.respelled_in(&passage_terms) {
            respelled += weight;
        }
    }
    if total <= 0.0 {
        return 0.0;
    }
    // A word that carries much of the question by itself must be in the passage:
    // "Formula 1 world championships" is not answered by a passage on a parachuting
    // championship, however much else of the question it holds.
    let question_weight: f32 = weights.iter().sum();
    let heavy_word_missing = forms.iter().zip(weights).any(|(forms, weight)| {
        *weight >= question_weight * HEAVY_WORD_SHARE && !forms.any_in(&passage_terms)
    });
    if heavy_word_missing {
        return 0.0;
    }
    // Close spellings may complete what the words spelt right began, never carry a
    // question alone: "bake bread" has close spellings ("break") in any corpus.
    if exact >= total * MIN_EXACT_SHARE {
        (exact + respelled) / total
    } else {
        exact / total
    }
}

/// The sentence of `text` holding the most of the question's weight; the first such
/// sentence on ties, none when no sentence holds any question word. `body` is `text`
/// analyzed, with each term's byte offset.
fn best_sentence(
    forms: &[TermForms],
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
                .filter(|(forms, _)| forms.any_in(&present))
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
    // Most questions have no unknown word; they need no look at their words one by one.
    if !terms
        .terms
        .iter()
        .any(|term| query::is_unknown(&searcher, fields, term))
    {
        return None;
    }
    let question = clip_chars(question, query::MAX_QUESTION_CHARS);
    let mut corrected = question.to_string();
    let mut changed = false;
    let words: Vec<&str> = question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for word in words {
        let analyzed = analyze(word);
        let [stem] = analyzed.as_slice() else {
            continue;
        };
        if !terms.terms.contains(stem)
            || crate::lexicon::is_everyday(word)
            || !query::is_unknown(&searcher, fields, stem)
        {
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
    let top = searcher
        .search(&query, &TopDocs::with_limit(1).order_by_score())
        .ok()?;
    let (_, address) = top.first()?;
    let stored: TantivyDocument = searcher.doc(*address).ok()?;
    let text = stored_text(&stored, body);
    text.split(|c: char| !c.is_alphanumeric())
        .find(|word| analyze(word) == [stem])
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_highlights_inside_the_trimmed_fragment() {
        let text = "The Kibo module was built by JAXA.";
        let start = text.find("JAXA").unwrap();
        let snippet = Snippet::new(text, text, &[start..start + 4, start + 4..start + 4]);
        assert_eq!(snippet.highlights, vec![start..start + 4]);
        assert!(!snippet.cut_before && !snippet.cut_after);
        assert_eq!(
            snippet.marked("[", "]", str::to_string),
            "The Kibo module was built by [JAXA]."
        );
        let padded = format!("  {text}");
        let shifted = Snippet::new(
            &padded,
            &padded,
            std::slice::from_ref(&(start + 2..start + 6)),
        );
        assert_eq!(shifted.fragment, text);
        assert_eq!(shifted.highlights, vec![start..start + 4]);
    }

    #[test]
    fn a_pronoun_with_nothing_else_to_go_on_is_the_unnamed_subject() {
        let synonyms = AnalyzedSynonyms::default();
        let subject = |question: &str| {
            unnamed_subject(
                question,
                &query::question_terms(&synonyms, question, Reading::Message),
            )
        };
        assert_eq!(subject("and when was it launched?").as_deref(), Some("it"));
        assert_eq!(subject("Who built them?").as_deref(), Some("them"));
        assert_eq!(
            subject("How much did it's launch cost?").as_deref(),
            Some("it")
        );
        assert_eq!(subject("When was Kibo launched?"), None);
        assert_eq!(subject("When was it launched, the Kibo module?"), None);
        assert_eq!(subject("What is it like to live on a space station?"), None);
        assert_eq!(subject("when was the launch"), None);
    }

    /// Passages numbered by document: passage 12 is document 1's.
    fn document_of(passage: u32) -> u32 {
        passage / 10
    }

    #[test]
    fn a_third_passage_of_a_document_is_shown_only_when_it_clearly_leads() {
        let lead = CLEAR_LEAD_OVER_OTHER_DOCUMENTS;
        // Document 1's third passage barely leads document 2's: the cap holds.
        let close = [(6.0, 10), (5.9, 11), (5.0, 12), (5.0 - lead / 2.0, 20)];
        let shown: Vec<u32> = diversify(&close, 3, document_of)
            .iter()
            .map(|&(_, p)| p)
            .collect();
        assert_eq!(shown, [10, 11, 20]);
        // Far ahead of anything another document holds, it is shown before it.
        let clear = [(6.0, 10), (5.9, 11), (5.0, 12), (5.0 - 2.0 * lead, 20)];
        let shown: Vec<u32> = diversify(&clear, 3, document_of)
            .iter()
            .map(|&(_, p)| p)
            .collect();
        assert_eq!(shown, [10, 11, 12]);
        // With nothing else to show, the passages set aside fill the page.
        let alone = [(6.0, 10), (5.9, 11), (5.8, 12)];
        assert_eq!(diversify(&alone, 3, document_of).len(), 3);
    }

    #[test]
    fn a_clear_first_stage_leader_keeps_the_third_place() {
        // First-stage order: passage 30 far ahead of the next.
        let first_stage = [(18.0, 30), (13.0, 20), (12.0, 10)];
        assert_eq!(first_stage_leader(&first_stage), Some(30));
        assert_eq!(first_stage_leader(&[(18.0, 30), (17.0, 20)]), None);
        assert_eq!(first_stage_leader(&[(18.0, 30)]), None);

        // The second stage put it fifth: it takes the third place, the rest move down.
        let mut chosen = vec![(6.0, 10), (5.0, 20), (4.0, 40), (3.5, 50), (3.0, 30)];
        keep_place_for_leader(&mut chosen, 30, document_of);
        assert_eq!(
            chosen,
            [(6.0, 10), (5.0, 20), (4.0, 30), (4.0, 40), (3.5, 50)]
        );
        // Not shown at all: it displaces the last.
        let mut chosen = vec![(6.0, 10), (5.0, 20), (4.0, 40)];
        keep_place_for_leader(&mut chosen, 30, document_of);
        assert_eq!(chosen, [(6.0, 10), (5.0, 20), (4.0, 30)]);
        // Already among the first three, or its document shown twice before: no change.
        let mut chosen = vec![(6.0, 30), (5.0, 20), (4.0, 40)];
        keep_place_for_leader(&mut chosen, 30, document_of);
        assert_eq!(chosen, [(6.0, 30), (5.0, 20), (4.0, 40)]);
        let mut chosen = vec![(6.0, 31), (5.0, 32), (4.0, 40)];
        keep_place_for_leader(&mut chosen, 30, document_of);
        assert_eq!(chosen, [(6.0, 31), (5.0, 32), (4.0, 40)]);
    }

    #[test]
    fn cut_fragments_are_marked_and_adjacent_highlights_merge() {
        let text = "One two three four five.";
        let snippet = Snippet::new(text, "two three", &[0..3, 3..4, 4..9]);
        assert!(snippet.cut_before && snippet.cut_after);
        assert_eq!(snippet.highlights, vec![0..9]);
        assert_eq!(snippet.marked("*", "*", str::to_uppercase), "…*TWO THREE*…");
        let start = Snippet::new(text, "One two", &[]);
        assert_eq!(start.marked("*", "*", str::to_string), "One two…");
    }
}
