//! `cargo bench --bench engine`: index build throughput on one thread, and the latency of
//! `Engine::ask` (snippets included) in process, on public retrieval data sets from
//! `../shared/data` and on the bundled corpus. Plain `std::time`; prints compact tables.
//!
//! Targets: at least 15 MB/s of text indexed on one thread; ask p99 under 5 ms on
//! 50,000 passages.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use spacecollab::answer::{AnswerSettings, Engine};
use spacecollab::reindex::{self, Report};

/// Index builds per corpus for the throughput figure; the median is reported.
const BUILD_RUNS: usize = 5;
/// Passages the latency index must have at least.
const MIN_PASSAGES: usize = 50_000;
/// Questions asked for each latency figure, at least.
const MIN_QUERIES: usize = 2_000;
/// Questions asked before timing starts, to warm caches.
const WARM_UP: usize = 200;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("../shared/data");
    if !data.is_dir() {
        println!("skipped: ../shared/data not found");
        return ExitCode::SUCCESS;
    }
    match run(root, &data) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(root: &Path, data: &Path) -> Result<()> {
    let scifact = data.join("beir/scifact");
    let squad = data.join("squad/squad-v1.1-dev-beir");
    let arguana = data.join("beir/arguana");
    let work = tempfile::tempdir()?;

    // (a) Index build throughput on one thread: the whole command (read, parse, split,
    // index, verify, switch), the indexing stage alone on a corpus already loaded, and
    // stock tantivy on the same file as a yardstick. "cpu" is the whole command's text
    // per second of CPU time, counting every thread of the process.
    println!("index build, 1 indexing thread, median of {BUILD_RUNS}");
    println!(
        "{:<8} {:>5} {:>9} {:>8} {:>6} {:>5} {:>5} {:>7} {:>5} {:>9} {:>5}",
        "corpus",
        "MB",
        "documents",
        "passages",
        "all s",
        "MB/s",
        "cpu",
        "index s",
        "MB/s",
        "tantivy s",
        "MB/s"
    );
    for (name, corpus) in [
        ("scifact", scifact.join("corpus.jsonl")),
        ("squad", squad.join("corpus.jsonl")),
    ] {
        let (mut whole, mut cpu, mut stage, mut stock) = (vec![], vec![], vec![], vec![]);
        let mut last = None;
        for run in 0..BUILD_RUNS {
            let index = work.path().join(format!("throughput-{name}-{run}"));
            let (started, cpu_before) = (Instant::now(), cpu_time());
            let report = reindex::rebuild(&corpus, &index, 1, |_| {})?;
            whole.push(started.elapsed());
            if let (Some(before), Some(after)) = (cpu_before, cpu_time()) {
                cpu.push(after.saturating_sub(before));
            }
            std::fs::remove_dir_all(&index)?;

            let loaded = spacecollab::corpus::load(&corpus, |_, _| {})?;
            let started = Instant::now();
            spacecollab::index::build(&index, &loaded, 1, true, |_, _| {})?;
            stage.push(started.elapsed());
            std::fs::remove_dir_all(&index)?;

            std::fs::create_dir_all(&index)?;
            stock.push(stock_tantivy(&corpus, &index)?);
            std::fs::remove_dir_all(&index)?;
            last = Some(report);
        }
        let report = last.expect("at least one run");
        let mb = report.bytes as f64 / 1e6;
        let median = |mut times: Vec<Duration>| {
            times.sort();
            times
                .get(times.len() / 2)
                .map_or(f64::NAN, Duration::as_secs_f64)
        };
        let (whole, cpu, stage, stock) = (median(whole), median(cpu), median(stage), median(stock));
        println!(
            "{:<8} {:>5.2} {:>9} {:>8} {:>6.2} {:>5.1} {:>5.1} {:>7.2} {:>5.1} {:>9.2} {:>5.1}",
            name,
            mb,
            report.documents,
            report.passages,
            whole,
            mb / whole,
            mb / cpu,
            stage,
            mb / stage,
            stock,
            mb / stock
        );
    }

    // Real questions: all of SciFact's, then SQuAD's, to make up the number.
    let mut questions = read_texts(&scifact.join("queries.jsonl"), "text")?;
    let squad_questions = read_texts(&squad.join("queries.jsonl"), "text")?;
    let wanted = MIN_QUERIES.max(questions.len() + 1_000);
    questions.extend(squad_questions.into_iter().take(wanted - questions.len()));

    // (b) Ask latency on at least 50,000 passages.
    let big = work.path().join("big-corpus");
    std::fs::create_dir_all(&big)?;
    std::fs::copy(scifact.join("corpus.jsonl"), big.join("scifact.jsonl"))?;
    std::fs::copy(squad.join("corpus.jsonl"), big.join("squad.jsonl"))?;
    let arguana_corpus = spacecollab::eval::read_text(&arguana.join("corpus.jsonl.gz"))?;
    std::fs::write(big.join("arguana.jsonl"), arguana_corpus)?;
    let originals = ["scifact", "squad", "arguana"];
    let loaded = spacecollab::corpus::load(&big, |_, _| {})?;
    let passages_per_copy: usize = loaded.documents.iter().map(|d| d.passages().len()).sum();
    let copies = MIN_PASSAGES.div_ceil(passages_per_copy.max(1));
    for copy in 1..copies {
        for name in originals {
            let from = big.join(format!("{name}.jsonl"));
            let to = big.join(format!("{name}-copy{copy}.jsonl"));
            copy_with_suffixed_ids(&from, &to, &format!("~copy{copy}"))?;
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let big_index = work.path().join("big-index");
    let report = reindex::rebuild(&big, &big_index, threads, |_| {})?;
    let big_engine = Engine::open(&big_index, AnswerSettings::default())?;

    // (c) Ask latency on the bundled corpus, with the space questions first.
    let bundled_index = work.path().join("bundled-index");
    let bundled_report = reindex::rebuild(&root.join("corpus"), &bundled_index, 1, |_| {})?;
    let bundled_engine = Engine::open(&bundled_index, AnswerSettings::default())?;
    let mut bundled_questions =
        read_texts(&data.join("wikipedia-space/qa_set.jsonl"), "question").unwrap_or_default();
    bundled_questions.extend(questions.iter().cloned());

    println!();
    println!("engine.ask(q, None) latency in ms, in process, snippets included");
    println!(
        "{:<28} {:>8} {:>7} {:>8} {:>7} {:>7} {:>7} {:>7}",
        "index", "passages", "queries", "answered", "median", "p90", "p99", "max"
    );
    let big_name = format!("scifact+squad+arguana x{copies}");
    print_latency(&big_name, &report, &big_engine, &questions);
    print_latency(
        "bundled corpus/",
        &bundled_report,
        &bundled_engine,
        &bundled_questions,
    );
    Ok(())
}

/// Times `engine.ask` on every question after a warm-up, and prints one table row.
fn print_latency(name: &str, report: &Report, engine: &Engine, questions: &[String]) {
    for question in questions.iter().take(WARM_UP) {
        std::hint::black_box(engine.ask(question, None));
    }
    let mut times = Vec::with_capacity(questions.len());
    let mut answered = 0usize;
    for question in questions {
        let started = Instant::now();
        let answer = std::hint::black_box(engine.ask(question, None));
        times.push(started.elapsed());
        answered += usize::from(answer.answered);
    }
    times.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let percentile = |p: f64| {
        let rank = ((p * times.len() as f64).ceil() as usize).clamp(1, times.len());
        ms(times[rank - 1])
    };
    println!(
        "{:<28} {:>8} {:>7} {:>7.0}% {:>7.2} {:>7.2} {:>7.2} {:>7.2}",
        name,
        report.passages,
        times.len(),
        100.0 * answered as f64 / times.len().max(1) as f64,
        percentile(0.5),
        percentile(0.9),
        percentile(0.99),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
    );
}

/// CPU time used so far by every thread of this process, where Linux tells it.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces;
    // utime and stime are the 12th and 13th of them, in ticks of 1/100 s.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Stock tantivy on a BEIR file, as a yardstick: `_id` as a raw string, title and text
/// with tantivy's own `en_stem` analyzer, positions and stored text, one indexing thread,
/// from reading the file to the commit.
fn stock_tantivy(corpus: &Path, folder: &Path) -> Result<Duration> {
    use tantivy::doc;
    use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
    use tantivy::schema::{STORED, STRING};

    let started = Instant::now();
    let text = std::fs::read_to_string(corpus)?;
    let mut schema = Schema::builder();
    let analyzed = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let id = schema.add_text_field("id", STRING | STORED);
    let title = schema.add_text_field("title", analyzed.clone());
    let body = schema.add_text_field("body", analyzed);
    let index = tantivy::Index::create_in_dir(folder, schema.build())?;
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 100_000_000)?;
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let record: serde_json::Value = serde_json::from_str(line)?;
        let field = |key: &str| match &record[key] {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        writer.add_document(doc!(
            id => field("_id"),
            title => field("title"),
            body => field("text"),
        ))?;
    }
    writer.commit()?;
    Ok(started.elapsed())
}

/// The string field `key` of every JSON line of a file.
fn read_texts(path: &Path, key: &str) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut texts = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)?;
        if let Some(text) = value.get(key).and_then(|v| v.as_str()) {
            texts.push(text.to_string());
        }
    }
    Ok(texts)
}

/// Copies a BEIR JSON Lines file with `suffix` appended to every `_id`, so that the
/// copy's documents do not collide with the original's.
fn copy_with_suffixed_ids(from: &Path, to: &Path, suffix: &str) -> Result<()> {
    let reader = BufReader::new(std::fs::File::open(from)?);
    let mut writer = BufWriter::new(std::fs::File::create(to)?);
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let mut value: serde_json::Value = serde_json::from_str(&line)?;
        let id = match &value["_id"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        value["_id"] = serde_json::Value::String(format!("{id}{suffix}"));
        serde_json::to_writer(&mut writer, &value)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(())
}
