//! End-to-end tests of the `spacecollab` binary. Each test runs it in its own temp dir
//! with explicit `--corpus` and `--index`, so nothing is written into the repository.

use std::path::Path;

use crate::support::{Fixture, ARTEMIS_MD, GOOD_DOCUMENTS, KIBO_MD, RANKED_QUESTIONS};
use assert_cmd::Command;
use predicates::prelude::*;

/// The binary, run inside the fixture's temp dir so that no `config.toml` of the
/// repository is picked up.
fn spacecollab(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("spacecollab").expect("the binary is built");
    command
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "1")
        .env("NO_COLOR", "1");
    command
}

/// `spacecollab <args> --corpus <fixture> --index <fixture>`.
fn run(fixture: &Fixture, args: &[&str]) -> Command {
    let mut command = spacecollab(fixture.dir.path());
    command
        .args(args)
        .arg("--corpus")
        .arg(&fixture.corpus)
        .arg("--index")
        .arg(&fixture.index);
    command
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// The JSON the command printed.
fn json_of<T: serde::de::DeserializeOwned>(output: &std::process::Output) -> T {
    serde_json::from_str(&stdout_of(output)).expect("stdout is JSON")
}

fn non_empty_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// Checks an error report: exactly one line, starting with "error:", no backtrace.
fn assert_one_line_error(stderr: &str) {
    let lines = non_empty_lines(stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(!stderr.to_lowercase().contains("backtrace"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn index_prints_a_one_line_summary() {
    let fixture = Fixture::new();
    let output = run(&fixture, &["index"])
        .assert()
        .success()
        .get_output()
        .clone();
    let all = format!("{}{}", stdout_of(&output), stderr_of(&output));
    let lines = non_empty_lines(&all);
    assert_eq!(lines.len(), 1, "{all}");
    let summary = regex::Regex::new(
        r"^Indexed (\d+) documents \((\d+) passages, [0-9.]+ MB\) in [0-9.]+ s; (?:.*; )?0 file\(s\) skipped\.$",
    )
    .unwrap();
    let captures = summary
        .captures(lines[0])
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(captures[1].parse::<usize>().unwrap(), GOOD_DOCUMENTS);
    assert!(captures[2].parse::<usize>().unwrap() > GOOD_DOCUMENTS);
    assert!(fixture.index.join("CURRENT").is_file());
}

#[test]
fn ask_prints_the_best_passages_as_text() {
    let fixture = Fixture::new();
    fixture.build();
    let (question, _) = RANKED_QUESTIONS[0];
    run(&fixture, &["ask", question])
        .assert()
        .success()
        // The best sentence first, then the passages.
        .stdout(predicate::str::starts_with("Answer: "))
        .stdout(predicate::str::contains(
            "\n1. Kibo, the Japanese Experiment Module",
        ))
        .stdout(predicate::str::contains(
            "Source: https://www.example.org/jaxa/kibo",
        ))
        .stderr(predicate::str::is_empty());
}

#[test]
fn matched_words_are_bold_only_where_colour_is_wanted() {
    let fixture = Fixture::new();
    fixture.build();
    let (question, _) = RANKED_QUESTIONS[0];
    let ask = |no_color: bool| {
        let mut command = run(&fixture, &["ask", question]);
        command.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        stdout_of(&command.assert().success().get_output().clone())
    };
    // A pipe, but colour forced: bold escapes instead of markers.
    let forced = ask(false);
    assert!(forced.contains("\x1b[1m"), "{forced}");
    assert!(!forced.contains("**"), "{forced}");
    // NO_COLOR wins over CLICOLOR_FORCE: markers, no escapes.
    let plain = ask(true);
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.contains("**"), "{plain}");
}

#[test]
fn ask_json_is_one_object_with_exactly_the_documented_keys() {
    let fixture = Fixture::new();
    fixture.build();
    let (question, expected) = RANKED_QUESTIONS[1];
    let output = run(&fixture, &["ask", "--json", "--limit", "4", question])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = stdout_of(&output);
    // One JSON value and nothing else.
    let mut values = serde_json::Deserializer::from_str(&stdout).into_iter::<serde_json::Value>();
    let value = values.next().expect("a JSON value").expect("valid JSON");
    assert!(
        values.next().is_none(),
        "more than one JSON value: {stdout}"
    );

    let object = value.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "answered",
            "best_sentence",
            "passages",
            "question",
            "suggestion",
            "unnamed_subject"
        ]
    );
    assert_eq!(object["question"], *question);
    assert_eq!(object["answered"], true);
    let passages = object["passages"].as_array().expect("passages is a list");
    assert!((1..=4).contains(&passages.len()), "{stdout}");
    for passage in passages {
        let passage = passage.as_object().expect("a passage is an object");
        let mut keys: Vec<&str> = passage.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "cut_after",
                "cut_before",
                "doc_id",
                "fragment",
                "highlights",
                "score",
                "section",
                "snippet",
                "source",
                "text",
                "title"
            ]
        );
        assert!(passage["score"].is_number());
        for key in [
            "doc_id", "section", "snippet", "source", "text", "title", "fragment",
        ] {
            assert!(passage[key].is_string(), "{key} is not a string");
        }
        // Highlights are [start, end) character offsets of the fragment: each one is a
        // question word, and the fragment is plain text from the passage.
        let fragment: Vec<char> = passage["fragment"].as_str().unwrap().chars().collect();
        let text = passage["text"].as_str().unwrap();
        assert!(text.contains(passage["fragment"].as_str().unwrap()));
        let highlights = passage["highlights"].as_array().unwrap();
        assert!(!highlights.is_empty() || passage["section"] != "");
        for range in highlights {
            let (start, end) = (range[0].as_u64().unwrap(), range[1].as_u64().unwrap());
            assert!(start < end && end as usize <= fragment.len(), "{range}");
            let word: String = fragment[start as usize..end as usize].iter().collect();
            assert!(word.chars().all(char::is_alphanumeric), "{word:?}");
        }
    }
    assert_eq!(passages[0]["doc_id"], *expected);
}

#[test]
fn the_first_ask_builds_the_missing_index() {
    let fixture = Fixture::new();
    assert!(!fixture.index.exists());
    let (question, expected) = RANKED_QUESTIONS[2];
    let output = run(&fixture, &["ask", "--json", question])
        .assert()
        .success()
        .stderr(predicate::str::contains("No index yet"))
        .stderr(predicate::str::contains(format!(
            "Indexed {GOOD_DOCUMENTS} documents"
        )))
        .get_output()
        .clone();
    let answer: serde_json::Value = json_of(&output);
    assert_eq!(answer["passages"][0]["doc_id"], *expected);
    assert!(fixture.index.join("CURRENT").is_file());

    // The second ask finds the index and builds nothing.
    run(&fixture, &["ask", question])
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[test]
fn an_index_of_another_format_is_rebuilt_by_the_next_ask() {
    let fixture = Fixture::new();
    fixture.build();
    // Make the generation in service look as if an older version had written it.
    let current = std::fs::read_to_string(fixture.index.join("CURRENT")).unwrap();
    let manifest_path = fixture.index.join(current.trim()).join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["format"] = 1.into();
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();

    let (question, expected) = RANKED_QUESTIONS[0];
    let output = run(&fixture, &["ask", "--json", question])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "written by another version (format 1)",
        ))
        .get_output()
        .clone();
    let answer: serde_json::Value = json_of(&output);
    assert_eq!(answer["passages"][0]["doc_id"], *expected);
}

#[test]
fn nothing_found_exits_zero_and_is_not_answered() {
    let fixture = Fixture::new();
    fixture.build();
    let question = "How do I bake sourdough bread?";
    let output = run(&fixture, &["ask", "--json", question])
        .assert()
        .success()
        .get_output()
        .clone();
    let answer: serde_json::Value = json_of(&output);
    assert_eq!(answer["answered"], false);
    assert_eq!(answer["question"], question);

    run(&fixture, &["ask", question])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "No passage in the corpus answers that question well.",
        ))
        .stdout(predicate::str::contains(
            "Searched for: bake, sourdough, bread.",
        ));
}

#[test]
fn search_lists_matching_passages() {
    let fixture = Fixture::new();
    fixture.build();
    let output = run(&fixture, &["search", "--json", "--limit", "3", "Kibo"])
        .assert()
        .success()
        .get_output()
        .clone();
    let hits: Vec<serde_json::Value> = json_of(&output);
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|h| h["doc_id"] == "iss/kibo"));

    run(&fixture, &["search", "zzzzqqqq"])
        .assert()
        .success()
        .stdout("No results for \"zzzzqqqq\".\n");
}

#[test]
fn an_unknown_flag_exits_2() {
    let fixture = Fixture::new();
    run(&fixture, &["ask", "--no-such-flag", "question"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with("error:"))
        .stderr(predicate::str::contains("--no-such-flag"));
    assert!(!fixture.index.exists());
}

#[test]
fn an_out_of_range_limit_exits_2() {
    let fixture = Fixture::new();
    run(&fixture, &["ask", "--limit", "0", "question"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error:"));
}

#[test]
fn a_config_file_with_an_unknown_key_exits_2_naming_key_and_line() {
    let stderr = config_error(
        "[answer]\nlimit = 3\n\nsnippet_charz = 100\n",
        &["ask", "Kibo"],
    );
    assert!(stderr.contains("settings.toml:4:"), "{stderr}");
    assert!(stderr.contains("snippet_charz"), "{stderr}");
}

#[test]
fn a_config_file_with_an_invalid_value_exits_2() {
    let stderr = config_error("[index]\nthreads = 0\n", &["index"]);
    assert!(stderr.contains("settings.toml:2:"), "{stderr}");
    assert!(stderr.contains("threads"), "{stderr}");
}

/// Runs `args` with `--config settings.toml` holding `contents`; checks that it exits
/// with 2, prints nothing on stdout and one line on stderr, and returns that line.
fn config_error(contents: &str, args: &[&str]) -> String {
    let fixture = Fixture::new();
    let config = fixture.dir.path().join("settings.toml");
    std::fs::write(&config, contents).unwrap();
    let output = run(&fixture, args)
        .arg("--config")
        .arg(&config)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .get_output()
        .clone();
    let stderr = stderr_of(&output);
    assert_one_line_error(&stderr);
    stderr
}

#[test]
fn a_config_file_sets_the_paths() {
    let fixture = Fixture::new();
    let config = fixture.dir.path().join("settings.toml");
    // Relative paths are taken from the config file's folder.
    std::fs::write(
        &config,
        "[corpus]\npath = \"corpus\"\n[index]\npath = \"from-config\"\nthreads = 1\n",
    )
    .unwrap();
    spacecollab(fixture.dir.path())
        .arg("--config")
        .arg(&config)
        .arg("index")
        .assert()
        .success();
    assert!(fixture.dir.path().join("from-config/CURRENT").is_file());
}

#[test]
fn a_missing_config_file_exits_2() {
    let fixture = Fixture::new();
    let output = run(&fixture, &["ask", "Kibo"])
        .arg("--config")
        .arg(fixture.dir.path().join("absent.toml"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = stderr_of(&output);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("absent.toml"), "{stderr}");
    assert!(!fixture.index.exists());
}

#[test]
fn bad_corpus_files_are_named_on_stderr_and_the_rest_indexed() {
    let fixture = Fixture::with_bad_files();
    let output = run(&fixture, &["index"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stderr = stderr_of(&output);
    for name in ["bad-front-matter.md:", "latin1.txt:3:", "empty.md:4:"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("skipped ") && l.contains(name)),
            "{name} is not reported: {stderr}"
        );
    }
    assert!(
        stderr.contains(&format!("Indexed {GOOD_DOCUMENTS} documents"))
            && stderr.contains("3 file(s) skipped."),
        "{stderr}"
    );
    let (question, expected) = RANKED_QUESTIONS[4];
    let output = run(&fixture, &["ask", "--json", question])
        .assert()
        .success()
        .get_output()
        .clone();
    let answer: serde_json::Value = json_of(&output);
    assert_eq!(answer["passages"][0]["doc_id"], *expected);
}

#[test]
fn check_corpus_on_a_bad_corpus_exits_1_and_names_file_and_line() {
    let fixture = Fixture::with_bad_files();
    let output = spacecollab(fixture.dir.path())
        .arg("check-corpus")
        .arg("--corpus")
        .arg(&fixture.corpus)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = stdout_of(&output);
    let line_of = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} is not named: {stdout}"))
            .to_string()
    };
    assert!(line_of("latin1.txt:3: ").contains("not valid UTF-8"));
    assert!(line_of("empty.md:4: ").contains("no text"));
    let front_matter = line_of("bad-front-matter.md:");
    let line: usize = front_matter.split(':').nth(1).unwrap().parse().unwrap();
    assert!((3..=4).contains(&line), "{front_matter}");
    assert!(stderr_of(&output).contains("problem(s) found"));
}

#[test]
fn check_corpus_refuses_a_review_date_that_does_not_exist() {
    let kibo = KIBO_MD.replace("reviewed: 2026-11-27", "reviewed: 2026-02-31");
    let fixture = Fixture::with_files(&[("iss/kibo.md", kibo.as_bytes())]);
    let output = spacecollab(fixture.dir.path())
        .arg("check-corpus")
        .arg("--corpus")
        .arg(&fixture.corpus)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = stdout_of(&output);
    assert!(
        stdout
            .contains("iss/kibo.md:8: `reviewed` must be a date like 2026-11-27, not `2026-02-31`"),
        "{stdout}"
    );
}

#[test]
fn check_corpus_passes_a_clean_curated_corpus() {
    // Markdown with complete front matter only.
    let fixture = Fixture::with_files(&[
        ("iss/kibo.md", KIBO_MD.as_bytes()),
        ("artemis-accords.md", ARTEMIS_MD.as_bytes()),
    ]);
    spacecollab(fixture.dir.path())
        .arg("check-corpus")
        .arg("--corpus")
        .arg(&fixture.corpus)
        .assert()
        .success()
        .stdout(predicate::str::ends_with("no problems found.\n"));
}

#[test]
fn a_corpus_path_that_does_not_exist_exits_2() {
    let fixture = Fixture::new();
    let missing = fixture.dir.path().join("no-such-corpus");
    for args in [&["index"][..], &["ask", "Kibo"][..]] {
        let output = spacecollab(fixture.dir.path())
            .args(args)
            .arg("--corpus")
            .arg(&missing)
            .arg("--index")
            .arg(&fixture.index)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = stderr_of(&output);
        assert!(
            non_empty_lines(&stderr)
                .last()
                .is_some_and(|l| l.starts_with("error: ") && l.contains("no-such-corpus")),
            "{args:?}: {stderr}"
        );
    }
    let output = spacecollab(fixture.dir.path())
        .arg("check-corpus")
        .arg("--corpus")
        .arg(&missing)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = stderr_of(&output);
    assert_one_line_error(&stderr);
    assert!(stderr.contains("no-such-corpus"), "{stderr}");
}

#[test]
fn errors_are_one_line_without_a_backtrace() {
    let fixture = Fixture::new();
    // An index folder that is a file cannot be created.
    std::fs::write(&fixture.index, "not a folder").unwrap();
    let output = run(&fixture, &["index"])
        .assert()
        .failure()
        .get_output()
        .clone();
    assert_one_line_error(&stderr_of(&output));
    assert!(stdout_of(&output).is_empty());
}

#[test]
fn chat_answers_each_question_from_stdin() {
    let fixture = Fixture::new();
    fixture.build();
    let input = format!(
        "{}\n\n{}\nHow do I bake sourdough bread?\nquit\n{}\n",
        RANKED_QUESTIONS[0].0, RANKED_QUESTIONS[1].0, RANKED_QUESTIONS[2].0
    );
    let output = run(&fixture, &["chat"])
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = stdout_of(&output);
    let kibo = stdout
        .find("1. Kibo, the Japanese Experiment Module")
        .expect("the first question is answered");
    let artemis = stdout
        .find("1. The Artemis Accords")
        .expect("the second question is answered");
    let nothing = stdout
        .find("No passage in the corpus answers that question well.")
        .expect("the third question is not");
    assert!(kibo < artemis && artemis < nothing, "{stdout}");
    // Reading stops at `quit`.
    assert!(!stdout.contains("Apollo-Soyuz"), "{stdout}");
    // No prompt when stdin is not a terminal.
    assert!(!stdout.contains("> "), "{stdout}");
}

#[test]
fn insights_report_what_was_recorded_as_text_json_and_csv() {
    let fixture = Fixture::new();
    for question in [
        "How do I bake bread?",
        "how to bake bread",
        "Who built the Kibo module?",
    ] {
        run(&fixture, &["ask", question, "--record"])
            .assert()
            .success();
    }
    // Without --record (and with the default config) nothing is recorded.
    run(&fixture, &["ask", "How do I bake bread?"])
        .assert()
        .success();

    let output = run(&fixture, &["insights", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report: serde_json::Value = json_of(&output);
    assert_eq!(report["days"], 7);
    assert_eq!(report["questions"], 3);
    assert_eq!(report["answered"], 1);
    assert_eq!(report["unanswered"][0]["terms"], "bake bread");
    assert_eq!(report["unanswered"][0]["count"], 2);
    assert_eq!(report["unanswered"][0]["example"], "how to bake bread");
    let never_shown = report["never_shown"].as_array().unwrap();
    assert!(!never_shown.is_empty() && never_shown.len() < GOOD_DOCUMENTS);

    let csv = run(&fixture, &["insights", "--csv", "--days", "30"])
        .output()
        .unwrap();
    let csv = stdout_of(&csv);
    assert!(
        csv.starts_with("kind,count,subject,text\ndays,30,,\nquestions,3,,\n"),
        "{csv}"
    );
    assert!(
        csv.contains("unanswered,2,bake bread,how to bake bread\n"),
        "{csv}"
    );

    let text = run(&fixture, &["insights"]).output().unwrap();
    let text = stdout_of(&text);
    assert!(
        text.starts_with("Last 7 day(s): 3 question(s), 33.3% answered"),
        "{text}"
    );

    let both = run(&fixture, &["insights", "--json", "--csv"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn insights_without_a_database_report_nothing_and_make_none() {
    let fixture = Fixture::new();
    let output = run(&fixture, &["insights", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report: serde_json::Value = json_of(&output);
    assert_eq!(report["questions"], 0);
    assert_eq!(
        report["never_shown"].as_array().unwrap().len(),
        GOOD_DOCUMENTS
    );
    assert!(!fixture.dir.path().join("insights.sqlite").exists());
}

#[test]
fn beir_eval_times_the_passes_asked_for_and_refuses_none() {
    let fixture = Fixture::new();
    let dir = fixture.dir.path();
    let corpus = [
        r#"{"_id": "d1", "title": "Kibo", "text": "Japan's Kibo laboratory module joined the space station in 2008."}"#,
        r#"{"_id": "d2", "title": "Columbus", "text": "Europe's Columbus laboratory reached the station aboard Atlantis."}"#,
        r#"{"_id": "d3", "title": "Baking", "text": "Bread rises when yeast ferments the dough."}"#,
    ];
    std::fs::write(dir.join("corpus.jsonl"), corpus.join("\n")).unwrap();
    let queries = [
        r#"{"_id": "q1", "text": "Which laboratory module did Japan build?"}"#,
        r#"{"_id": "q2", "text": "How does yeast make bread rise?"}"#,
    ];
    std::fs::write(dir.join("queries.jsonl"), queries.join("\n")).unwrap();
    std::fs::write(
        dir.join("qrels.tsv"),
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\n",
    )
    .unwrap();
    let beir = [
        "eval",
        "--corpus",
        "corpus.jsonl",
        "--queries",
        "queries.jsonl",
    ];

    let output = spacecollab(dir)
        .args(beir)
        .args(["--qrels", "qrels.tsv", "--passes", "5"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let text = stdout_of(&output);
    assert!(text.contains("nDCG@10:    1.0000"), "{text}");
    assert!(text.contains("median of 5 after a warm-up pass"), "{text}");

    let none = spacecollab(dir)
        .args(beir)
        .args(["--qrels", "qrels.tsv", "--passes", "0"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr_of(&none).contains("--passes"),
        "{}",
        stderr_of(&none)
    );
}
