//! What the integration tests and the benches share: corpus fixtures written into a
//! fresh temp dir per test (the small corpus below, in every format the loader reads; a
//! copy of the bundled corpus; generated documents), the fake Discord, and a bot running
//! against it. Included by the benches as `#[path = "../tests/it/support/mod.rs"] pub mod
//! support;`, so it must not use anything outside its own folder.

pub mod bot;
pub mod cluster;
pub mod fake_discord;
pub mod interactions;
pub mod postgres;

use std::path::{Path, PathBuf};

use spacecollab::answer::{AnswerSettings, Engine};
use spacecollab::reindex::{self, Report};
use tempfile::TempDir;

/// Markdown with YAML front matter and several long paragraphs on one topic, so that it
/// splits into more passages than the per-document cap lets through.
pub const KIBO_MD: &str = r#"---
title: "Kibo, the Japanese Experiment Module"
summary: Japan's laboratory on the International Space Station.
sources:
  - https://www.example.org/jaxa/kibo
agencies: [JAXA, NASA]
tags: [iss, japan]
reviewed: 2026-11-27
---
# Kibo, the Japanese Experiment Module

Kibo is the largest single pressurised laboratory on the station. It was designed and built in Japan by JAXA and its industrial partners, and it reached orbit in three shuttle flights between 2008 and 2009. The name means hope in Japanese. Kibo gave Japan a permanent place in the partnership and a laboratory where Japanese researchers could run experiments of their own choosing, side by side with crews from other agencies, which had been a national goal since the nineteen eighties.

## Modules

The pressurised module of Kibo holds racks for materials science, fluid physics and life science experiments. Crews work there in shirt sleeves, and the racks can be swapped out when a campaign of experiments ends. A small logistics module sits on top of the pressurised module and stores spare parts, samples and supplies, so that the main volume stays free for research. The pressurised module also has windows that face away from the Earth and toward the exposed platform.

The exposed facility of Kibo is a porch open to space. Instruments mounted on it look at the Earth, at the Sun or out into deep space, and they are changed by the robotic arm without anyone going outside. Payloads from Japan and from partner countries have used the porch for X-ray astronomy, atmospheric sounding and tests of new materials in the harsh environment of low orbit, where they face vacuum, radiation and strong swings of temperature between light and shadow.

Kibo has its own robotic arm, built in Japan, with a main boom and a small fine arm for delicate tasks. The arm moves payloads between the airlock and the exposed facility. The Kibo airlock is also used to release small cubesats into orbit from a deployer, which has made the module a popular launch point for university satellites from many nations that could not otherwise afford a ride, from Africa, Asia and Latin America alike.

## Operations

Flight controllers at the Tsukuba Space Center near Tokyo command Kibo systems around the clock, in close coordination with mission control in Houston. Japanese astronauts have lived and worked in the module on long expeditions, and one of them commanded the whole station. The agreements that govern Kibo give Japan a share of the station's resources, such as power, crew time and data links, in return for the laboratory and for the cargo ships that Japan flew to resupply the crew over more than a decade of operations.
"#;

/// Markdown with TOML front matter.
pub const ARTEMIS_MD: &str = r#"+++
title = "The Artemis Accords"
summary = "Principles for civil exploration of the Moon, Mars and beyond."
sources = ["https://www.example.org/artemis-accords"]
agencies = ["NASA"]
tags = ["moon", "law"]
reviewed = 2026-11-27
+++
## Principles

The Artemis Accords are a set of non-binding principles for the civil exploration and use of the Moon, Mars, comets and asteroids. The signatories commit to peaceful purposes, transparency about their plans, interoperability of systems, rendering emergency assistance to astronauts in distress, registration of space objects and the public release of scientific data. The accords also call for the protection of historic landing sites and for safety zones that avoid harmful interference between lunar operations of different nations.

## Signatories

Eight countries signed the accords in October 2020, and many more joined in the following years from every continent. Each signatory signs a short document that restates the principles and refers back to the Outer Space Treaty. Joining the accords is separate from taking part in the lunar missions themselves, although the two are often announced together.
"#;

/// Plain text: the first short line is the title.
pub const APOLLO_SOYUZ_TXT: &str = "Apollo-Soyuz Test Project

In July 1975 an American Apollo spacecraft and a Soviet Soyuz spacecraft docked in low Earth orbit, the first joint flight of the two rival space powers. A docking module built for the mission let the crews pass between craft whose cabins held different atmospheres at different pressures. Commander Thomas Stafford and cosmonaut Alexei Leonov shook hands through the open hatch, a handshake broadcast around the world.

The crews spent nearly two days together, exchanged gifts, shared meals and carried out joint experiments. Engineers from both countries had met for years before the flight to agree on a common androgynous docking system, radio frequencies and procedures, and that work became the basis of later cooperation on Mir and the station.
";

/// HTML whose script and style must never reach the index.
pub const OUTER_SPACE_TREATY_HTML: &str = r#"<!DOCTYPE html>
<html>
<head>
<title>The Outer Space Treaty of 1967</title>
<style>p { color: quasarmagenta; }</style>
<script>var telemetryKey = "xylophonequasar"; console.log("zebracrossingtoken");</script>
</head>
<body>
<nav>Home | Treaties | Contact navigationlinkword</nav>
<h1>The Outer Space Treaty</h1>
<p>The Outer Space Treaty entered into force in 1967 and remains the foundation of international space law. It declares that the exploration of outer space shall be carried out for the benefit of all countries and that outer space is the province of all mankind.</p>
<h2>Weapons</h2>
<p>States that join the treaty undertake not to place nuclear weapons or other weapons of mass destruction in orbit around the Earth, on the Moon or on other celestial bodies. Military bases, fortifications and weapons tests on celestial bodies are forbidden.</p>
<script>document.write("hiddenpayloadword");</script>
<h2>Sovereignty and liability</h2>
<p>No nation may claim sovereignty over the Moon or other celestial bodies by occupation or any other means. States bear international responsibility for their national activities in space, including those of private companies, and are liable for damage caused by their space objects.</p>
</body>
</html>
"#;

/// BEIR JSON Lines: one document a line.
pub const RESCUE_JSONL: &str = r#"{"_id": "cospas-sarsat", "title": "Cospas-Sarsat", "text": "Cospas-Sarsat is a satellite system that detects distress beacons from ships, aircraft and hikers and relays their positions to rescue coordination centres. It was founded by Canada, France, the United States and the Soviet Union in 1979, and dozens of countries now operate ground stations. The beacons transmit on 406 MHz, and satellites in low, medium and geostationary orbits pick up the signal. Since it began, the system has helped rescue tens of thousands of people at sea, in the air and on land."}
{"_id": "disaster-charter", "title": "International Charter Space and Major Disasters", "text": "The International Charter Space and Major Disasters lets civil protection authorities request satellite imagery free of charge when floods, earthquakes, wildfires or storms strike. Space agencies and satellite operators that are members of the charter task their Earth observation satellites over the affected area and deliver maps to relief workers within hours. The charter was created by ESA and the French space agency CNES in 2000 and has been activated hundreds of times."}
"#;

/// Markdown with YAML front matter, second station topic.
pub const MIR_MD: &str = r#"---
title: Shuttle-Mir Program
sources: https://www.example.org/shuttle-mir
agencies: [NASA, Roscosmos]
tags: mir
reviewed: 2026-11-27
---
## Overview

Between 1995 and 1998 the American space shuttle docked with the Russian space station Mir eleven times. Seven American astronauts lived aboard Mir for long stays alongside cosmonauts, learning how to run a station together. The shuttle brought crew, water and supplies and carried home experiment samples.

## Lessons

The program survived a fire aboard Mir and a collision with a cargo ship that damaged the Spektr module. Engineers and flight controllers learned to work across languages and time zones, lessons that shaped the partnership that later built a much larger station.
"#;

/// Markdown with TOML front matter and an id that overrides the file name.
pub const ESA_MD: &str = r#"+++
id = "esa-convention"
title = "The founding of the European Space Agency"
sources = ["https://www.example.org/esa-history"]
agencies = ["ESA"]
tags = ["europe"]
reviewed = 2026-11-27
+++
The convention that created the European Space Agency was signed in Paris in May 1975 by ten European states. It merged two earlier organisations, one that built launchers and one that built satellites, into a single agency. Member states pay into mandatory science programmes according to their national income and choose which optional programmes they join, while industrial contracts are shared out in proportion to what each country contributes, a rule known as geographic return.
"#;

/// Markdown without front matter: the first heading is the title.
pub const GATEWAY_MD: &str = r#"# Lunar Gateway

The Gateway is a small station planned for orbit around the Moon, serving as a staging point for crews on their way to the lunar surface. Canada contributes Canadarm3, an intelligent robotic arm that will maintain the outpost on its own while no crew is aboard. Europe provides habitation and refuelling modules and Japan supplies life support equipment and logistics, so that every partner holds a piece of the station's critical systems.
"#;

/// A question for each fixture document, and the id of the document that must rank first.
pub const RANKED_QUESTIONS: &[(&str, &str)] = &[
    ("Who built the Kibo laboratory module?", "iss/kibo"),
    (
        "What principles do the Artemis Accords signatories commit to?",
        "artemis-accords",
    ),
    (
        "When did the Apollo and Soyuz spacecraft dock in orbit?",
        "apollo-soyuz",
    ),
    (
        "Does the Outer Space Treaty ban nuclear weapons on the Moon?",
        "outer-space-treaty",
    ),
    (
        "How do satellites relay distress beacons to rescue centres?",
        "cospas-sarsat",
    ),
    (
        "Which agencies give free satellite imagery after floods and earthquakes?",
        "disaster-charter",
    ),
    (
        "How many times did the shuttle dock with Mir?",
        "shuttle-mir",
    ),
    (
        "When was the convention creating the European Space Agency signed?",
        "esa-convention",
    ),
    ("What will Canadarm3 do on the Gateway?", "gateway"),
];

/// Words that appear only inside `<script>`, `<style>` or `<nav>` of the HTML page.
pub const HIDDEN_HTML_WORDS: &[&str] = &[
    "xylophonequasar",
    "zebracrossingtoken",
    "hiddenpayloadword",
    "quasarmagenta",
    "navigationlinkword",
];

/// Front matter whose YAML list is never closed (file line 3).
pub const BAD_FRONT_MATTER_MD: &str =
    "---\ntitle: Broken\ntags: [iss, moon\nreviewed: 2026-11-27\n---\nThe body of a document whose metadata is broken.\n";
/// Valid UTF-8 on lines 1 and 2, a Latin-1 byte on line 3.
pub const INVALID_UTF8_TXT: &[u8] = b"Mission notes\n\nThe crew said \xe9t\xe9 on line three.\n";
/// Front matter and a heading but no text (the body starts on line 4).
pub const EMPTY_MD: &str = "---\ntitle: Nothing here\n---\n\n## A heading without text\n";

/// The documents the good fixture holds: (relative path, bytes).
pub fn good_files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("iss/kibo.md", KIBO_MD.as_bytes()),
        ("artemis-accords.md", ARTEMIS_MD.as_bytes()),
        ("apollo-soyuz.txt", APOLLO_SOYUZ_TXT.as_bytes()),
        (
            "outer-space-treaty.html",
            OUTER_SPACE_TREATY_HTML.as_bytes(),
        ),
        ("rescue.jsonl", RESCUE_JSONL.as_bytes()),
        ("shuttle-mir.md", MIR_MD.as_bytes()),
        ("esa.md", ESA_MD.as_bytes()),
        ("gateway.md", GATEWAY_MD.as_bytes()),
    ]
}

/// Number of documents in the good fixture (the JSON Lines file holds two).
pub const GOOD_DOCUMENTS: usize = 9;

/// Files that cannot be loaded, each for a different reason: (relative path, bytes).
pub fn bad_files() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("bad-front-matter.md", BAD_FRONT_MATTER_MD.as_bytes()),
        ("latin1.txt", INVALID_UTF8_TXT),
        ("empty.md", EMPTY_MD.as_bytes()),
    ]
}

/// Writes files below `root`, creating folders as needed.
pub fn write_files(root: &Path, files: &[(&str, &[u8])]) {
    for (relative, bytes) in files {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("fixture files are in a folder"))
            .expect("create fixture folder");
        std::fs::write(&path, bytes).expect("write fixture file");
    }
}

/// A temp dir holding `corpus/` (the fixture) and room for `index/`; both go when dropped.
pub struct Fixture {
    pub dir: TempDir,
    pub corpus: PathBuf,
    pub index: PathBuf,
}

impl Fixture {
    /// The good fixture corpus.
    pub fn new() -> Fixture {
        Fixture::with_files(&good_files())
    }

    /// The good fixture plus the files that cannot be loaded.
    pub fn with_bad_files() -> Fixture {
        let mut files = good_files();
        files.extend(bad_files());
        Fixture::with_files(&files)
    }

    pub fn with_files(files: &[(&str, &[u8])]) -> Fixture {
        let dir = tempfile::tempdir().expect("create temp dir");
        let corpus = dir.path().join("corpus");
        let index = dir.path().join("index");
        std::fs::create_dir_all(&corpus).expect("create corpus folder");
        write_files(&corpus, files);
        Fixture { dir, corpus, index }
    }

    /// A copy of the bundled corpus, which a test may change.
    pub fn bundled() -> Fixture {
        let fixture = Fixture::with_files(&[]);
        for entry in std::fs::read_dir(bundled_corpus()).expect("read the bundled corpus") {
            let path = entry.expect("read the bundled corpus").path();
            if path.is_file() {
                let name = path.file_name().expect("a file name");
                std::fs::copy(&path, fixture.corpus.join(name)).expect("copy a corpus file");
            }
        }
        fixture
    }

    /// `count` generated documents (see [`write_modules`]).
    pub fn modules(count: usize) -> Fixture {
        let fixture = Fixture::with_files(&[]);
        write_modules(&fixture.corpus, count);
        fixture
    }

    /// A folder next to the corpus and the index, for a second corpus or index.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Builds the index on one thread.
    pub fn build(&self) -> Report {
        reindex::rebuild(&self.corpus, &self.index, 1, |_| {}).expect("the fixture indexes")
    }

    /// Builds the index and opens an engine on it with the default settings.
    pub fn engine(&self) -> Engine {
        self.build();
        Engine::open(&self.index, AnswerSettings::default()).expect("open the fixture index")
    }
}

impl Default for Fixture {
    fn default() -> Fixture {
        Fixture::new()
    }
}

/// The corpus shipped in the repository.
pub fn bundled_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// A Markdown document with front matter, a source and one section.
pub fn module_document(title: &str, body: &str) -> String {
    format!(
        "---\ntitle: \"{title}\"\nsources: [\"https://example.org/{}\"]\n---\n\n## About\n\n{body}\n",
        title.len()
    )
}

/// Writes `count` distinct documents, `doc-0000.md` onwards ("Module 0", ...), each a
/// passage about a station module and the agency that built it; writing a larger count
/// into the same folder keeps the earlier ones unchanged.
pub fn write_modules(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).expect("create corpus folder");
    for i in 0..count {
        let body = format!(
            "Station module number {i} was built by partner agency {} for joint research on orbit. \
             Its crew studied materials, biology and Earth observation over many expeditions.",
            ["NASA", "ESA", "JAXA", "CSA", "Roscosmos"][i % 5]
        );
        std::fs::write(
            dir.join(format!("doc-{i:04}.md")),
            module_document(&format!("Module {i}"), &body),
        )
        .expect("write a generated document");
    }
}

/// Whether the servers a real-parts test runs (Debian's `postgresql`, `haproxy`) are
/// installed. In CI (`CI` set), a missing one fails the test loudly: `.ci/run`
/// installs them. Elsewhere, as on a fresh clone with only the Rust toolchain, the test
/// prints that it is skipped and what to install, and passes.
pub fn servers_installed(test: &str, haproxy: bool) -> bool {
    let mut missing = Vec::new();
    if !postgres::installed() {
        missing.push("postgresql");
    }
    if haproxy && cluster::haproxy_path().is_none() {
        missing.push("haproxy");
    }
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{test} needs Debian's {} (apt-get install {})",
        missing.join(" and "),
        missing.join(" ")
    );
    assert!(
        std::env::var_os("CI").is_none(),
        "{message}, which CI must install (.ci/run does)"
    );
    eprintln!("SKIPPED: {message}; not installed here");
    false
}
