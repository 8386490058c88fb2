//! End to end: `spacecollab index` on a corpus of every format, with files it must skip,
//! then a question whose answer cites a PDF page.

use std::path::Path;

use assert_cmd::Command;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

fn spacecollab(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("spacecollab").expect("the binary is built");
    command
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    command
}

#[test]
fn index_summarises_each_format_and_names_skipped_files() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let index = dir.path().join("index");
    std::fs::create_dir_all(corpus.join("reports")).unwrap();
    for (from, to) in [
        ("mission-report.pdf", "reports/mission-report.pdf"),
        ("newsletter-two-column.pdf", "reports/newsletter.pdf"),
        ("encrypted.pdf", "reports/locked.pdf"),
        ("artemis-accords.html", "artemis-accords.html"),
        ("iss-partners.txt", "iss-partners.txt"),
        ("esa-and-jaxa.md", "esa-and-jaxa.md"),
    ] {
        std::fs::copy(fixture(from), corpus.join(to)).unwrap();
    }
    std::fs::copy(
        fixture("handbook-headings.docx"),
        corpus.join("handbook.docx"),
    )
    .unwrap();
    std::fs::write(corpus.join("minutes.odt"), b"PK\x03\x04").unwrap();
    std::fs::write(corpus.join("logo.png"), b"\x89PNG").unwrap();

    let output = spacecollab(dir.path())
        .arg("index")
        .arg("--corpus")
        .arg(&corpus)
        .arg("--index")
        .arg(&index)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    let skipped: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("skipped "))
        .collect();
    assert_eq!(
        skipped,
        vec![
            "skipped minutes.odt: the loader does not read .odt files (it reads .md, .markdown, .txt, .text, .html, .htm, .pdf, .docx and .jsonl)",
            "skipped reports/locked.pdf: the document is encrypted with a password, so its text cannot be read",
        ],
        "{stderr}"
    );
    let summary = lines
        .iter()
        .find(|l| l.starts_with("Indexed "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(summary.starts_with("Indexed 6 documents ("), "{summary}");
    assert!(summary.ends_with("; 2 file(s) skipped."), "{summary}");
    // The breakdown: "format: N documents, N passages, N skipped" clauses between the
    // changes and the count of skipped files.
    let formats: Vec<String> = summary
        .split("; ")
        .filter(|clause| clause.contains(" skipped") && clause.contains(": "))
        .map(|clause| {
            // Passage counts depend on the splitter; the rest is fixed.
            let (name, rest) = clause.split_once(": ").unwrap();
            let parts: Vec<&str> = rest.split(", ").collect();
            format!("{name}: {} / {}", parts[0], parts[2])
        })
        .collect();
    assert_eq!(
        formats,
        vec![
            "markdown: 1 document / 0 skipped",
            "text: 1 document / 0 skipped",
            "html: 1 document / 0 skipped",
            "pdf: 2 documents / 1 skipped",
            "docx: 1 document / 0 skipped",
            "odt: 0 documents / 1 skipped",
        ],
        "{stderr}"
    );

    let output = spacecollab(dir.path())
        .args([
            "ask",
            "--json",
            "How can a lander estimate its position without tracking from Earth?",
        ])
        .arg("--corpus")
        .arg(&corpus)
        .arg("--index")
        .arg(&index)
        .output()
        .unwrap();
    assert!(output.status.success());
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let top = &answer["passages"][0];
    assert_eq!(top["section"], "Navigation as a service", "{answer:#}");
    assert_eq!(
        top["source"], "reports/mission-report.pdf#page=2",
        "{answer:#}"
    );
}
