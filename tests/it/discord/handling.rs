//! Command handling without any transport: interactions built as plain values, handed
//! to `Bot::handle`, and the responses it sends collected by a responder of our own.
//! This is what an HTTP interactions endpoint would call, too.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use spacecollab::answer::{AnswerSettings, Engine};
use spacecollab::config::Config;
use spacecollab::discord::error::SendError;
use spacecollab::discord::interaction::{
    CommandData, CommandOption, Data, Interaction, Member, OptionValue, Permissions, User,
};
use spacecollab::discord::{Bot, Responder, Response};
use spacecollab::reindex::Reindexer;

use crate::support::Fixture;

/// Keeps every response it is given.
#[derive(Default)]
struct Collected(Mutex<Vec<Response>>);

impl Responder for Collected {
    async fn send(&self, response: Response) -> Result<(), SendError> {
        self.0.lock().unwrap().push(response);
        Ok(())
    }
}

impl Collected {
    fn take(&self) -> Vec<Response> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

/// A bot over the fixture corpus; `reindex_into` is where its reindexer writes.
fn bot(fixture: &Fixture, reindex_into: &Path) -> Bot {
    fixture.build();
    let engine = Arc::new(Engine::open(&fixture.index, AnswerSettings::default()).unwrap());
    let config = Config {
        corpus_path: fixture.corpus.clone(),
        index_path: fixture.index.clone(),
        ..Config::default()
    };
    let reindexer = Arc::new(Reindexer::new(&fixture.corpus, reindex_into, 1));
    Bot::new(config, engine, reindexer)
}

fn admin_command(name: &str, options: Vec<CommandOption>) -> Interaction {
    Interaction {
        id: 1,
        user: User {
            id: 5,
            name: "ada".into(),
        },
        guild_id: Some(2),
        channel_id: None,
        member: Some(Member {
            permissions: Some(Permissions::MANAGE_GUILD),
            roles: Vec::new(),
        }),
        data: Data::Command(CommandData {
            name: name.into(),
            options,
        }),
    }
}

/// The text of the last message or edit among `responses`.
fn last_text(responses: &[Response]) -> String {
    match responses.last() {
        Some(Response::Message(m) | Response::Edit(m) | Response::Update(m)) => m.content.clone(),
        other => panic!("no message: {other:?}"),
    }
}

/// A log writer for one test: what the bot logs while `run` runs.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `future` on a runtime of the current thread with `log` collecting its log.
fn logged<T>(log: &Log, future: impl std::future::Future<Output = T>) -> T {
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn an_internal_failure_shows_an_apology_with_the_error_id_of_its_log_line() {
    let fixture = Fixture::new();
    // The reindex lock cannot be created under a file: an internal error with a path.
    let blocker = fixture.path("not-a-folder");
    std::fs::write(&blocker, "").unwrap();
    let bot = bot(&fixture, &blocker.join("index"));
    let reply = Collected::default();
    let log = Log::default();
    logged(&log, bot.handle(&admin_command("reindex", vec![]), &reply)).unwrap();
    let responses = reply.take();
    assert_eq!(responses.len(), 1, "{responses:?}");
    let text = last_text(&responses);
    assert!(
        text.starts_with("Sorry, something went wrong on my side"),
        "{text}"
    );
    assert!(
        !text.contains("not-a-folder") && !text.contains('/'),
        "{text}"
    );
    let id = text
        .rsplit_once("(error ")
        .and_then(|(_, rest)| rest.strip_suffix(")."))
        .expect("an error id");
    assert_eq!(id.len(), 8, "{text}");
    let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("error id {id} not in the log: {log}"));
    assert!(
        line.contains("ERROR") && line.contains("not-a-folder"),
        "{line}"
    );
}

#[test]
fn a_reindex_that_loads_nothing_says_so_without_paths() {
    let fixture = Fixture::new();
    let bot = bot(&fixture, &fixture.index);
    std::fs::remove_dir_all(&fixture.corpus).unwrap();
    std::fs::create_dir(&fixture.corpus).unwrap();
    std::fs::write(
        fixture.corpus.join("bad.md"),
        "---\ntitle: [unclosed\n---\nBody",
    )
    .unwrap();
    let reply = Collected::default();
    let log = Log::default();
    logged(&log, bot.handle(&admin_command("reindex", vec![]), &reply)).unwrap();
    let responses = reply.take();
    assert_eq!(responses[0], Response::Defer { ephemeral: true });
    let text = last_text(&responses);
    assert_eq!(
        text,
        "Reindex failed; the previous index stays in service. Reason: no document in the \
         corpus could be read, so the index was left as it was."
    );
    // The index in service was left as it was.
    let engine = Engine::open(&fixture.index, AnswerSettings::default()).unwrap();
    assert!(!engine.search("Kibo laboratory", 0, 1).is_empty());
}

#[test]
fn user_errors_are_shown_verbatim_and_privately() {
    let fixture = Fixture::new();
    let bot = bot(&fixture, &fixture.index);
    let reply = Collected::default();
    let mut not_admin = admin_command("reindex", vec![]);
    not_admin.member = Some(Member {
        permissions: Some(Permissions(0)),
        roles: Vec::new(),
    });
    let unknown = admin_command("launch", vec![]);
    let missing = admin_command(
        "ask",
        vec![CommandOption {
            name: "question".into(),
            value: OptionValue::String("   ".into()),
            focused: false,
        }],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (interaction, expected) in [
        (not_admin, "Only server admins can run `/reindex`."),
        (unknown, "I don't know that command; try `/help`."),
        (
            missing,
            "Please give a question, for example `/ask question:Who built Kibo?`.",
        ),
    ] {
        runtime.block_on(bot.handle(&interaction, &reply)).unwrap();
        match reply.take().as_slice() {
            [Response::Message(message)] => {
                assert_eq!(message.content, expected);
                assert!(message.ephemeral);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn autocomplete_of_an_unknown_command_offers_nothing() {
    let fixture = Fixture::new();
    let bot = bot(&fixture, &fixture.index);
    let reply = Collected::default();
    let mut typing = admin_command("launch", vec![]);
    typing.data = Data::Autocomplete(CommandData {
        name: "launch".into(),
        options: vec![CommandOption {
            name: "rocket".into(),
            value: OptionValue::String("sat".into()),
            focused: true,
        }],
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(bot.handle(&typing, &reply)).unwrap();
    assert_eq!(reply.take(), vec![Response::Autocomplete(Vec::new())]);
    typing.data = Data::Autocomplete(CommandData {
        name: "source".into(),
        options: vec![CommandOption {
            name: "document".into(),
            value: OptionValue::String("kibo".into()),
            focused: true,
        }],
    });
    runtime.block_on(bot.handle(&typing, &reply)).unwrap();
    match reply.take().as_slice() {
        [Response::Autocomplete(choices)] => assert_eq!(choices[0].value, "iss/kibo"),
        other => panic!("{other:?}"),
    }
}
