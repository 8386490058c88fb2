//! Issue 14 (reliability) against the fake Discord: user text echoed without bidi
//! controls, tokens kept out of the log, modal submits answered, a graceful shutdown,
//! retried REST calls, and the per-user and overall limits.

use serde_json::Value;

use super::ask;
use crate::support::bot::{start, ASKER};
use crate::support::fake_discord::Sender;
use crate::support::Fixture;

/// The characters issue 14 names, and other invisible format characters.
const INVISIBLE: [char; 16] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200D}', '\u{2060}', '\u{FEFF}',
];

fn content(body: &Value) -> &str {
    body["data"]["content"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoed_questions_lose_bidi_controls_and_corpus_text_keeps_its_own() {
    let corpus = Fixture::with_files(&[
        (
            "kibo.md",
            "---\ntitle: Kibo\nsources: [\"https://example.org/kibo\"]\n---\n\n## Kibo\n\n\
             Kibo is the Japanese laboratory module of the station; its name is written \
             \u{200F}كيبو\u{200F} in Arabic and the crew patch shows 👩\u{200D}🚀.\n"
                .as_bytes(),
        ),
        (
            "columbus.md",
            "---\ntitle: Columbus\n---\n\n## Columbus\n\nColumbus is the European laboratory module.\n"
                .as_bytes(),
        ),
    ]);
    let bot = start(&corpus.corpus, |_| {}).await;
    // Overrides and isolates that would reverse the rest of the bot's line.
    let answered = bot
        .interact(ask(
            "Which\u{200B} laboratory module is \u{202E}Kibo\u{202C}\u{2066}?\u{2069}\u{200F}",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    let unanswered = bot
        .interact(ask(
            "\u{2067}zebra\u{2069} \u{202D}crossing\u{202C} \u{FEFF}\u{061C}\u{2060}\u{200E}\u{2068}x",
            None,
            &Sender::member(ASKER),
        ))
        .await;
    for body in [&answered, &unanswered] {
        // The first line echoes the question; the best sentence of the corpus may follow.
        let echo = content(body).lines().next().unwrap_or("");
        assert!(!echo.is_empty(), "{body}");
        // The bot's own zero-width spaces (after "@", in "://") are not in these questions.
        assert!(
            !echo.contains(INVISIBLE),
            "an invisible character was echoed: {echo:?}"
        );
    }
    assert!(
        content(&answered).contains("**Q:** Which laboratory module is Kibo?"),
        "{}",
        content(&answered)
    );
    assert!(
        content(&unanswered).contains("“zebra crossing x”"),
        "{}",
        content(&unanswered)
    );
    // The corpus's passage and best sentence are shown with their own marks and joiner.
    let passage = answered["data"]["embeds"][0]["description"]
        .as_str()
        .unwrap();
    assert!(passage.contains("\u{200F}كيبو\u{200F}"), "{passage}");
    let best = content(&answered);
    assert!(
        best.contains("\u{200F}كيبو\u{200F}") && best.contains("👩\u{200D}🚀"),
        "{best}"
    );
    bot.stop().await.unwrap();
}
