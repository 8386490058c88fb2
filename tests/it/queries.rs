//! No text a person can type makes the engine panic or fail: questions are analyzed into
//! plain terms, never parsed as query syntax. One fixture index serves the whole binary.

use std::sync::OnceLock;

use proptest::prelude::*;
use spacecollab::answer::{Answer, AnswerSettings, Engine};

use crate::support::{Fixture, RANKED_QUESTIONS};

/// The fixture index, built once; its temp dir is leaked so it lives as long as the tests.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let fixture: &'static Fixture = Box::leak(Box::new(Fixture::new()));
        fixture.build();
        Engine::open(&fixture.index, AnswerSettings::default()).expect("open the fixture index")
    })
}

/// Asks, and checks what holds for every answer.
fn ask(question: &str) -> Answer {
    let engine = engine();
    let answer = engine.ask(question, None);
    assert_eq!(answer.question, question);
    assert!(
        !answer.answered || !answer.passages.is_empty(),
        "answered without passages: {question:?}"
    );
    assert!(answer.passages.len() <= engine.settings().limit);
    for hit in &answer.passages {
        assert!(hit.score.is_finite() && hit.score > 0.0, "{hit:?}");
        assert!(!hit.doc_id.is_empty() && !hit.text.is_empty());
    }
    let hits = engine.search(question, 1, 5);
    assert!(hits.len() <= 5);
    answer
}

fn assert_unanswered_and_empty(question: &str) {
    let answer = ask(question);
    assert!(!answer.answered, "{question:?}");
    assert!(
        answer.passages.is_empty(),
        "{question:?}: {:?}",
        answer.passages
    );
}

/// Text that looks like query syntax: field prefixes, boosts, ranges, phrases, operators.
fn syntax_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("title:".to_string()),
            Just("body:(".to_string()),
            Just("^".to_string()),
            Just("*".to_string()),
            Just("~2".to_string()),
            Just("\"".to_string()),
            Just("[a TO z]".to_string()),
            Just("AND".to_string()),
            Just("OR".to_string()),
            Just("-".to_string()),
            Just("+".to_string()),
            Just("\\".to_string()),
            Just(")".to_string()),
            Just("{".to_string()),
            Just(" ".to_string()),
            "[a-zA-Z0-9]{1,12}",
        ],
        0..60,
    )
    .prop_map(|parts| parts.concat())
}

/// Words of the fixture's own questions in random order, so that some inputs match.
fn fixture_words() -> impl Strategy<Value = String> {
    let words: Vec<&'static str> = RANKED_QUESTIONS
        .iter()
        .flat_map(|(q, _)| q.split_whitespace())
        .collect();
    proptest::collection::vec(proptest::sample::select(words), 0..30).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_unicode_text_is_a_valid_question(chars in proptest::collection::vec(any::<char>(), 0..3_000)) {
        let question: String = chars.into_iter().collect();
        ask(&question);
    }

    #[test]
    fn query_syntax_is_only_text(question in syntax_soup()) {
        ask(&question);
    }

    #[test]
    fn shuffled_fixture_words_are_valid_questions(question in fixture_words()) {
        let answer = ask(&question);
        // A question with a word the passages contain always finds a passage, and
        // one without never does.
        let snapshot = engine().snapshot();
        let known = snapshot
            .terms(&question)
            .terms
            .iter()
            .any(|term| snapshot.body_contains(term));
        prop_assert_eq!(known, !answer.passages.is_empty(), "{:?}", question);
    }
}

#[test]
fn a_field_prefix_with_an_open_group() {
    ask("a:(^");
}

#[test]
fn a_wildcard_with_a_boost() {
    ask("*^2");
}

#[test]
fn ten_thousand_open_parentheses() {
    assert_unanswered_and_empty(&"(".repeat(10_000));
}

#[test]
fn a_hundred_kilobytes_of_text() {
    let (question, expected) = RANKED_QUESTIONS[0];
    let mut text = String::new();
    while text.len() < 100_000 {
        text.push_str(question);
        text.push(' ');
    }
    let answer = ask(&text);
    assert_eq!(
        answer.passages.first().map(|h| h.doc_id.as_str()),
        Some(expected)
    );
    // A hundred kilobytes of words the index has never seen.
    let unknown: String = (0..20_000).map(|i| format!("w{i}x ")).collect();
    assert!(unknown.len() >= 100_000);
    assert!(!ask(&unknown).answered);
}

#[test]
fn emoji() {
    assert_unanswered_and_empty("🚀🛰️👩‍🚀🌕");
    let answer = ask("🚀 Kibo 🛰️ laboratory 👩‍🚀");
    assert_eq!(answer.passages[0].doc_id, "iss/kibo");
}

#[test]
fn control_characters() {
    let controls: String = (0u32..0x20)
        .chain(0x7f..0xa0)
        .filter_map(char::from_u32)
        .collect();
    assert_unanswered_and_empty(&controls);
    assert_unanswered_and_empty("\u{0}\u{200b}\u{feff}\u{202e}");
    let answer = ask("Kibo\u{0}\u{7}\tlaboratory\r\n\u{1b}[1m");
    assert_eq!(answer.passages[0].doc_id, "iss/kibo");
}

#[test]
fn the_empty_string() {
    assert_unanswered_and_empty("");
}

#[test]
fn only_whitespace() {
    assert_unanswered_and_empty(" \t\n\r\u{a0}\u{3000}  ");
}

#[test]
fn only_stop_words() {
    assert_unanswered_and_empty("the of and to a in is it that this");
}
