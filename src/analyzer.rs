//! The English analyzer shared by the index and the query side, and what makes it fast:
//! one pass over the text that cuts words and looks each one up in a per-thread memo of
//! the term it makes.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};

use arrayvec::ArrayString;
use rustc_hash::{FxBuildHasher, FxHashMap};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    Token, TokenStream, Tokenizer,
};

/// The analyzer for titles, sections and bodies: words (runs of letters and digits, as
/// tantivy's `SimpleTokenizer` cuts them), words of 40 bytes or more dropped, then
/// lowercased, folded to ASCII, English stop words dropped, Porter-stemmed, exactly as
/// tantivy's `RemoveLongFilter`, `LowerCaser`, `AsciiFoldingFilter`, `StopWordFilter`
/// and `Stemmer` would. Changing it changes every term in the index, so bump
/// [`crate::index::INDEX_FORMAT`] with it.
pub fn english_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(EnglishTokenizer::default())
}

/// The terms of `text`, in order, as the index holds them.
pub fn analyze(text: &str) -> Vec<String> {
    analyze_with_offsets(text)
        .into_iter()
        .map(|(term, _)| term)
        .collect()
}

/// The terms of `text` with the byte offset where each one's word starts.
pub fn analyze_with_offsets(text: &str) -> Vec<(String, usize)> {
    let mut tokenizer = EnglishTokenizer::default();
    let mut stream = tokenizer.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        let token = stream.token();
        tokens.push((token.text.clone(), token.offset_from));
    }
    tokens
}

/// Words this long or longer, in bytes, are dropped (tantivy's `RemoveLongFilter::limit(40)`).
const LONGEST_WORD_BYTES: usize = 40;

/// What the analyzer does to one word, with tantivy's own filters.
fn word_normalizer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Words remembered per thread before the memo starts afresh: more than the distinct
/// words of the public evaluation sets, a few megabytes at most.
const MAX_REMEMBERED_WORDS: usize = 100_000;

thread_local! {
    /// Word as written → its term, or `None` for a stop word. Per thread rather than per
    /// analyzer: tantivy and the query side clone analyzers for every segment, snippet and
    /// question, and a memo that outlives the clones is what makes it pay on the query
    /// side, where each answer analyzes a few passages. No locks: a thread only ever
    /// reads its own.
    static MEMO: RefCell<FxHashMap<MemoText, Option<MemoText>>> =
        const { RefCell::new(FxHashMap::with_hasher(FxBuildHasher)) };
}

/// Bytes of text kept inside the memo's table rather than on the heap.
const SHORT_TEXT_BYTES: usize = 20;

/// A word or term of the memo, kept inside the table when it is short, as most words
/// are. The table is larger than the processor's cache, so each pointer followed from
/// it is a wait for memory: with words and terms on the heap, a lookup waited three
/// times (bucket, word, term) and took 13% of indexing.
#[derive(Clone)]
enum MemoText {
    Short(ArrayString<SHORT_TEXT_BYTES>),
    Long(Box<str>),
}

impl MemoText {
    fn new(text: &str) -> MemoText {
        ArrayString::from(text).map_or_else(|_| MemoText::Long(text.into()), MemoText::Short)
    }

    fn as_str(&self) -> &str {
        match self {
            MemoText::Short(text) => text.as_str(),
            MemoText::Long(text) => text,
        }
    }
}

// Hashed and compared as the `str` it holds, so that the memo is looked up by `&str`.
impl Borrow<str> for MemoText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for MemoText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq for MemoText {
    fn eq(&self, other: &MemoText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for MemoText {}

/// Cuts text into words and gives each word's term from the memo, stemming a word only
/// the first time a thread sees it: text repeats its words, and stemming was most of the
/// cost of indexing. Cutting and looking up in one pass, straight from the text, saves
/// copying every word into a token before knowing whether it is a stop word.
///
/// Holds nothing but its token, so cloning the analyzer (once per question, sentence or
/// snippet on the query side) costs one allocation.
#[derive(Clone, Default)]
pub struct EnglishTokenizer {
    token: Token,
}

impl Tokenizer for EnglishTokenizer {
    type TokenStream<'a> = EnglishTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> EnglishTokenStream<'a> {
        self.token.reset();
        EnglishTokenStream {
            text,
            cursor: 0,
            token: &mut self.token,
        }
    }
}

/// Token stream of [`EnglishTokenizer`].
pub struct EnglishTokenStream<'a> {
    text: &'a str,
    /// Byte offset where the search for the next word starts.
    cursor: usize,
    token: &'a mut Token,
}

/// Byte range of the first run of letters and digits at or after `from`.
#[inline]
fn next_word(text: &str, from: usize) -> Option<(usize, usize)> {
    let start = skip_while(text, from, false);
    (start < text.len()).then(|| (start, skip_while(text, start, true)))
}

/// The first byte at or after `at` that starts a character which is a letter or digit
/// (`letter_or_digit` false) or is not one (true); the end of the text when none does.
/// Most text is ASCII, which is checked byte by byte without decoding.
#[inline]
fn skip_while(text: &str, mut at: usize, letter_or_digit: bool) -> usize {
    let bytes = text.as_bytes();
    while let Some(&byte) = bytes.get(at) {
        let (is_word, width) = if byte.is_ascii() {
            (byte.is_ascii_alphanumeric(), 1)
        } else {
            decode_word_char(text, at)
        };
        if is_word != letter_or_digit {
            break;
        }
        at += width;
    }
    at
}

/// Whether the non-ASCII character starting at byte `at` is a letter or digit, and its
/// length in bytes.
#[cold]
fn decode_word_char(text: &str, at: usize) -> (bool, usize) {
    let c = text[at..]
        .chars()
        .next()
        .expect("`at` is a character boundary");
    (c.is_alphanumeric(), c.len_utf8())
}

/// The term of a word the memo has not seen, made by tantivy's filters.
fn normalize(word: &str) -> Option<MemoText> {
    thread_local! {
        static NORMALIZER: RefCell<TextAnalyzer> = RefCell::new(word_normalizer());
    }
    NORMALIZER.with_borrow_mut(|normalizer| {
        let mut stream = normalizer.token_stream(word);
        stream.next().map(|token| MemoText::new(&token.text))
    })
}

impl TokenStream for EnglishTokenStream<'_> {
    fn advance(&mut self) -> bool {
        MEMO.with_borrow_mut(|memo| {
            while let Some((from, to)) = next_word(self.text, self.cursor) {
                self.cursor = to;
                // Every word takes a position, dropped ones too, as in tantivy's chain:
                // a phrase never matches across a stop word.
                self.token.position = self.token.position.wrapping_add(1);
                let word = &self.text[from..to];
                if word.len() >= LONGEST_WORD_BYTES {
                    continue;
                }
                let term = match memo.get(word) {
                    Some(term) => term.as_ref(),
                    None => {
                        let term = normalize(word);
                        if memo.len() >= MAX_REMEMBERED_WORDS {
                            memo.clear();
                        }
                        memo.entry(MemoText::new(word)).or_insert(term).as_ref()
                    }
                };
                if let Some(term) = term {
                    self.token.text.clear();
                    self.token.text.push_str(term.as_str());
                    self.token.offset_from = from;
                    self.token.offset_to = to;
                    return true;
                }
            }
            false
        })
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer};

    use super::*;

    /// Each token as (term, position, byte offsets).
    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            out.push((
                token.text.clone(),
                token.position,
                token.offset_from,
                token.offset_to,
            ));
        }
        out
    }

    /// The chain of tantivy's own tokenizer and filters the analyzer stands for.
    fn tantivys_chain() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(LONGEST_WORD_BYTES))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(StopWordFilter::new(Language::English).unwrap())
            .filter(Stemmer::new(Language::English))
            .build()
    }

    #[test]
    fn terms_positions_and_offsets_equal_tantivys_chain() {
        let text = "The Running stations DOCKED; the station docks running modules. \
                    Agencies agreed, AGREEING to agreements: Zürich, Ørsted and Ĉapek. \
                    Pneumonoultramicroscopicsilicovolcanoconiosisxyz is dropped; \
                    ½ 3rd 東京 x²—naïve; This is it, and THE end";
        let mut plain = tantivys_chain();
        let mut ours = english_analyzer();
        // Twice through the same instance: the second pass is served from the memo.
        for _ in 0..2 {
            assert_eq!(tokens(&mut ours, text), tokens(&mut plain, text));
        }
        let words: Vec<String> = tokens(&mut ours, "The docking stations")
            .into_iter()
            .map(|(term, ..)| term)
            .collect();
        assert_eq!(words, ["dock", "station"]);
    }

    #[test]
    fn a_full_memo_starts_afresh_and_keeps_giving_the_same_terms() {
        let text: String = (0..MAX_REMEMBERED_WORDS + 10)
            .map(|n| format!("w{n}ing "))
            .collect();
        let mut ours = english_analyzer();
        let first = tokens(&mut ours, &text);
        assert_eq!(first.len(), MAX_REMEMBERED_WORDS + 10);
        assert_eq!(first, tokens(&mut tantivys_chain(), &text));
        assert_eq!(tokens(&mut ours, &text), first);
    }

    proptest! {
        #[test]
        fn any_text_analyzes_as_tantivys_chain_does(
            text in "(\\PC|[ .,;'\\-]|[a-zA-Z]{1,45}|the|and|Éé){0,40}"
        ) {
            prop_assert_eq!(tokens(&mut english_analyzer(), &text), tokens(&mut tantivys_chain(), &text));
        }
    }
}
