//! Measures answer quality, so that every ranking change is a number rather than an
//! opinion: public BEIR retrieval benchmarks (nDCG@10, MRR@10, recall, speed) and the
//! corpus maintainers' question files (hit@1, hit@3, abstentions). Each run indexes its
//! corpus in a throwaway folder; it never touches the index in service and never
//! imports Discord types.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::answer::{AnswerSettings, DocumentHit, Engine, Hit};
use crate::corpus::{self, Corpus, CorpusError};
use crate::index::{self, IndexError};

/// Cut-off of the precision-oriented metrics (nDCG, MRR, the first recall).
pub const TOP: usize = 10;
/// Documents ranked per query, for Recall@100 and the run file.
pub const DEPTH: usize = 100;

/// Timed passes over a BEIR set's queries, after an untimed first one, unless told
/// otherwise; the median gives the queries per second.
pub const TIMED_PASSES: usize = 3;
/// Passages a question-file answer may use: hit@3 looks at the top three.
pub const QUESTION_PASSAGES: usize = 3;
/// Tag of our rankings in TREC run files.
pub const RUN_TAG: &str = "spacecollab";

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// An input file could not be read (or un-gzipped).
    #[error("{path}: cannot be read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A line of a queries, qrels or question file is malformed.
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The corpus path cannot be read at all.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// No document of the corpus could be loaded.
    #[error("{0}: no document could be loaded")]
    EmptyCorpus(PathBuf),
    /// The throwaway index could not be built or opened.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The throwaway index folder could not be created.
    #[error("cannot create a scratch folder in {path}: {source}")]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> EvalError + '_ {
    move |source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a text file, un-gzipping it first when its name ends in `.gz` (BEIR ships
/// ArguAna that way).
///
/// # Errors
/// When the file cannot be read, is not gzip though named so, or is not UTF-8.
pub fn read_text(path: &Path) -> Result<String, EvalError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut text = String::new();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .map_err(io_error(path))?;
    } else {
        std::io::BufReader::new(file)
            .read_to_string(&mut text)
            .map_err(io_error(path))?;
    }
    Ok(text)
}

/// An engine over a throwaway index of one corpus; the index goes when this is dropped.
#[derive(Debug)]
pub struct ScratchEngine {
    pub engine: Engine,
    pub documents: usize,
    pub passages: usize,
    /// Files or lines left out of the corpus.
    pub skipped: usize,
    pub index_seconds: f64,
    /// Deleted when dropped, so an evaluation leaves nothing behind even when it fails
    /// half-way. Declared last so the engine (and its open files) goes first.
    _folder: tempfile::TempDir,
}

/// Indexes `corpus` in a scratch folder and opens an engine on it.
///
/// # Errors
/// When the corpus is empty or the index cannot be built.
pub fn scratch_engine(
    corpus: &Corpus,
    settings: AnswerSettings,
    threads: usize,
) -> Result<ScratchEngine, EvalError> {
    let folder = tempfile::Builder::new()
        .prefix("spacecollab-eval-")
        .tempdir()
        .map_err(|source| EvalError::Scratch {
            path: std::env::temp_dir(),
            source,
        })?;
    let started = Instant::now();
    let report = index::build(folder.path(), corpus, threads, true, |_, _| {})?;
    let index_seconds = started.elapsed().as_secs_f64();
    let engine = Engine::open(folder.path(), settings)?;
    Ok(ScratchEngine {
        engine,
        documents: report.manifest.documents.len(),
        passages: report.manifest.passages,
        skipped: corpus.skipped.len(),
        index_seconds,
        _folder: folder,
    })
}

/// Threads for building throwaway indexes: the cores, at most 4 (as the config's default).
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

/// Loads a BEIR corpus file (`.jsonl` or `.jsonl.gz`).
///
/// # Errors
/// When the file cannot be read or holds no usable document.
pub fn load_beir_corpus(path: &Path) -> Result<Corpus, EvalError> {
    let text = read_text(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".gz").to_string())
        .unwrap_or_else(|| "corpus.jsonl".to_string());
    let name = if name.ends_with(".jsonl") {
        name
    } else {
        format!("{name}.jsonl")
    };
    let (documents, skipped) = corpus::parse_file(Path::new(&name), text.as_bytes());
    if documents.is_empty() {
        return Err(EvalError::EmptyCorpus(path.to_path_buf()));
    }
    Ok(Corpus {
        documents,
        skipped,
        bytes: text.len() as u64,
        ..Corpus::default()
    })
}

/// BEIR ids are strings, but some files write them as numbers.
fn id_string(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Loads BEIR queries (`{"_id", "text"}` a line; other keys ignored) as id → text.
///
/// # Errors
/// When the file cannot be read or a line is not such an object.
pub fn load_queries(path: &Path) -> Result<HashMap<String, String>, EvalError> {
    #[derive(Deserialize)]
    struct RawQuery {
        #[serde(rename = "_id")]
        id: serde_json::Value,
        text: String,
    }
    let queries = read_json_lines(path, |_, raw: RawQuery, bad| {
        let id = id_string(&raw.id).ok_or_else(|| bad("`_id` must be a string".into()))?;
        Ok((id, raw.text))
    })?;
    Ok(queries.into_iter().collect())
}

/// Parses every non-blank line of a JSON Lines file as a `T` and hands it to `convert`
/// with its 1-based line number and a maker of errors that name the file and line.
fn read_json_lines<T: serde::de::DeserializeOwned, U>(
    path: &Path,
    mut convert: impl FnMut(usize, T, &dyn Fn(String) -> EvalError) -> Result<U, EvalError>,
) -> Result<Vec<U>, EvalError> {
    let text = read_text(path)?;
    let mut records = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalError::Line {
            path: path.to_path_buf(),
            line: index + 1,
            message,
        };
        let raw: T = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        records.push(convert(index + 1, raw, &bad)?);
    }
    Ok(records)
}

/// Relevance judgements: query id → document id → grade.
pub type Qrels = BTreeMap<String, HashMap<String, i32>>;

/// Loads a qrels TSV (`query-id corpus-id score`, with or without a header line).
///
/// # Errors
/// When the file cannot be read or a line has no three columns.
pub fn load_qrels(path: &Path) -> Result<Qrels, EvalError> {
    let text = read_text(path)?;
    let mut qrels = Qrels::new();
    for (index, line) in text.lines().enumerate() {
        let columns: Vec<&str> = line.split_whitespace().collect();
        if columns.is_empty() {
            continue;
        }
        let grade = columns.get(2).and_then(|g| g.parse::<i32>().ok());
        match (columns.len(), grade) {
            (3, Some(grade)) => {
                qrels
                    .entry(columns[0].to_string())
                    .or_default()
                    .insert(columns[1].to_string(), grade);
            }
            // The header line.
            (3, None) if index == 0 => {}
            _ => {
                return Err(EvalError::Line {
                    path: path.to_path_buf(),
                    line: index + 1,
                    message: "expected `query-id corpus-id score`".into(),
                })
            }
        }
    }
    Ok(qrels)
}

/// The three files of a BEIR data set.
#[derive(Debug, Clone)]
pub struct BeirFiles {
    pub corpus: PathBuf,
    pub queries: PathBuf,
    pub qrels: PathBuf,
}

/// One query's ranking, best document first.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    pub query_id: String,
    pub documents: Vec<DocumentHit>,
}

/// The scores of one BEIR run, averaged over the judged queries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BeirReport {
    pub documents: usize,
    pub passages: usize,
    /// Corpus lines left out (empty or malformed documents).
    pub skipped: usize,
    /// Queries with judgements that were run and scored.
    pub queries: usize,
    /// Judged queries missing from the queries file (not scored).
    pub missing_queries: usize,
    pub ndcg_at_10: f64,
    pub mrr_at_10: f64,
    pub recall_at_10: f64,
    pub recall_at_100: f64,
    pub index_seconds: f64,
    /// One timed pass over the queries (the median pass).
    pub search_seconds: f64,
    /// Queries per second on one thread, ranking [`DEPTH`] documents each: the median
    /// of the timed passes after a first, untimed one.
    pub queries_per_second: f64,
    /// How many passes were timed.
    pub timed_passes: usize,
}

impl fmt::Display for BeirReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "corpus:     {} documents, {} passages ({} skipped), indexed in {:.2} s",
            self.documents, self.passages, self.skipped, self.index_seconds
        )?;
        write!(f, "queries:    {}", self.queries)?;
        if self.missing_queries > 0 {
            write!(
                f,
                " ({} judged but not in the queries file)",
                self.missing_queries
            )?;
        }
        writeln!(f)?;
        writeln!(f, "nDCG@10:    {:.4}", self.ndcg_at_10)?;
        writeln!(f, "MRR@10:     {:.4}", self.mrr_at_10)?;
        writeln!(f, "Recall@10:  {:.4}", self.recall_at_10)?;
        writeln!(f, "Recall@100: {:.4}", self.recall_at_100)?;
        writeln!(
            f,
            "speed:      {:.0} queries/s on one thread ({:.2} s a pass, median of {} after a warm-up pass)",
            self.queries_per_second, self.search_seconds, self.timed_passes
        )
    }
}

/// Runs every judged query of a BEIR set at document level and scores the rankings,
/// and times `timed_passes` more runs of them (at least one).
/// As BEIR does, a document with the query's own id is dropped from its ranking
/// (ArguAna's queries are themselves corpus documents).
///
/// # Errors
/// When a file cannot be read or the index cannot be built.
pub fn run_beir(
    files: &BeirFiles,
    settings: AnswerSettings,
    threads: usize,
    timed_passes: usize,
) -> Result<(BeirReport, Vec<Ranking>), EvalError> {
    let timed_passes = timed_passes.max(1);
    let qrels = load_qrels(&files.qrels)?;
    let queries = load_queries(&files.queries)?;
    let corpus = load_beir_corpus(&files.corpus)?;
    let scratch = scratch_engine(&corpus, settings, threads)?;
    drop(corpus);

    let judged: Vec<(&String, &String)> = qrels
        .keys()
        .filter_map(|id| queries.get(id).map(|text| (id, text)))
        .collect();
    // The first pass gives the rankings and warms the caches; the speed is the median
    // of the timed passes after it, as the peers' yardstick (bm25s) measures its own.
    let rankings: Vec<Ranking> = judged
        .iter()
        .map(|(id, text)| {
            let mut documents = scratch.engine.rank_documents(text, DEPTH + 1);
            documents.retain(|d| *d.doc_id != ***id);
            documents.truncate(DEPTH);
            Ranking {
                query_id: id.to_string(),
                documents,
            }
        })
        .collect();
    let mut passes: Vec<f64> = (0..timed_passes)
        .map(|_| {
            let started = Instant::now();
            for (_, text) in &judged {
                std::hint::black_box(scratch.engine.rank_documents(text, DEPTH + 1));
            }
            started.elapsed().as_secs_f64()
        })
        .collect();
    passes.sort_by(f64::total_cmp);
    let search_seconds = passes[passes.len() / 2];

    let mut report = BeirReport {
        documents: scratch.documents,
        passages: scratch.passages,
        skipped: scratch.skipped,
        queries: rankings.len(),
        missing_queries: qrels.len() - judged.len(),
        index_seconds: scratch.index_seconds,
        search_seconds,
        queries_per_second: rankings.len() as f64 / search_seconds.max(1e-9),
        timed_passes,
        ..BeirReport::default()
    };
    for ranking in &rankings {
        let judgements = &qrels[&ranking.query_id];
        let ids: Vec<&str> = ranking.documents.iter().map(|d| &*d.doc_id).collect();
        report.ndcg_at_10 += ndcg(&ids, judgements, TOP);
        report.mrr_at_10 += reciprocal_rank(&ids, judgements, TOP);
        report.recall_at_10 += recall(&ids, judgements, TOP);
        report.recall_at_100 += recall(&ids, judgements, DEPTH);
    }
    let n = rankings.len().max(1) as f64;
    report.ndcg_at_10 /= n;
    report.mrr_at_10 /= n;
    report.recall_at_10 /= n;
    report.recall_at_100 /= n;
    Ok((report, rankings))
}

/// Normalized discounted cumulative gain at `k`, with the grade as gain (as trec_eval
/// and BEIR compute it).
pub fn ndcg(ranking: &[&str], judgements: &HashMap<String, i32>, k: usize) -> f64 {
    let gain = |grade: i32| f64::from(grade.max(0));
    let discount = |rank: usize| 1.0 / ((rank + 2) as f64).log2();
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .map(|(rank, id)| gain(*judgements.get(*id).unwrap_or(&0)) * discount(rank))
        .sum();
    let mut ideal: Vec<i32> = judgements.values().copied().filter(|g| *g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(rank, grade)| gain(*grade) * discount(rank))
        .sum();
    if idcg > 0.0 {
        dcg / idcg
    } else {
        0.0
    }
}

/// 1 / rank of the first relevant document within the top `k`, else 0.
pub fn reciprocal_rank(ranking: &[&str], judgements: &HashMap<String, i32>, k: usize) -> f64 {
    ranking
        .iter()
        .take(k)
        .position(|id| judgements.get(*id).is_some_and(|g| *g > 0))
        .map_or(0.0, |rank| 1.0 / (rank + 1) as f64)
}

/// Share of the relevant documents found within the top `k`.
pub fn recall(ranking: &[&str], judgements: &HashMap<String, i32>, k: usize) -> f64 {
    let relevant = judgements.values().filter(|g| **g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranking
        .iter()
        .take(k)
        .filter(|id| judgements.get(**id).is_some_and(|g| *g > 0))
        .count();
    found as f64 / relevant as f64
}

/// Writes rankings as a TREC run file: `qid Q0 docid rank score tag`, ranks from 1.
///
/// # Errors
/// When writing fails.
pub fn write_run(rankings: &[Ranking], out: &mut impl Write) -> std::io::Result<()> {
    for ranking in rankings {
        for (rank, document) in ranking.documents.iter().enumerate() {
            writeln!(
                out,
                "{} Q0 {} {} {:.6} {RUN_TAG}",
                ranking.query_id,
                document.doc_id,
                rank + 1,
                document.score
            )?;
        }
    }
    Ok(())
}

/// One line of a question file.
#[derive(Debug, Clone)]
pub struct Question {
    pub line: usize,
    pub question: String,
    /// Patterns (case-insensitive) that must all match within the top passages.
    /// Empty for a question the corpus should not answer.
    pub expect: Vec<Regex>,
}

impl Question {
    /// Whether the corpus is expected to answer the question.
    pub fn answerable(&self) -> bool {
        !self.expect.is_empty()
    }
}

/// Loads a question file: JSON Lines of `{"question", "expect": [regex, ...]}` or
/// `{"question", "expect_no_answer": true}`.
///
/// # Errors
/// When the file cannot be read, a line is malformed, or a pattern is not a regex.
pub fn load_questions(path: &Path) -> Result<Vec<Question>, EvalError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawQuestion {
        question: String,
        #[serde(default)]
        expect: Vec<String>,
        #[serde(default)]
        expect_no_answer: bool,
    }
    read_json_lines(path, |line, raw: RawQuestion, bad| {
        if raw.expect.is_empty() != raw.expect_no_answer {
            return Err(bad(
                "give either `expect` patterns or `\"expect_no_answer\": true`".into(),
            ));
        }
        let expect = raw
            .expect
            .iter()
            .map(|pattern| {
                RegexBuilder::new(pattern)
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| bad(format!("bad pattern `{pattern}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Question {
            line,
            question: raw.question,
            expect,
        })
    })
}

/// How a question went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissKind {
    /// The expected facts are not all in the top passage (maybe lower down).
    NotFirst,
    /// The expected facts are not all in the top three passages.
    NotInTop3,
    /// The top passages hold the facts but the engine declined to call them an answer.
    Declined,
    /// The engine answered a question the corpus cannot answer.
    Answered,
}

/// One question that did not go as expected.
#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub line: usize,
    pub question: String,
    pub kind: MissKind,
    /// Patterns missing from the top three passages.
    pub missing: Vec<String>,
    /// `doc_id § section` of the passages returned, best first.
    pub got: Vec<String>,
}

/// The scores of a question file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QuestionReport {
    pub answerable: usize,
    pub hit_at_1: usize,
    pub hit_at_3: usize,
    /// Answerable questions the engine declined to answer.
    pub answerable_declined: usize,
    pub unanswerable: usize,
    /// Unanswerable questions the engine correctly declined.
    pub correct_abstentions: usize,
    pub misses: Vec<Miss>,
}

impl QuestionReport {
    fn share(part: usize, whole: usize) -> f64 {
        if whole == 0 {
            1.0
        } else {
            part as f64 / whole as f64
        }
    }

    pub fn hit_at_1_rate(&self) -> f64 {
        Self::share(self.hit_at_1, self.answerable)
    }

    pub fn hit_at_3_rate(&self) -> f64 {
        Self::share(self.hit_at_3, self.answerable)
    }

    pub fn abstention_rate(&self) -> f64 {
        Self::share(self.correct_abstentions, self.unanswerable)
    }

    pub fn declined_rate(&self) -> f64 {
        if self.answerable == 0 {
            0.0
        } else {
            Self::share(self.answerable_declined, self.answerable)
        }
    }
}

impl fmt::Display for QuestionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = |rate: f64| rate * 100.0;
        writeln!(
            f,
            "hit@1:                 {}/{} ({:.1}%)",
            self.hit_at_1,
            self.answerable,
            percent(self.hit_at_1_rate())
        )?;
        writeln!(
            f,
            "hit@3:                 {}/{} ({:.1}%)",
            self.hit_at_3,
            self.answerable,
            percent(self.hit_at_3_rate())
        )?;
        writeln!(
            f,
            "correct abstentions:   {}/{} ({:.1}%)",
            self.correct_abstentions,
            self.unanswerable,
            percent(self.abstention_rate())
        )?;
        writeln!(
            f,
            "answerable declined:   {}/{} ({:.1}%)",
            self.answerable_declined,
            self.answerable,
            percent(self.declined_rate())
        )?;
        for miss in &self.misses {
            let kind = match miss.kind {
                MissKind::NotFirst => "not first",
                MissKind::NotInTop3 => "not in top 3",
                MissKind::Declined => "declined",
                MissKind::Answered => "answered off-topic",
            };
            writeln!(f, "miss ({kind}) line {}: {}", miss.line, miss.question)?;
            if !miss.missing.is_empty() {
                writeln!(f, "    missing: {}", miss.missing.join(", "))?;
            }
            for got in &miss.got {
                writeln!(f, "    got: {got}")?;
            }
        }
        Ok(())
    }
}

/// The patterns that match nowhere in the passages' headings and texts; empty when the
/// passages hold every expected fact. A document's title is not searched: every passage
/// of a document carries it, so a match there says nothing about the passage. A match
/// must start a word, so that `ASI` is not found in "basis".
fn missing_patterns(patterns: &[Regex], passages: &[Hit]) -> Vec<String> {
    let text: String = passages
        .iter()
        .map(|hit| format!("{}\n{}\n", hit.section, hit.text))
        .collect();
    patterns
        .iter()
        .filter(|pattern| !matches_at_word_start(pattern, &text))
        .map(|pattern| pattern.as_str().to_string())
        .collect()
}

/// Whether `pattern` matches `text` somewhere that does not begin inside a word.
fn matches_at_word_start(pattern: &Regex, text: &str) -> bool {
    let starts_word = |at: usize| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|before| !before.is_alphanumeric())
    };
    // Matches are tried from every start, not only where the previous one ended: the
    // first match of `ASI` in "basis ASI" begins inside "basis".
    let mut from = 0;
    while let Some(found) = pattern.find_at(text, from) {
        if starts_word(found.start()) {
            return true;
        }
        from = found.start()
            + text[found.start()..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
    }
    false
}

/// Asks every question and scores the answers.
pub fn run_questions(engine: &Engine, questions: &[Question]) -> QuestionReport {
    let mut report = QuestionReport::default();
    for question in questions {
        let answer = engine.ask(&question.question, Some(QUESTION_PASSAGES));
        let got: Vec<String> = answer
            .passages
            .iter()
            .map(|hit| format!("{} § {}", hit.doc_id, hit.section))
            .collect();
        let miss = |kind, missing| Miss {
            line: question.line,
            question: question.question.clone(),
            kind,
            missing,
            got: got.clone(),
        };
        if !question.answerable() {
            report.unanswerable += 1;
            if answer.answered {
                report.misses.push(miss(MissKind::Answered, Vec::new()));
            } else {
                report.correct_abstentions += 1;
            }
            continue;
        }
        report.answerable += 1;
        let top = answer.passages.get(..1).unwrap_or(&[]);
        let first = missing_patterns(&question.expect, top).is_empty();
        let missing = missing_patterns(&question.expect, &answer.passages);
        report.hit_at_1 += usize::from(first);
        report.hit_at_3 += usize::from(missing.is_empty());
        if !missing.is_empty() {
            report.misses.push(miss(MissKind::NotInTop3, missing));
        } else if !first {
            report.misses.push(miss(MissKind::NotFirst, Vec::new()));
        }
        if !answer.answered {
            report.answerable_declined += 1;
            report.misses.push(miss(MissKind::Declined, Vec::new()));
        }
    }
    report
}

/// Indexes the corpus at `corpus_path` in a scratch folder and runs a question file on it.
///
/// # Errors
/// When a file cannot be read or the index cannot be built.
pub fn eval_questions(
    questions_path: &Path,
    corpus_path: &Path,
    settings: AnswerSettings,
    threads: usize,
) -> Result<QuestionReport, EvalError> {
    let questions = load_questions(questions_path)?;
    let corpus = corpus::load(corpus_path, |_, _| {})?;
    if corpus.documents.is_empty() {
        return Err(EvalError::EmptyCorpus(corpus_path.to_path_buf()));
    }
    let scratch = scratch_engine(&corpus, settings, threads)?;
    Ok(run_questions(&scratch.engine, &questions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judgements(pairs: &[(&str, i32)]) -> HashMap<String, i32> {
        pairs.iter().map(|(id, g)| (id.to_string(), *g)).collect()
    }

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_discounts_later_ranks() {
        let judged = judgements(&[("a", 2), ("b", 1)]);
        assert!((ndcg(&["a", "b", "c"], &judged, 10) - 1.0).abs() < 1e-9);
        let swapped = ndcg(&["b", "a"], &judged, 10);
        let expected = (1.0 + 2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2());
        assert!((swapped - expected).abs() < 1e-9);
        assert_eq!(ndcg(&["x", "y"], &judged, 10), 0.0);
    }

    #[test]
    fn mrr_and_recall_count_only_relevant_documents_within_k() {
        let judged = judgements(&[("a", 1), ("b", 1), ("z", 0)]);
        assert_eq!(reciprocal_rank(&["z", "x", "b"], &judged, 10), 1.0 / 3.0);
        assert_eq!(reciprocal_rank(&["z", "x", "b"], &judged, 2), 0.0);
        assert_eq!(recall(&["a", "z", "b"], &judged, 2), 0.5);
        assert_eq!(recall(&["a", "z", "b"], &judged, 3), 1.0);
    }

    #[test]
    fn run_lines_follow_the_trec_format() {
        let rankings = vec![Ranking {
            query_id: "q1".into(),
            documents: vec![
                DocumentHit {
                    doc_id: "d7".into(),
                    score: 3.5,
                },
                DocumentHit {
                    doc_id: "d2".into(),
                    score: 1.25,
                },
            ],
        }];
        let mut out = Vec::new();
        write_run(&rankings, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "q1 Q0 d7 1 3.500000 spacecollab\nq1 Q0 d2 2 1.250000 spacecollab\n"
        );
    }

    #[test]
    fn qrels_skip_the_header_and_reject_short_lines() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("qrels.tsv");
        std::fs::write(&path, "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t2\n").unwrap();
        let qrels = load_qrels(&path).unwrap();
        assert_eq!(qrels["q1"]["d2"], 2);
        std::fs::write(&path, "q1\td1\t1\nq2 d3\n").unwrap();
        assert!(matches!(
            load_qrels(&path),
            Err(EvalError::Line { line: 2, .. })
        ));
    }

    #[test]
    fn gzipped_files_are_read_transparently() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("queries.jsonl.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(b"{\"_id\": 7, \"text\": \"who built Kibo\"}\n")
            .unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let queries = load_queries(&path).unwrap();
        assert_eq!(queries["7"], "who built Kibo");
    }

    #[test]
    fn a_question_needs_patterns_or_expect_no_answer() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("questions.jsonl");
        std::fs::write(
            &path,
            "{\"question\": \"q\", \"expect\": [\"JAXA\"]}\n{\"question\": \"bread\", \"expect_no_answer\": true}\n",
        )
        .unwrap();
        let questions = load_questions(&path).unwrap();
        assert!(questions[0].answerable() && questions[0].expect[0].is_match("jaxa"));
        assert!(!questions[1].answerable());
        std::fs::write(&path, "{\"question\": \"q\"}\n").unwrap();
        assert!(load_questions(&path).is_err());
        std::fs::write(&path, "{\"question\": \"q\", \"expect\": [\"(\"]}\n").unwrap();
        assert!(load_questions(&path).is_err());
    }

    #[test]
    fn expected_facts_match_from_the_start_of_a_word_in_heading_or_text() {
        let pattern = |p: &str| RegexBuilder::new(p).case_insensitive(true).build().unwrap();
        let hit = |title: &str, section: &str, text: &str| Hit {
            doc_id: "d".into(),
            title: title.into(),
            section: section.into(),
            source: String::new(),
            score: 1.0,
            text: text.into(),
            snippet: crate::answer::Snippet::default(),
            position: 0,
        };
        let basis = [hit("ASI", "", "On the basis of a treaty.")];
        assert_eq!(missing_patterns(&[pattern("ASI")], &basis), vec!["ASI"]);
        let both = [hit("", "", "On the basis of ASI's work.")];
        assert!(missing_patterns(&[pattern("ASI")], &both).is_empty());
        let heading = [hit("", "Founded in 1975", "Text.")];
        assert!(missing_patterns(&[pattern("1975")], &heading).is_empty());
        assert!(missing_patterns(&[pattern(r"\bESA")], &[hit("", "", "ESA")]).is_empty());
    }

    #[test]
    fn scratch_folders_are_removed_when_dropped() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().to_path_buf();
        assert!(path.is_dir());
        drop(folder);
        assert!(!path.exists());
    }
}
