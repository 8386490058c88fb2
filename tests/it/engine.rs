//! Integration tests of the library on the fixture corpus: loading every format,
//! ranking, the per-document cap, unanswerable questions, snippets and passage sizes.

use std::collections::HashMap;

use spacecollab::analyzer::analyze;
use spacecollab::answer::{
    Hit, Snippet, CLEAR_LEAD_OVER_OTHER_DOCUMENTS, MAX_PASSAGES_PER_DOCUMENT,
};
use spacecollab::corpus::split::{MAX_WORDS, MIN_WORDS};
use spacecollab::corpus::CorpusError;

use crate::support::{
    bad_files, good_files, write_files, Fixture, GOOD_DOCUMENTS, HIDDEN_HTML_WORDS,
    RANKED_QUESTIONS,
};

fn doc_ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.doc_id.as_str()).collect()
}

#[test]
fn every_format_loads_into_the_index() {
    let fixture = Fixture::new();
    let report = fixture.build();
    assert_eq!(report.documents, GOOD_DOCUMENTS);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(
        report.passages > report.documents,
        "Kibo alone has several passages"
    );
    let total: u64 = good_files()
        .iter()
        .map(|(_, bytes)| bytes.len() as u64)
        .sum();
    assert_eq!(report.bytes, total);
}

#[test]
fn the_right_document_ranks_first() {
    let engine = Fixture::new().engine();
    let mut wrong = Vec::new();
    for (question, expected) in RANKED_QUESTIONS {
        let answer = engine.ask(question, None);
        let top = answer.passages.first().map(|h| h.doc_id.as_str());
        if top != Some(*expected) {
            wrong.push(format!(
                "{question:?}: expected {expected}, got {:?}",
                doc_ids(&answer.passages)
            ));
        }
    }
    assert!(RANKED_QUESTIONS.len() >= 6);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn fixture_questions_are_answered() {
    let engine = Fixture::new().engine();
    for (question, _) in RANKED_QUESTIONS {
        let answer = engine.ask(question, None);
        assert!(answer.answered, "{question:?} was not answered");
        assert_eq!(answer.question, *question);
        assert!(
            (1..=engine.settings().limit).contains(&answer.passages.len()),
            "{question:?}: {} passages",
            answer.passages.len()
        );
    }
}

#[test]
fn titles_come_from_front_matter_first_line_or_heading() {
    let engine = Fixture::new().engine();
    let title_of = |question: &str| engine.ask(question, Some(1)).passages[0].title.clone();
    // YAML front matter.
    assert_eq!(
        title_of("Kibo pressurised laboratory"),
        "Kibo, the Japanese Experiment Module"
    );
    // TOML front matter.
    assert_eq!(title_of("Artemis Accords"), "The Artemis Accords");
    // The short first line of a plain text file.
    assert_eq!(
        title_of("Leonov Stafford handshake"),
        "Apollo-Soyuz Test Project"
    );
    // The HTML <title>.
    assert_eq!(
        title_of("sovereignty celestial bodies"),
        "The Outer Space Treaty of 1967"
    );
    // The first heading of Markdown without front matter.
    assert_eq!(title_of("Canadarm3"), "Lunar Gateway");
}

#[test]
fn a_misspelt_word_is_found_counted_and_respelled() {
    let engine = Fixture::new().engine();
    let answer = engine.ask("Who designed the Kibbo robotic arm?", None);
    assert!(answer.answered, "{answer:?}");
    assert_eq!(answer.passages[0].doc_id, "iss/kibo");
    let suggestion = answer.suggestion.as_deref().unwrap_or_default();
    assert!(suggestion.contains("Kibo robotic"), "{suggestion}");
    let best = answer.best_sentence.as_deref().unwrap_or_default();
    assert!(best.contains("Kibo"), "{best}");
}

#[test]
fn a_word_asked_more_often_weighs_more() {
    let engine = Fixture::new().engine();
    // Each word occurs once in the fixture, in a different document.
    let top = |question: &str| engine.search(question, 0, 1)[0].doc_id.clone();
    assert_eq!(top("handshake cubesats cubesats"), "iss/kibo");
    assert_eq!(top("handshake handshake cubesats"), "apollo-soyuz");
}

#[test]
fn at_most_two_passages_of_one_document_among_top_results_unless_one_clearly_leads() {
    let engine = Fixture::new().engine();
    // Only the Kibo document says "Kibo", and it has more passages than the cap; when
    // nothing else matches, the cap gives way rather than leave the page short.
    let only_kibo = engine.search("Kibo", 0, 10);
    assert!(
        only_kibo.len() > MAX_PASSAGES_PER_DOCUMENT,
        "the fixture must give Kibo more matching passages than the cap: {:?}",
        doc_ids(&only_kibo)
    );
    assert!(only_kibo.iter().all(|h| h.doc_id == "iss/kibo"));

    // A question that matches Kibo best but other documents too: a third Kibo passage
    // comes before another document's only when it clearly leads it, and other
    // documents still get their places.
    let question = "Kibo module experiments on the space station with Japan and other nations";
    for limit in [3, 5] {
        let answer = engine.ask(question, Some(limit));
        assert_eq!(answer.passages.len(), limit);
        assert_eq!(answer.passages[0].doc_id, "iss/kibo");
        let mut per_document: HashMap<&str, usize> = HashMap::new();
        for (i, hit) in answer.passages.iter().enumerate() {
            let shown = per_document.entry(hit.doc_id.as_str()).or_default();
            *shown += 1;
            if *shown <= MAX_PASSAGES_PER_DOCUMENT {
                continue;
            }
            for later in answer.passages[i + 1..]
                .iter()
                .filter(|later| later.doc_id != hit.doc_id)
            {
                assert!(
                    hit.score >= later.score + CLEAR_LEAD_OVER_OTHER_DOCUMENTS,
                    "{:?}",
                    doc_ids(&answer.passages)
                );
            }
        }
        if limit == 5 {
            assert!(per_document.len() > 1, "{:?}", doc_ids(&answer.passages));
        }
    }
}

#[test]
fn results_are_ranked_and_pages_do_not_overlap() {
    let engine = Fixture::new().engine();
    let query = "space station agency";
    let first = engine.search(query, 0, 3);
    let second = engine.search(query, 3, 3);
    assert_eq!(first.len(), 3);
    assert!(!second.is_empty());
    for window in first.windows(2) {
        assert!(window[0].score >= window[1].score, "{first:?}");
    }
    for hit in &second {
        assert!(
            !first
                .iter()
                .any(|f| f.doc_id == hit.doc_id && f.position == hit.position),
            "{} #{} is on both pages",
            hit.doc_id,
            hit.position
        );
    }
}

#[test]
fn bad_files_are_skipped_and_reported_while_the_rest_load() {
    let fixture = Fixture::with_bad_files();
    let report = fixture.build();
    assert_eq!(report.documents, GOOD_DOCUMENTS);
    assert_eq!(report.skipped.len(), 3, "{:?}", report.skipped);
    let mut found = (false, false, false);
    for error in &report.skipped {
        match error {
            CorpusError::FrontMatter { path, line, .. } => {
                assert_eq!(path, "bad-front-matter.md");
                assert!((3..=4).contains(line), "line {line}");
                found.0 = true;
            }
            CorpusError::InvalidUtf8 { path, line } => {
                assert_eq!(path, "latin1.txt");
                assert_eq!(*line, 3);
                found.1 = true;
            }
            CorpusError::Empty { path, line } => {
                assert_eq!(path, "empty.md");
                assert_eq!(*line, 4);
                found.2 = true;
            }
            other => panic!("unexpected problem: {other}"),
        }
    }
    assert_eq!(found, (true, true, true));

    let engine = spacecollab::answer::Engine::open(
        &fixture.index,
        spacecollab::answer::AnswerSettings::default(),
    )
    .unwrap();
    let (question, expected) = RANKED_QUESTIONS[0];
    assert_eq!(engine.ask(question, None).passages[0].doc_id, expected);
    let broken = engine.search("document whose metadata is broken", 0, 10);
    assert!(
        broken.iter().all(|h| h.doc_id != "bad-front-matter"),
        "{:?}",
        doc_ids(&broken)
    );
}

#[test]
fn a_corpus_of_only_bad_files_leaves_the_index_alone() {
    let fixture = Fixture::new();
    fixture.build();
    std::fs::remove_dir_all(&fixture.corpus).unwrap();
    std::fs::create_dir_all(&fixture.corpus).unwrap();
    write_files(&fixture.corpus, &bad_files());
    let error = spacecollab::reindex::rebuild(&fixture.corpus, &fixture.index, 1, |_| {})
        .expect_err("nothing could be loaded");
    assert!(
        matches!(
            error,
            spacecollab::reindex::ReindexError::NothingLoaded { .. }
        ),
        "{error}"
    );
    // The index built before is still in service.
    let engine = spacecollab::answer::Engine::open(
        &fixture.index,
        spacecollab::answer::AnswerSettings::default(),
    )
    .unwrap();
    assert!(engine.ask("Artemis Accords", None).answered);
}

#[test]
fn an_off_topic_question_is_not_answered() {
    let engine = Fixture::new().engine();
    let answer = engine.ask("How do I bake sourdough bread?", None);
    assert!(!answer.answered, "{:?}", doc_ids(&answer.passages));
    // The same engine does answer an on-topic question.
    assert!(engine.ask("Who built the Kibo module?", None).answered);
}

#[test]
fn script_style_and_nav_text_is_not_searchable() {
    let engine = Fixture::new().engine();
    for word in HIDDEN_HTML_WORDS {
        let hits = engine.search(word, 0, 20);
        assert!(
            hits.iter().all(|h| !h.text.contains(word)),
            "{word} is in the index"
        );
        assert!(!engine.ask(word, None).answered, "{word} was answered");
    }
    // The visible text of the same page is.
    let visible = engine.search("sovereignty", 0, 5);
    assert_eq!(
        visible.first().map(|h| h.doc_id.as_str()),
        Some("outer-space-treaty")
    );
    assert!(visible[0].text.contains("sovereignty"));
}

/// A snippet as plain text with its ellipses.
fn plain_snippet(snippet: &Snippet) -> String {
    snippet.marked("", "", str::to_string)
}

#[test]
fn snippets_put_matched_words_in_bold() {
    let engine = Fixture::new().engine();
    for (question, _) in RANKED_QUESTIONS {
        let answer = engine.ask(question, None);
        let terms = engine.snapshot().terms(question).terms;
        let top = &answer.passages[0];
        let bold: Vec<&str> = top
            .snippet
            .pieces()
            .filter(|(_, highlighted)| *highlighted)
            .map(|(piece, _)| piece)
            .collect();
        assert!(
            !bold.is_empty(),
            "{question:?}: no bold word in {:?}",
            top.snippet
        );
        for word in bold {
            let analyzed = analyze(word);
            assert!(
                !analyzed.is_empty() && analyzed.iter().all(|t| terms.contains(t)),
                "{question:?}: bold {word:?} is not a question term {terms:?}"
            );
        }
        // Without the markers and escapes, the snippet is a piece of the passage.
        let plain = plain_snippet(&top.snippet).replace('…', "");
        let plain = plain.trim();
        let words: Vec<&str> = top.text.split_whitespace().collect();
        assert!(
            words
                .join(" ")
                .contains(&plain.split_whitespace().collect::<Vec<_>>().join(" ")),
            "{question:?}: snippet {plain:?} is not in the passage"
        );
    }
}

#[test]
fn the_snippet_limit_is_respected() {
    let engine = Fixture::new().engine();
    let limit = engine.settings().snippet_chars;
    for (question, _) in RANKED_QUESTIONS {
        for hit in engine.ask(question, Some(5)).passages {
            let plain = plain_snippet(&hit.snippet);
            // Two ellipses may be added around the fragment.
            assert!(
                plain.chars().count() <= limit + 2,
                "{} chars: {:?}",
                plain.chars().count(),
                hit.snippet
            );
        }
    }
}

/// Every passage in the index: (doc_id, section, text).
fn indexed_passages(engine: &spacecollab::answer::Engine) -> Vec<(String, String, String)> {
    engine
        .snapshot()
        .stored_passages()
        .into_iter()
        .map(|p| (p.doc_id, p.section, p.text))
        .collect()
}

#[test]
fn passages_stay_within_the_word_limits_where_the_text_allows() {
    let fixture = Fixture::new();
    let report = fixture.build();
    let engine = spacecollab::answer::Engine::open(
        &fixture.index,
        spacecollab::answer::AnswerSettings::default(),
    )
    .unwrap();
    let passages = indexed_passages(&engine);
    assert_eq!(passages.len(), report.passages);

    // Passages are packed per section, so only a section shorter than the minimum
    // may give a shorter passage.
    let mut section_words: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    for (doc_id, section, text) in &passages {
        let entry = section_words.entry((doc_id, section)).or_default();
        entry.0 += text.split_whitespace().count();
        entry.1 += 1;
    }
    assert!(
        section_words.values().any(|&(_, count)| count >= 2),
        "the fixture must have a section split into several passages"
    );
    for (doc_id, section, text) in &passages {
        let words = text.split_whitespace().count();
        assert!(words <= MAX_WORDS, "{doc_id} › {section}: {words} words");
        let (section_total, _) = section_words[&(doc_id.as_str(), section.as_str())];
        if section_total >= MIN_WORDS {
            assert!(
                words >= MIN_WORDS,
                "{doc_id} › {section}: {words} words of {section_total}"
            );
        }
    }
}

#[test]
fn hits_carry_their_document_metadata() {
    let engine = Fixture::new().engine();
    let hit = &engine.ask("Artemis Accords principles", Some(1)).passages[0];
    assert_eq!(hit.doc_id, "artemis-accords");
    assert_eq!(hit.section, "Principles");
    assert_eq!(hit.source, "https://www.example.org/artemis-accords");
    assert!(hit.score > 0.0);
    assert!(hit.text.starts_with("The Artemis Accords are"));
    // A document that names no source points at its file.
    let hit = &engine.ask("Canadarm3", Some(1)).passages[0];
    assert_eq!(hit.source, "gateway.md");
}

#[test]
fn documents_that_score_alike_are_ranked_by_id_whatever_order_they_were_indexed_in() {
    // JSON Lines records are indexed in file order, which is not id order here.
    let ids = ["m", "z", "a", "q", "c"];
    let lines: String = ids
        .iter()
        .map(|id| {
            format!(
                "{{\"_id\": \"{id}\", \"title\": \"\", \"text\": \"The relay satellite carries signals between the two ground stations.\"}}\n"
            )
        })
        .collect();
    let engine =
        crate::support::Fixture::with_files(&[("relays.jsonl", lines.as_bytes())]).engine();
    let ranked: Vec<String> = engine
        .rank_documents("relay satellite signals", 10)
        .into_iter()
        .map(|hit| hit.doc_id.to_string())
        .collect();
    assert_eq!(
        ranked,
        ["a", "c", "m", "q", "z"],
        "equal scores go by document id"
    );
}

#[test]
fn documents_of_many_passages_still_fill_a_ranking() {
    // Each document's passages all match, and the best ones are all in one document:
    // the first fetch of passages holds too few documents, and more are fetched.
    let files: Vec<(String, String)> = (0..6)
        .map(|d| {
            let sections: String = (0..8)
                .map(|s| {
                    let times = "relay orbit ".repeat(6 - d + s % 2);
                    format!("## Part {s}\n\nThe {times}station keeps its place.\n\n")
                })
                .collect();
            (
                format!("doc{d}.md"),
                format!("# Document {d}\n\n{sections}"),
            )
        })
        .collect();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_bytes()))
        .collect();
    let engine = crate::support::Fixture::with_files(&files).engine();
    let ranked = |limit| -> Vec<String> {
        engine
            .rank_documents("relay orbit", limit)
            .into_iter()
            .map(|hit| hit.doc_id.to_string())
            .collect()
    };
    let four = ranked(4);
    assert_eq!(four.len(), 4, "{four:?}");
    let mut distinct = four.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{four:?}");
    assert_eq!(four, ranked(6)[..4], "a longer ranking starts the same");
    assert_eq!(ranked(10).len(), 6, "every matching document, no more");
}

#[test]
fn a_heading_naming_what_the_question_asks_for_ranks_its_passage_first() {
    // Both passages hold every word of the question; the other document's title holds
    // "operations", a heavier word than "agencies". Only the heading "Three partner
    // agencies" names what "Which agencies …" asks for (and it repeats a word of its
    // document's title, which the heading field leaves out).
    let partnership = "# The lunar rover partnership: three agencies, one agreement\n\n\
        ## Three partner agencies\n\nThe lunar rover is operated jointly by three agencies: \
        NASA, the European Space Agency and JAXA. Each built one part of it.\n\n\
        ## The agreement\n\nAn agreement signed in 2020 sets out who pays for what, and how \
        the rover's time is shared between the partners.\n";
    let end = "# The end of the lunar rover: operations to 2030\n\n## Partner commitments\n\n\
        Each partner decides how long to stay with the lunar rover. The United States will \
        keep operating the rover through 2030, and the European Space Agency supports \
        further operations.\n\n## Parking the rover\n\nAt the end of its life the rover \
        will be parked in a crater.\n";
    let comets: Vec<(String, String)> = (1..=6)
        .map(|n| {
            (
                format!("comet{n}.md"),
                format!("# Comet notes {n}\n\n## Tails\n\nA comet grows a tail of dust and gas as it nears the Sun, and loses it again on the way out.\n"),
            )
        })
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("rover-partnership.md", partnership.as_bytes()),
        ("rover-end.md", end.as_bytes()),
    ];
    files.extend(
        comets
            .iter()
            .map(|(name, text)| (name.as_str(), text.as_bytes())),
    );
    let engine = crate::support::Fixture::with_files(&files).engine();
    let answer = engine.ask("Which agencies operate the lunar rover?", None);
    let first = &answer.passages[0];
    assert_eq!(
        (first.doc_id.as_str(), first.section.as_str()),
        ("rover-partnership", "Three partner agencies"),
        "{:?}",
        answer
            .passages
            .iter()
            .map(|hit| (&hit.section, hit.score))
            .collect::<Vec<_>>()
    );
}
