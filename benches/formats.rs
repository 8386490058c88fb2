//! Reading speed of PDFs: each PDF fixture, a 100-page report (which must load in under
//! a second), and a full index of the Wikipedia articles as PDFs against the same
//! articles as text (which must stay within 3 times). The long report and the article
//! PDFs are made at bench time with LibreOffice, cached under `target/bench-formats/`,
//! and skipped when LibreOffice or `../shared` is not there.
//! Run with `cargo bench --bench formats`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use spacecollab::{corpus, reindex};

const REPEATS: usize = 30;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Median and 99th percentile (nearest rank) of the samples.
fn median_p99(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let p99 = (samples.len() * 99).div_ceil(100).max(1) - 1;
    (samples[samples.len() / 2], samples[p99])
}

fn pages_of(bytes: &[u8]) -> usize {
    pdf_extract::Document::load_mem(bytes).map_or(0, |d| d.get_pages().len())
}

/// Reads one PDF `repeats` times as the loader does and prints its speed.
fn measure(name: &str, path: &Path, repeats: usize) -> Duration {
    let bytes = std::fs::read(path).unwrap();
    let pages = pages_of(&bytes);
    let mut samples = Vec::with_capacity(repeats);
    let mut passages = 0;
    for _ in 0..repeats {
        let started = Instant::now();
        let (documents, errors) = corpus::parse_file(Path::new(name), &bytes);
        samples.push(started.elapsed());
        assert!(errors.is_empty(), "{name}: {errors:?}");
        passages = documents[0].passages().len();
    }
    let (median, p99) = median_p99(samples);
    let megabytes = bytes.len() as f64 / 1e6;
    println!(
        "{name} ({pages} pages, {:.0} KB, {passages} passages): median {:.1} ms ({:.2} MB/s, {:.0} pages/s), p99 {:.1} ms ({:.2} MB/s, {:.0} pages/s) over {repeats} reads",
        megabytes * 1000.0,
        median.as_secs_f64() * 1000.0,
        megabytes / median.as_secs_f64(),
        pages as f64 / median.as_secs_f64(),
        p99.as_secs_f64() * 1000.0,
        megabytes / p99.as_secs_f64(),
        pages as f64 / p99.as_secs_f64(),
    );
    median
}

fn has_libreoffice() -> bool {
    Command::new("soffice")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Converts `sources` to PDF into `out` with LibreOffice, in batches.
fn convert_to_pdf(sources: &[PathBuf], out: &Path) -> bool {
    std::fs::create_dir_all(out).unwrap();
    sources.chunks(30).all(|batch| {
        Command::new("soffice")
            .args(["--headless", "--convert-to", "pdf", "--outdir"])
            .arg(out)
            .args(batch)
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The 100-page report, made once from the fixtures' text.
fn hundred_pages(cache: &Path) -> Option<PathBuf> {
    let pdf = cache.join("bench-100-pages.pdf");
    if pdf.is_file() {
        return Some(pdf);
    }
    std::fs::create_dir_all(cache).unwrap();
    let fixtures = manifest_dir().join("tests/fixtures/formats");
    let made = Command::new("python3")
        .arg("make_fodt.py")
        .arg(cache)
        .current_dir(&fixtures)
        .output()
        .is_ok_and(|o| o.status.success());
    (made && convert_to_pdf(&[cache.join("bench-100-pages.fodt")], cache) && pdf.is_file())
        .then_some(pdf)
}

/// The Wikipedia articles as PDFs, made once.
fn article_pdfs(articles: &Path, cache: &Path) -> Option<PathBuf> {
    let out = cache.join("wikipedia-pdf");
    let mut sources: Vec<PathBuf> = std::fs::read_dir(articles)
        .ok()?
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    sources.sort();
    let missing: Vec<PathBuf> = sources
        .iter()
        .filter(|s| {
            !out.join(s.with_extension("pdf").file_name().unwrap())
                .is_file()
        })
        .cloned()
        .collect();
    if !missing.is_empty() && !convert_to_pdf(&missing, &out) {
        return None;
    }
    Some(out)
}

/// Median seconds of three full reindexes of `corpus`, and the last report.
fn full_reindex(corpus: &Path, scratch: &Path, threads: usize) -> (f64, reindex::Report) {
    let mut samples = Vec::new();
    let mut last = None;
    for run in 0..3 {
        let index = scratch.join(format!("index-{run}"));
        let started = Instant::now();
        last = Some(reindex::rebuild(corpus, &index, threads, |_| {}).unwrap());
        samples.push(started.elapsed());
        std::fs::remove_dir_all(&index).unwrap();
    }
    let (median, _) = median_p99(samples);
    (median.as_secs_f64(), last.unwrap())
}

fn main() {
    let fixtures = manifest_dir().join("tests/fixtures/formats");
    for name in [
        "mission-report.pdf",
        "newsletter-two-column.pdf",
        "handbook-headings.pdf",
    ] {
        measure(name, &fixtures.join(name), REPEATS);
    }

    let cache = manifest_dir().join("target/bench-formats");
    if !has_libreoffice() {
        println!("100-page PDF: skipped: LibreOffice (soffice) is not installed");
        println!("Wikipedia articles as PDF: skipped: LibreOffice (soffice) is not installed");
        return;
    }
    match hundred_pages(&cache) {
        Some(pdf) => {
            let median = measure("bench-100-pages.pdf", &pdf, 10);
            println!(
                "100-page PDF loads in under 1 s: {} (median {:.2} s)",
                if median < Duration::from_secs(1) {
                    "yes"
                } else {
                    "NO"
                },
                median.as_secs_f64()
            );
        }
        None => println!("100-page PDF: skipped: LibreOffice could not make it"),
    }

    let articles = manifest_dir().join("../shared/data/wikipedia-space/articles");
    if !articles.is_dir() {
        println!(
            "Wikipedia articles as PDF: skipped: {} not found",
            articles.display()
        );
        return;
    }
    let Some(pdfs) = article_pdfs(&articles, &cache) else {
        println!("Wikipedia articles as PDF: skipped: LibreOffice could not convert them");
        return;
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let scratch = tempfile::tempdir().unwrap();
    let (text_seconds, text) = full_reindex(&articles, scratch.path(), threads);
    let (pdf_seconds, pdf) = full_reindex(&pdfs, scratch.path(), threads);
    let ratio = pdf_seconds / text_seconds;
    println!(
        "full index of the Wikipedia articles, {threads} threads, median of 3: as text {} documents, {} passages, {:.1} MB in {:.2} s; as PDF {} documents, {} passages, {:.1} MB in {:.2} s ({} skipped); PDF/text {:.2}x, within 3x: {}",
        text.documents,
        text.passages,
        text.bytes as f64 / 1e6,
        text_seconds,
        pdf.documents,
        pdf.passages,
        pdf.bytes as f64 / 1e6,
        pdf_seconds,
        pdf.skipped.len(),
        ratio,
        if ratio <= 3.0 { "yes" } else { "NO" }
    );
}
