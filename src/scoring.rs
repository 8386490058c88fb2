//! Runs a [`QueryPlan`] over the index term at a time: each word's postings are read
//! once and its BM25 added into one score per passage, and the proximity pairs, which
//! need positions, are counted only on the passages that can still reach the top. The
//! passages and scores are those of tantivy running [`QueryPlan::to_query`] (the tests
//! check it), at a fraction of the cost: tantivy's union of dozens of scorers weighs every
//! matching passage through a heap of scorers, and cannot skip any (a disjunction max per
//! word is not something block-max WAND can bound), and a sloppy phrase reads the
//! positions of every passage that holds both of its words.

use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use rustc_hash::FxHashMap;

use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{Postings, TermInfo};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, Term, TERMINATED};

use crate::query::{applied_boost, QueryPlan, PAIR_SLOP};

/// BM25's term frequency saturation, as tantivy has it.
const K1: Score = 1.2;
/// BM25's length normalisation, as tantivy has it.
const B: Score = 0.75;

/// What BM25 needs of an index that no query changes, made once per index generation:
/// the number of passages; for each searched field, the length normalisation of each
/// encoded passage length (tantivy makes these again for every term of every query,
/// which cost more than scoring SciFact's passages); and, for each word searched so far,
/// its term-frequency factor in every passage that holds it, so that the next question
/// with the word multiplies instead of decoding postings again (what bm25s keeps as its
/// precomputed matrix, here filled on first use and for the words asked only).
#[derive(Debug)]
pub struct Statistics {
    total_docs: u64,
    /// Per searched field: its length normalisations.
    fields: Vec<FieldStatistics>,
    /// Per word searched so far, what it scores in each field. One entry for all the
    /// fields, so that a question's look-ups of a word (whether each field holds it,
    /// then its factors, then its merged scores) find it in memory just read.
    words: RwLock<FxHashMap<Box<str>, Arc<KeptWord>>>,
    /// Postings and positions kept, to stop adding at [`MAX_KEPT`].
    kept: AtomicUsize,
}

/// A word's score in each passage holding it in some of its fields, by segment.
type MergedScores = Arc<Vec<MergedScore>>;

/// A word's score in each passage of one segment holding it in some of its fields:
/// those whose body holds it, in the order of the word's body factors (so that a
/// passage's place in one list is its place in the other, which the pairs need), and
/// the others. Two lists rather than one with a place in each entry: the walk that
/// adds the scores and marks the bodies writes no place for bodies without the word,
/// and reads a third less.
#[derive(Debug, Default)]
struct MergedScore {
    in_body: Vec<(DocId, Score)>,
    elsewhere: Vec<(DocId, Score)>,
}

#[derive(Debug)]
struct FieldStatistics {
    field: Field,
    norms: Box<[Score; 256]>,
}

/// A word searched so far: its factors in each searched field (in
/// [`Statistics::fields`] order), and, for each set of fields, boosts and tie breaker
/// it was searched with (see [`merge_key`]), its score in each passage of each segment
/// holding it, the fields combined as tantivy's disjunction max combines them, so that
/// the next question with the word adds one list instead of merging several.
#[derive(Debug)]
struct KeptWord {
    in_fields: Box<[Arc<TermImpacts>]>,
    merged: RwLock<Vec<(Box<[u32]>, MergedScores)>>,
}

/// Postings and positions [`Statistics`] keeps (4 to 8 bytes each) before it stops
/// keeping more words: a word past it is read from the index each time. (The
/// positions of a word already kept are kept when a pair first needs them, and counted.)
const MAX_KEPT: usize = 8_000_000;

/// What a kept word costs beside its postings, in the same units (a word with no
/// postings at all is kept too, so that nonsense typed again is not looked up again).
const KEPT_PER_WORD: usize = 16;

/// One word in one field: in how many passages it is, and its term-frequency factor in
/// each passage holding it, by segment, in address order; its positions there when a
/// pair needed them.
#[derive(Debug)]
struct TermImpacts {
    doc_freq: u64,
    /// Its rarity ([`Statistics::idf`]), made once rather than for every question.
    idf: Score,
    /// The highest of its factors.
    highest: Score,
    infos: Vec<Option<TermInfo>>,
    factors: Vec<Vec<(DocId, Score)>>,
    positions: OnceLock<Vec<SegmentPositions>>,
}

/// A word's positions in each passage of a segment holding it. For its `i`-th passage
/// (in [`TermImpacts::factors`] order), `places[i]` is the word's only position there,
/// marked with [`ONLY_POSITION`], or where its positions start in `positions`, with
/// how many there are (its term frequency) first. The search keeps each candidate's
/// place (see [`Matched::places`]): a word found once in a passage, as most are, is
/// then counted without reading `positions` at all, and the others one read from
/// where they start.
#[derive(Debug, Default)]
struct SegmentPositions {
    places: Vec<u32>,
    positions: Vec<u32>,
}

/// Marks a place in [`SegmentPositions::places`] that is the word's only position.
const ONLY_POSITION: u32 = 1 << 31;

/// A word's positions in one passage.
#[derive(Debug, Clone, Copy)]
enum Positions<'a> {
    Only(u32),
    Several(&'a [u32]),
}

impl<'a> Positions<'a> {
    /// How many there are: the word's term frequency in the passage.
    fn count(&self) -> usize {
        match self {
            Positions::Only(_) => 1,
            Positions::Several(positions) => positions.len(),
        }
    }

    /// The positions as a slice, `room` holding an only one.
    fn as_slice<'s>(self, room: &'s mut [u32; 1]) -> &'s [u32]
    where
        'a: 's,
    {
        match self {
            Positions::Only(position) => {
                room[0] = position;
                &room[..]
            }
            Positions::Several(positions) => positions,
        }
    }
}

/// A word's positions in a passage from its place (see [`SegmentPositions`]).
fn positions_at(positions: &[u32], place: u32) -> Positions<'_> {
    if place & ONLY_POSITION != 0 {
        return Positions::Only(place & !ONLY_POSITION);
    }
    let start = place as usize;
    let count = positions.get(start).map_or(0, |&count| count as usize);
    Positions::Several(positions.get(start + 1..start + 1 + count).unwrap_or(&[]))
}

impl Statistics {
    /// The statistics of `fields` over every segment of `searcher`, computed as tantivy
    /// computes them (so that scores are the same to the bit).
    ///
    /// # Errors
    /// When a field's inverted index cannot be opened.
    pub fn new(searcher: &Searcher, fields: &[Field]) -> tantivy::Result<Statistics> {
        let total_docs: u64 = searcher
            .segment_readers()
            .iter()
            .map(|reader| u64::from(reader.max_doc()))
            .sum();
        let fields = fields
            .iter()
            .map(|&field| {
                let mut tokens = 0u64;
                for reader in searcher.segment_readers() {
                    tokens += reader.inverted_index(field)?.total_num_tokens();
                }
                let average = tokens as Score / total_docs as Score;
                let mut norms = Box::new([0.0; 256]);
                for (id, norm) in norms.iter_mut().enumerate() {
                    let length = FieldNormReader::id_to_fieldnorm(id as u8);
                    *norm = K1 * (1.0 - B + B * length as Score / average);
                }
                Ok(FieldStatistics { field, norms })
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(Statistics {
            total_docs,
            fields,
            words: RwLock::new(FxHashMap::default()),
            kept: AtomicUsize::new(0),
        })
    }

    /// Where `field` is in [`Statistics::fields`].
    fn field_index(&self, field: Field) -> usize {
        self.fields
            .iter()
            .position(|f| f.field == field)
            .expect("statistics are made for every field a plan searches")
    }

    fn norms(&self, field: Field) -> &[Score; 256] {
        &self.fields[self.field_index(field)].norms
    }

    /// The rarity of a term held by `doc_freq` passages.
    fn idf(&self, doc_freq: u64) -> Score {
        let n = self.total_docs.max(doc_freq);
        let x = ((n - doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5);
        (1.0 + x).ln()
    }

    /// Whether there is room to keep `size` more postings or positions.
    fn keep(&self, size: usize) -> bool {
        let kept = self.kept.fetch_add(size, Ordering::Relaxed);
        if kept + size > MAX_KEPT {
            self.kept.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Whether some passage has `token` in a field, for each field asked; the word is
    /// kept for the search that follows.
    pub fn held_in(&self, searcher: &Searcher, token: &str) -> impl Fn(Field) -> bool + '_ {
        let word = self.word(searcher, token).ok();
        move |field| {
            word.as_ref()
                .is_some_and(|word| word.in_fields[self.field_index(field)].doc_freq > 0)
        }
    }

    /// `token`'s factors in every searched field, kept from an earlier question or read
    /// now.
    fn word(&self, searcher: &Searcher, token: &str) -> tantivy::Result<Arc<KeptWord>> {
        let read = || self.words.read().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = read().get(token) {
            return Ok(Arc::clone(found));
        }
        let in_fields = self
            .fields
            .iter()
            .map(|field| read_impacts(searcher, self, field, token).map(Arc::new))
            .collect::<tantivy::Result<Box<[_]>>>()?;
        let postings: u64 = in_fields.iter().map(|impacts| impacts.doc_freq).sum();
        let word = Arc::new(KeptWord {
            in_fields,
            merged: RwLock::default(),
        });
        if self.keep(postings as usize + KEPT_PER_WORD) {
            self.words
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(token.into(), Arc::clone(&word));
        }
        Ok(word)
    }
}

/// `token`'s factors in one field, read from the index, and its rarity there.
fn read_impacts(
    searcher: &Searcher,
    index: &Statistics,
    statistics: &FieldStatistics,
    token: &str,
) -> tantivy::Result<TermImpacts> {
    let field = statistics.field;
    let term = Term::from_field_text(field, token);
    let mut impacts = TermImpacts {
        doc_freq: 0,
        idf: 0.0,
        highest: 0.0,
        infos: Vec::new(),
        factors: Vec::new(),
        positions: OnceLock::new(),
    };
    for reader in searcher.segment_readers() {
        let inverted = reader.inverted_index(field)?;
        let info = inverted.get_term_info(&term)?;
        let mut factors = Vec::new();
        if let Some(info) = &info {
            impacts.doc_freq += u64::from(info.doc_freq);
            factors.reserve(info.doc_freq as usize);
            let lengths = reader.get_fieldnorms_reader(field)?;
            let mut postings =
                inverted.read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                let frequency = postings.term_freq() as Score;
                let norm = statistics.norms[lengths.fieldnorm_id(doc) as usize];
                let factor = term_factor(frequency, norm);
                impacts.highest = impacts.highest.max(factor);
                factors.push((doc, factor));
                doc = postings.advance();
            }
        }
        impacts.infos.push(info);
        impacts.factors.push(factors);
    }
    impacts.idf = index.idf(impacts.doc_freq);
    Ok(impacts)
}

/// BM25's saturation of a term's `frequency` in a passage whose length normalisation
/// is `norm` (the `1 + K1` is in the term's weight). One function for the factors
/// kept and the ones the pairs' tighter bound makes, so that both are the same to the
/// bit.
fn term_factor(frequency: Score, norm: Score) -> Score {
    frequency / (frequency + norm)
}

impl Statistics {
    /// `word`'s scores when searched in several `fields` (with `boosts`), combined per
    /// passage by disjunction max with `tie_breaker`: kept from an earlier question
    /// that searched it so, or merged now.
    fn merged_word(
        &self,
        word: &KeptWord,
        boosts: &[(Field, f32)],
        fields: &[FieldTerm],
        tie_breaker: Score,
        body: Field,
    ) -> MergedScores {
        let key: Vec<u32> = merge_key(boosts, tie_breaker).collect();
        let read = word.merged.read().unwrap_or_else(|p| p.into_inner());
        if let Some((_, found)) = read.iter().find(|(kept, _)| **kept == *key) {
            return Arc::clone(found);
        }
        drop(read);
        let segments = fields.first().map_or(0, |term| term.impacts.factors.len());
        let in_body = fields.iter().find(|term| term.field == body);
        let lists: Vec<MergedScore> = (0..segments)
            .map(|segment| {
                let body_factors = in_body.map_or(&[][..], |term| &term.impacts.factors[segment]);
                split_by_body(merge_fields(fields, segment, tie_breaker), body_factors)
            })
            .collect();
        let lists = Arc::new(lists);
        let mut write = word.merged.write().unwrap_or_else(|p| p.into_inner());
        // A thread racing this one may have kept the same scores meanwhile: the list
        // holds each key once, as the map it replaced did.
        if let Some((_, found)) = write.iter().find(|(kept, _)| **kept == *key) {
            return Arc::clone(found);
        }
        let entries: usize = lists
            .iter()
            .map(|list| list.in_body.len() + list.elsewhere.len())
            .sum();
        if self.keep(entries + KEPT_PER_WORD) {
            write.push((key.into(), Arc::clone(&lists)));
        }
        lists
    }
}

/// What tells apart a word's merged scores in [`KeptWord::merged`]: the tie breaker,
/// and each field with its boost (its scores depend on them all).
fn merge_key(boosts: &[(Field, f32)], tie_breaker: f32) -> impl Iterator<Item = u32> + '_ {
    std::iter::once(tie_breaker.to_bits()).chain(
        boosts
            .iter()
            .flat_map(|&(field, boost)| [field.field_id(), boost.to_bits()]),
    )
}

impl TermImpacts {
    /// The word's positions in each passage holding it, read on first use.
    fn positions(
        &self,
        searcher: &Searcher,
        statistics: &Statistics,
        field: Field,
    ) -> tantivy::Result<&[SegmentPositions]> {
        if let Some(positions) = self.positions.get() {
            return Ok(positions);
        }
        let mut all = Vec::with_capacity(self.infos.len());
        for (reader, info) in searcher.segment_readers().iter().zip(&self.infos) {
            let mut segment = SegmentPositions::default();
            if let Some(info) = info {
                let mut postings = reader
                    .inverted_index(field)?
                    .read_postings_from_terminfo(info, IndexRecordOption::WithFreqsAndPositions)?;
                segment.places.reserve(info.doc_freq as usize);
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    // Read in place after room for the count, and taken back when the
                    // word is there once.
                    let start = segment.positions.len();
                    segment.positions.push(0);
                    postings.append_positions_with_offset(0, &mut segment.positions);
                    match segment.positions[start + 1..] {
                        [only] if only < ONLY_POSITION => {
                            segment.positions.truncate(start);
                            segment.places.push(ONLY_POSITION | only);
                        }
                        _ => {
                            segment.positions[start] = (segment.positions.len() - start - 1) as u32;
                            segment.places.push(start as u32);
                        }
                    }
                    doc = postings.advance();
                }
            }
            all.push(segment);
        }
        // Racing threads each read them; one keeps its copy.
        Ok(self.positions.get_or_init(|| {
            let count: usize = all.iter().map(|segment| segment.positions.len()).sum();
            statistics.kept.fetch_add(count, Ordering::Relaxed);
            all
        }))
    }
}

/// A passage that matched some clause, with what it scored so far.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Its score without the pairs.
    partial: Score,
    /// The most it can score with them.
    bound: Score,
    /// Which of the words the pairs need its body holds, one bit each (see
    /// [`Word::body_bit`]): a pair can only be found in a body holding both of its words.
    in_body: u64,
    segment: u32,
    doc: DocId,
}

/// One word in one field, with its BM25 weight there (rarity times boost).
struct FieldTerm {
    field: Field,
    impacts: Arc<TermImpacts>,
    weight: Score,
}

impl FieldTerm {
    fn new(statistics: &Statistics, word: &KeptWord, field: Field, boost: f32) -> FieldTerm {
        let impacts = Arc::clone(&word.in_fields[statistics.field_index(field)]);
        FieldTerm {
            field,
            weight: impacts.idf * (1.0 + K1) * applied_boost(boost),
            impacts,
        }
    }
}

/// One question word, searched in each field that holds it.
struct Word {
    fields: Vec<FieldTerm>,
    /// Its score per passage of each segment, when it is searched in several fields.
    merged: Option<MergedScores>,
    /// The word's bit in a passage's `in_body` as a mask, when a pair needs the word
    /// (the words pairs need are numbered in question order); 0 otherwise.
    body_bit: u64,
}

/// Two question words near each other in a body, with the weight tantivy gives the
/// phrase (the sum of their rarities, times the boost).
struct ScoredPair {
    /// The bits of its two words.
    bits: (usize, usize),
    /// The most it adds to a passage's score.
    most: Score,
    both: u64,
    weight: Score,
}

/// The `limit` best passages for `plan`, best first; equal scores go by address.
///
/// # Errors
/// When tantivy cannot read a posting list or a field's norms.
pub fn top_passages(
    searcher: &Searcher,
    statistics: &Statistics,
    plan: &QueryPlan,
    body: Field,
    limit: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // The question words some pair needs, each given a bit of a passage's `in_body`.
    let mut pair_words: Vec<usize> = plan
        .pairs
        .iter()
        .flat_map(|pair| [pair.terms.0, pair.terms.1])
        .collect();
    pair_words.sort_unstable();
    pair_words.dedup();
    let bit_of = |place: usize| pair_words.binary_search(&place).ok();
    let words = plan
        .clauses
        .iter()
        .filter(|clause| clause.tokens.len() == 1)
        .map(|clause| {
            let word = statistics.word(searcher, &clause.tokens[0])?;
            let fields: Vec<FieldTerm> = clause
                .fields
                .iter()
                .map(|&(field, boost)| FieldTerm::new(statistics, &word, field, boost))
                .collect();
            let body_term = fields.iter().find(|term| term.field == body);
            let bit = clause.term.and_then(bit_of).filter(|_| body_term.is_some());
            if let Some(term) = body_term.filter(|_| bit.is_some()) {
                // Read before the words are scored, which note each passage's place in
                // the positions.
                term.impacts.positions(searcher, statistics, body)?;
            }
            let merged = (fields.len() > 1).then(|| {
                statistics.merged_word(&word, &clause.fields, &fields, plan.tie_breaker, body)
            });
            Ok(Word {
                fields,
                merged,
                body_bit: bit.map_or(0, |bit| 1u64 << bit),
            })
        })
        .collect::<tantivy::Result<Vec<_>>>()?;
    // Phrases (alternative names of several words) are rare: tantivy scores them.
    let phrases = plan
        .clauses
        .iter()
        .filter(|clause| clause.tokens.len() > 1)
        .filter_map(|clause| clause.to_query(plan.tie_breaker))
        .map(|query| query.weight(EnableScoring::enabled_from_searcher(searcher)))
        .collect::<tantivy::Result<Vec<_>>>()?;
    // The body term of the question word with each bit.
    let mut by_bit: Vec<Option<&FieldTerm>> = vec![None; pair_words.len()];
    for word in &words {
        if word.body_bit != 0 {
            let bit = word.body_bit.trailing_zeros() as usize;
            by_bit[bit] = word.fields.iter().find(|f| f.field == body);
        }
    }
    let pairs: Vec<ScoredPair> = plan
        .pairs
        .iter()
        .filter_map(|pair| {
            let (a, b) = (bit_of(pair.terms.0)?, bit_of(pair.terms.1)?);
            let (first, second) = (by_bit[a]?, by_bit[b]?);
            let rarity = first.impacts.idf + second.impacts.idf;
            let weight = rarity * (1.0 + K1) * applied_boost(pair.boost);
            Some(ScoredPair {
                bits: (a, b),
                both: (1u64 << a) | (1u64 << b),
                weight,
                // The pair is found at most as often as the word of the two that occurs
                // less in the passage, so its factor is at most the lower of the two
                // words' highest factors.
                most: weight * first.impacts.highest.min(second.impacts.highest),
            })
        })
        .collect();

    let mut buffers = SPARE_BUFFERS.with(|spare| spare.take());
    let matched = score_words(
        searcher,
        body,
        &words,
        &phrases,
        !pairs.is_empty(),
        &mut buffers,
    )?;
    let most = PairBound::new(&pairs, pair_words.len());

    // First the candidates with the highest bounds (their score with every pair they
    // could hold); then those left that can still reach the `limit`-th score found.
    // (A quarter over the limit: with a half, SciFact pair-counted 229 passages a
    // question for 151, and ran no faster.)
    let batch = limit + limit / 4;
    matched.bounds(searcher, &most, &mut buffers);
    let cuts = buffers.cuts(batch, limit / 2);
    let pair_scorer = PairScorer::new(searcher, statistics, body, &by_bit, &pairs, &matched)?;
    // Every threshold is above 0, where the passages that did not match are: a test
    // that is rarely true is one the processor predicts. The passages just below the
    // cut are collected in the same pass, in reserve: the second stage usually needs
    // no others, and then no second pass.
    let (mut first, mut reserve): (Vec<Candidate>, Vec<Candidate>) = match cuts {
        Some(cuts) => matched.candidates(&buffers, cuts.reserve..Score::MAX, cuts),
        None => matched.candidates(&buffers, Score::MIN_POSITIVE..Score::MAX, Cuts::NONE),
    };
    let mut cuts = cuts;
    if let Some(cuts) = cuts.as_mut().filter(|_| first.len() < limit) {
        // The histogram counts a sample, and put the cut too high: short of the limit,
        // the second stage could not bound its candidates by the `limit`-th score and
        // would count the pairs of every passage. The reserve joins the first batch.
        first.append(&mut reserve);
        first.sort_unstable_by_key(|candidate| (candidate.segment, candidate.doc));
        cuts.cut = cuts.reserve;
    }
    let mut scored = Vec::with_capacity(first.len() + limit);
    pair_scorer.score_into(&first, &mut scored);
    if let Some(cuts) = cuts {
        let reached = nth_best(scored.clone(), limit)
            .unwrap_or(0.0)
            .max(Score::MIN_POSITIVE);
        let second = if reached >= cuts.reserve {
            reserve.retain(|candidate| candidate.bound >= reached);
            reserve
        } else {
            matched
                .candidates(&buffers, reached..cuts.cut, Cuts::NONE)
                .0
        };
        pair_scorer.score_best_first(second, &mut scored, limit, reached);
    }
    let top = best(scored, limit, &matched.starts);
    buffers.return_matched(matched);
    SPARE_BUFFERS.with(|spare| spare.replace(buffers));
    Ok(top)
}

thread_local! {
    /// The per-passage arrays of the last search on this thread, for the next one to
    /// reuse instead of allocating and zeroing their memory again.
    static SPARE_BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::default();
}

/// A search's per-passage arrays (all segments one after the other) and its histogram.
#[derive(Default)]
struct Buffers {
    narrow: Vec<Slot<u32>>,
    wide: Vec<Slot<u64>>,
    places: Vec<u32>,
    /// Each passage's bound: its score with every pair it could hold (0 for one that did
    /// not match), or minus infinity when it is deleted.
    bounds: Vec<Score>,
    /// How many of the bounds counted (one in [`COUNTED_ONE_IN`]) fall in each of
    /// [`BUCKETS`] equal steps from 0 to the highest, in [`HISTOGRAM_COPIES`] copies one
    /// after the other, to be added up.
    histogram: Vec<u32>,
    /// Bounds per bucket of the histogram.
    scale: Score,
}

impl Buffers {
    fn return_matched(&mut self, matched: Matched) {
        match matched.slots {
            Slots::Narrow(slots) => self.narrow = slots,
            Slots::Wide(slots) => self.wide = slots,
        }
        self.places = matched.places;
    }

    /// A cut that at least `batch` passages reach (and not many more), and below it
    /// the lowest bound from which at most `reserve` more do; `None` when no more than
    /// `batch` passages matched. Cheaper than selecting the `batch`-th bound exactly,
    /// and any cut will do: the passages below it are looked at again.
    fn cuts(&self, batch: usize, reserve: usize) -> Option<Cuts> {
        let count = |bucket: usize| -> usize {
            let counted: usize = (0..HISTOGRAM_COPIES)
                .map(|copy| self.histogram[copy * BUCKETS + bucket] as usize)
                .sum();
            counted * COUNTED_ONE_IN
        };
        // Bucket 0 holds the passages that did not match: a cut there takes every match.
        let mut reached = 0;
        let mut buckets = (1..BUCKETS).rev();
        let cut = buckets.find(|&bucket| {
            reached += count(bucket);
            reached >= batch
        })?;
        let mut lowest = cut;
        let (mut kept, mut reserved_count) = (0, 0);
        for bucket in buckets {
            kept += count(bucket);
            if kept > reserve {
                break;
            }
            (lowest, reserved_count) = (bucket, kept);
        }
        Some(Cuts {
            cut: bucket_floor(cut, self.scale),
            reserve: bucket_floor(lowest, self.scale),
            batch: reached,
            reserved: reserved_count,
        })
    }
}

/// The bounds that split a search's candidates (see [`Buffers::cuts`]).
#[derive(Debug, Clone, Copy)]
struct Cuts {
    /// The first batch's lowest bound.
    cut: Score,
    /// The lowest bound of those collected with the first batch, for the second.
    reserve: Score,
    /// About how many passages are at or above `cut`, and from `reserve` to it.
    batch: usize,
    reserved: usize,
}

impl Cuts {
    /// No cut: every candidate is in the first batch.
    const NONE: Cuts = Cuts {
        cut: Score::MIN,
        reserve: Score::MIN,
        batch: 0,
        reserved: 0,
    };
}

/// The passages the words and phrases matched, all segments one after the other: each
/// one's score from them and which question words its body holds (see [`Slots`]).
struct Matched {
    slots: Slots,
    /// For each passage, one entry per word the pairs need (by its bit in `in_body`):
    /// the passage's place in the word's [`SegmentPositions`] (its only position, or
    /// where its positions start), so that the pairs find them and the term frequency
    /// in at most one read. A passage's entries are together, so that a candidate's are
    /// one read too. Meaningful where the passage's body holds the word; not cleared
    /// between searches.
    places: Vec<u32>,
    /// Entries per passage in `places`: 0 without pairs, when no body is marked.
    pair_words: usize,
    /// Where each segment's passages start, and after the last, their number.
    starts: Vec<usize>,
}

/// Each passage's score from the words and phrases (0 for none) beside which of the
/// words the pairs need its body holds, one bit each (see [`Word::body_bit`]). Side by
/// side, because the word stage adds to both at each passage holding a pair word, and
/// then reaches one cache line rather than two; the bits in 32 when the question's pair
/// words fit, as most questions' do, for a third less memory to walk through.
enum Slots {
    Narrow(Vec<Slot<u32>>),
    Wide(Vec<Slot<u64>>),
}

/// One passage's entry in [`Slots`].
#[derive(Debug, Clone, Copy, Default)]
struct Slot<B> {
    score: Score,
    in_body: B,
}

impl Slots {
    /// Zeroed for `passages` passages, in the narrow form when `words` fit in it.
    fn cleared(buffers: &mut Buffers, words: usize, passages: usize) -> Slots {
        fn cleared<B: Copy + Default>(mut slots: Vec<Slot<B>>, passages: usize) -> Vec<Slot<B>> {
            slots.clear();
            slots.resize(passages, Slot::default());
            slots
        }
        if words <= u32::BITS as usize {
            Slots::Narrow(cleared(std::mem::take(&mut buffers.narrow), passages))
        } else {
            Slots::Wide(cleared(std::mem::take(&mut buffers.wide), passages))
        }
    }

    /// The score and bits of the passage at `passage`.
    fn of(&self, passage: usize) -> (Score, u64) {
        match self {
            Slots::Narrow(slots) => (slots[passage].score, slots[passage].in_body.into()),
            Slots::Wide(slots) => (slots[passage].score, slots[passage].in_body),
        }
    }
}

/// A passage's bits in [`Slots`], in either form.
trait BodyBits: Copy + Default + Into<u64> + std::ops::BitOrAssign {
    /// A word's bit (which fits this form) in it.
    fn from_bit(bit: u64) -> Self;
}

impl BodyBits for u32 {
    fn from_bit(bit: u64) -> u32 {
        bit as u32
    }
}

impl BodyBits for u64 {
    fn from_bit(bit: u64) -> u64 {
        bit
    }
}

/// Buckets of [`Buffers::histogram`].
const BUCKETS: usize = 1024;

impl Matched {
    /// Fills `buffers`' bounds and their histogram.
    fn bounds(&self, searcher: &Searcher, most: &PairBound, buffers: &mut Buffers) {
        match &self.slots {
            Slots::Narrow(slots) => self.bounds_from(slots, searcher, most, buffers),
            Slots::Wide(slots) => self.bounds_from(slots, searcher, most, buffers),
        }
    }

    /// [`Matched::bounds`], with the slots in one of their forms.
    fn bounds_from<B: BodyBits>(
        &self,
        slots: &[Slot<B>],
        searcher: &Searcher,
        most: &PairBound,
        buffers: &mut Buffers,
    ) {
        let bounds = &mut buffers.bounds;
        bounds.resize(slots.len(), 0.0);
        let mut highest: Score = 0.0;
        for (segment, range) in self.starts.windows(2).enumerate() {
            let (start, end) = (range[0], range[1]);
            let slots = &slots[start..end];
            let bounds = &mut bounds[start..end];
            let alive = searcher.segment_reader(segment as u32).alive_bitset();
            let segment_highest = if let Some(alive) = alive {
                fill_bounds(slots, bounds, |doc, bits: B| {
                    if alive.is_alive(doc as DocId) {
                        most.of(bits.into())
                    } else {
                        // Below every cut, where the passages that did not match are.
                        Score::NEG_INFINITY
                    }
                })
            } else if self.pair_words == 0 {
                // The loops are made once for each way of bounding the pairs, so that
                // each has no branch inside.
                fill_bounds(slots, bounds, |_, _| 0.0)
            } else if let Some(table) = most.table() {
                // `table` has an entry for every combination of the words.
                let every = table.len() - 1;
                fill_bounds(slots, bounds, |_, bits: B| {
                    table[bits.into() as usize & every]
                })
            } else {
                fill_bounds(slots, bounds, |_, bits: B| most.of(bits.into()))
            };
            highest = highest.max(segment_highest);
        }
        // Finite even when nothing matched: 0 times infinity would be NaN, whose bucket
        // (see `bucket`) is not 0.
        let scale = ((BUCKETS - 1) as Score / highest.max(Score::MIN_POSITIVE)).min(Score::MAX);
        buffers.scale = scale;
        let histogram = &mut buffers.histogram;
        histogram.resize(HISTOGRAM_COPIES * BUCKETS, 0);
        histogram.fill(0);
        let histogram = &mut histogram[..HISTOGRAM_COPIES * BUCKETS];
        // Each counted bound in a run of four counts in its own copy of the histogram:
        // with one, the passages that did not match would each wait for the last one's
        // count of bucket 0.
        for (counted, &bound) in bounds.iter().step_by(COUNTED_ONE_IN).enumerate() {
            histogram[counted % HISTOGRAM_COPIES * BUCKETS + bucket(bound, scale)] += 1;
        }
    }

    /// The passages whose bound is in `range`, in address order: those at or above
    /// `cuts.cut`, and those below it.
    fn candidates(
        &self,
        buffers: &Buffers,
        range: std::ops::Range<Score>,
        cuts: Cuts,
    ) -> (Vec<Candidate>, Vec<Candidate>) {
        let (lowest, above) = (range.start, range.end);
        let mut found = (
            Vec::with_capacity(cuts.batch),
            Vec::with_capacity(cuts.reserved),
        );
        for (segment, range) in self.starts.windows(2).enumerate() {
            let start = range[0];
            let bounds = &buffers.bounds[start..range[1]];
            let mut add = |doc: usize| {
                let (partial, in_body) = self.slots.of(start + doc);
                let candidate = Candidate {
                    partial,
                    bound: bounds[doc],
                    in_body,
                    segment: segment as u32,
                    doc: doc as DocId,
                };
                if candidate.bound >= cuts.cut {
                    found.0.push(candidate);
                } else {
                    found.1.push(candidate);
                }
            };
            // Few passages are in the range: a mask of sixteen bounds at a time (which
            // the compiler makes vector compares of, given `&` rather than `&&`), four
            // masks to a test, and a look only where a bit is set. (With a test per
            // sixteen, half the tests went each way and the processor mispredicted
            // them.)
            let in_range = |chunk: &[Score]| {
                let mut mask = 0u64;
                for (lane, &bound) in chunk.iter().enumerate() {
                    mask |= u64::from((bound >= lowest) & (bound < above)) << lane;
                }
                mask
            };
            let chunks = bounds.chunks_exact(64);
            let rest = chunks.remainder();
            for (chunk_number, chunk) in chunks.enumerate() {
                let mut mask = chunk
                    .chunks_exact(16)
                    .enumerate()
                    .fold(0, |mask, (part, lanes)| {
                        mask | in_range(lanes) << (part * 16)
                    });
                while mask != 0 {
                    add(chunk_number * 64 + mask.trailing_zeros() as usize);
                    mask &= mask - 1;
                }
            }
            let first_of_rest = bounds.len() - rest.len();
            for (offset, &bound) in rest.iter().enumerate() {
                if bound >= lowest && bound < above {
                    add(first_of_rest + offset);
                }
            }
        }
        found
    }
}

/// Copies of the histogram [`Matched::bounds`] counts in.
const HISTOGRAM_COPIES: usize = 4;

/// The bucket of [`Buffers::histogram`] where `bound` counts, `scale` buckets a bound:
/// `bound` times `scale` rounded to the nearest whole number, so that bucket `b`
/// holds the bounds from `(b - 0.5) / scale` (see [`bucket_floor`]).
fn bucket(bound: Score, scale: Score) -> usize {
    // Adding 2^23 to a number from 0 to BUCKETS rounds it to a whole number and leaves
    // that in the low bits of the mantissa: a conversion without the checks for NaN
    // and range that `as` makes, which took a third of the loop counting the bounds.
    const ROUNDS: Score = (1u32 << 23) as Score;
    let rounded = (bound * scale + ROUNDS).to_bits() & ((1 << 23) - 1);
    // No bound is negative or past the last bucket but for rounding.
    (rounded as usize).min(BUCKETS - 1)
}

/// The lowest bound counted in `bucket` (see [`bucket`]).
fn bucket_floor(bucket: usize, scale: Score) -> Score {
    (bucket as Score - 0.5) / scale
}

/// Sets the bounds of one segment's passages to their score plus `pairs` (the most the
/// pairs can add to a passage, by its number and bits), and returns the highest (0 if
/// none is above). No branch per passage, and the highest kept in eight lanes: one
/// running maximum would wait for the last at each passage.
fn fill_bounds<B: BodyBits>(
    slots: &[Slot<B>],
    bounds: &mut [Score],
    pairs: impl Fn(usize, B) -> Score,
) -> Score {
    let mut lanes = [0.0 as Score; 8];
    for (chunk, (bounds, slots)) in bounds.chunks_mut(8).zip(slots.chunks(8)).enumerate() {
        let passages = bounds.iter_mut().zip(slots).zip(&mut lanes).enumerate();
        for (lane, ((bound, slot), highest)) in passages {
            *bound = slot.score + pairs(chunk * 8 + lane, slot.in_body);
            *highest = if *bound > *highest { *bound } else { *highest };
        }
    }
    lanes
        .into_iter()
        .fold(0.0, |highest, lane| highest.max(lane))
}

/// One passage in this many counts in [`Buffers::histogram`]. The cut needs to be only
/// about where the batch ends (the passages below it are looked at again), and the
/// count, a dependent increment per passage, cost more than the rest of the pass.
const COUNTED_ONE_IN: usize = 4;

/// Scores every passage by the words and phrases, and marks which question words its
/// body holds (when `pairs_follow`), in `buffers`' arrays.
fn score_words(
    searcher: &Searcher,
    body: Field,
    words: &[Word],
    phrases: &[Box<dyn Weight>],
    pairs_follow: bool,
    buffers: &mut Buffers,
) -> tantivy::Result<Matched> {
    let mut starts = vec![0];
    for reader in searcher.segment_readers() {
        starts.push(starts.last().copied().unwrap_or(0) + reader.max_doc() as usize);
    }
    let total = starts.last().copied().unwrap_or(0);
    // One entry per bit up to the highest (a pair's word missing from bodies has none).
    let pair_words = words
        .iter()
        .map(|word| (u64::BITS - word.body_bit.leading_zeros()) as usize)
        .max()
        .filter(|_| pairs_follow)
        .unwrap_or(0);
    let mut matched = Matched {
        slots: Slots::cleared(buffers, pair_words, total),
        places: std::mem::take(&mut buffers.places),
        pair_words,
        starts,
    };
    // Only grown: its entries need no clearing, and a question with fewer pair words
    // than the last would otherwise zero them again for the next one with more.
    if matched.places.len() < pair_words * total {
        matched.places.resize(pair_words * total, 0);
    }
    for (segment, reader) in searcher.segment_readers().iter().enumerate() {
        let (start, end) = (matched.starts[segment], matched.starts[segment + 1]);
        let places = &mut matched.places[start * pair_words..end * pair_words];
        match &mut matched.slots {
            Slots::Narrow(slots) => {
                let slots = &mut slots[start..end];
                for word in words {
                    add_word(body, segment, word, slots, places, pair_words);
                }
                add_phrases(reader, phrases, slots)?;
            }
            Slots::Wide(slots) => {
                let slots = &mut slots[start..end];
                for word in words {
                    add_word(body, segment, word, slots, places, pair_words);
                }
                add_phrases(reader, phrases, slots)?;
            }
        }
    }
    Ok(matched)
}

/// Adds the phrases' scores in one segment to its `slots`.
fn add_phrases<B>(
    reader: &SegmentReader,
    phrases: &[Box<dyn Weight>],
    slots: &mut [Slot<B>],
) -> tantivy::Result<()> {
    for phrase in phrases {
        let mut scorer = phrase.scorer(reader, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            slots[doc as usize].score += scorer.score();
            doc = scorer.advance();
        }
    }
    Ok(())
}

/// Adds one word's score in one segment to its `slots`, and, when pairs follow (`stride`
/// entries per passage in `places`, 0 without pairs), marks the bodies holding it there
/// and where each is in the word's list of body factors in `places`.
fn add_word<B: BodyBits>(
    body: Field,
    segment: usize,
    word: &Word,
    slots: &mut [Slot<B>],
    places: &mut [u32],
    stride: usize,
) {
    let marks = word.body_bit != 0 && stride > 0;
    let body_bit = B::from_bit(word.body_bit);
    let bit = word.body_bit.trailing_zeros() as usize;
    // Each body's place in the word's positions, in body factor order: read before
    // scoring when the word is marked, from the same postings as the body factors, so
    // one place for each of them.
    let body_places = word
        .fields
        .iter()
        .find(|term| term.field == body)
        .and_then(|term| term.impacts.positions.get())
        .map_or(&[][..], |positions| &positions[segment].places[..]);
    match &word.merged {
        Some(merged) => {
            let merged = &merged[segment];
            if marks {
                debug_assert_eq!(merged.in_body.len(), body_places.len());
                for (&(doc, score), &place) in merged.in_body.iter().zip(body_places) {
                    let slot = &mut slots[doc as usize];
                    slot.score += score;
                    slot.in_body |= body_bit;
                    places[doc as usize * stride + bit] = place;
                }
            } else {
                for &(doc, score) in &merged.in_body {
                    slots[doc as usize].score += score;
                }
            }
            for &(doc, score) in &merged.elsewhere {
                slots[doc as usize].score += score;
            }
        }
        None => {
            for term in &word.fields {
                let factors = &term.impacts.factors[segment];
                if marks && term.field == body {
                    debug_assert_eq!(factors.len(), body_places.len());
                    for (&(doc, factor), &place) in factors.iter().zip(body_places) {
                        let slot = &mut slots[doc as usize];
                        slot.score += term.weight * factor;
                        slot.in_body |= body_bit;
                        places[doc as usize * stride + bit] = place;
                    }
                } else {
                    for &(doc, factor) in factors {
                        slots[doc as usize].score += term.weight * factor;
                    }
                }
            }
        }
    }
}

/// `merged` split into the passages of `body_factors` (the word's body list, whose
/// passages are among `merged`'s) and the others.
fn split_by_body(merged: Vec<(DocId, Score)>, body_factors: &[(DocId, Score)]) -> MergedScore {
    let mut split = MergedScore {
        in_body: Vec::with_capacity(body_factors.len()),
        elsewhere: Vec::with_capacity(merged.len() - body_factors.len().min(merged.len())),
    };
    let mut body = body_factors.iter().peekable();
    for (doc, score) in merged {
        if body.next_if(|&&(at, _)| at == doc).is_some() {
            split.in_body.push((doc, score));
        } else {
            split.elsewhere.push((doc, score));
        }
    }
    split
}

/// A word's score in each passage of one segment holding it in some of `fields`: its
/// best field's plus `tie_breaker` times the others', as tantivy's disjunction max
/// combines them.
fn merge_fields(fields: &[FieldTerm], segment: usize, tie_breaker: Score) -> Vec<(DocId, Score)> {
    let mut cursors: Vec<Cursor> = fields
        .iter()
        .map(|term| Cursor {
            factors: &term.impacts.factors[segment],
            weight: term.weight,
        })
        .filter(|cursor| !cursor.factors.is_empty())
        .collect();
    if let [cursor] = cursors.as_slice() {
        // Held in one field here: no disjunction to take.
        return cursor
            .factors
            .iter()
            .map(|&(doc, factor)| (doc, cursor.weight * factor))
            .collect();
    }
    let Some(longest) = (0..cursors.len()).max_by_key(|&i| cursors[i].factors.len()) else {
        return Vec::new();
    };
    // The longest list (the body, as a rule) is read straight through, with the others,
    // merged first, alongside it.
    let driver = cursors.swap_remove(longest);
    let side = merge(&mut cursors);
    let combined = |entry: &SideEntry| entry.best + (entry.sum - entry.best) * tie_breaker;
    let mut scores = Vec::with_capacity(driver.factors.len() + side.len());
    let mut next = 0;
    for &(doc, factor) in driver.factors {
        while next < side.len() && side[next].doc < doc {
            scores.push((side[next].doc, combined(&side[next])));
            next += 1;
        }
        let score = driver.weight * factor;
        match side.get(next) {
            Some(entry) if entry.doc == doc => {
                let both = SideEntry {
                    doc,
                    best: entry.best.max(score),
                    sum: entry.sum + score,
                };
                scores.push((doc, combined(&both)));
                next += 1;
            }
            _ => scores.push((doc, score)),
        }
    }
    scores.extend(
        side[next..]
            .iter()
            .map(|entry| (entry.doc, combined(entry))),
    );
    scores
}

/// A passage's scores in some fields of one word: the best and the sum.
struct SideEntry {
    doc: DocId,
    best: Score,
    sum: Score,
}

/// Merges the lists of `cursors` (short ones: titles and headings) by passage.
fn merge(cursors: &mut [Cursor]) -> Vec<SideEntry> {
    let mut merged = Vec::new();
    loop {
        let doc = cursors
            .iter()
            .filter_map(|c| c.factors.first())
            .map(|&(doc, _)| doc)
            .min();
        let Some(doc) = doc else {
            return merged;
        };
        let mut entry = SideEntry {
            doc,
            best: 0.0,
            sum: 0.0,
        };
        for cursor in cursors.iter_mut() {
            let Some(&(at, factor)) = cursor.factors.first() else {
                continue;
            };
            if at != doc {
                continue;
            }
            let score = cursor.weight * factor;
            entry.best = entry.best.max(score);
            entry.sum += score;
            cursor.factors = &cursor.factors[1..];
        }
        merged.push(entry);
    }
}

/// The most the pairs can add to a passage whose body holds the words of `in_body`: the
/// sum of the weights of the pairs whose words it holds (a phrase's BM25 stays below its
/// weight). With few words, a table of every combination.
struct PairBound {
    /// With few words: the exact sum for every combination of them.
    table: Vec<Score>,
    /// With more: a table per byte of the bits, each counting the pairs whose lower bit
    /// is in that byte, and whose other bit is held too when it is in the same byte. A
    /// pair spanning two bytes is counted whenever its lower word is held: a bound, a
    /// little above the exact sum (pairs are neighbours in the question, so most of
    /// them lie within a byte), for eight lookups a passage.
    bytes: Vec<[Score; 256]>,
}

/// Pairs' words up to which [`PairBound`] tabulates every combination (a table of
/// 2^this entries, each made from a smaller one).
const TABULATED_PAIR_WORDS: usize = 10;

impl PairBound {
    fn new(pairs: &[ScoredPair], words: usize) -> PairBound {
        let mut by_low: Vec<Vec<(usize, Score)>> = vec![Vec::new(); words];
        for pair in pairs {
            let (low, high) = (pair.bits.0.min(pair.bits.1), pair.bits.0.max(pair.bits.1));
            by_low[low].push((high, pair.most));
        }
        // The entry without its lowest bit, plus the pairs that bit completes.
        let fill =
            |table: &mut [Score], first_bit: usize, counts: &dyn Fn(usize, usize) -> bool| {
                for held in 1..table.len() {
                    let rest = held & (held - 1);
                    let low = first_bit + held.trailing_zeros() as usize;
                    table[held] = table[rest]
                        + by_low
                            .get(low)
                            .into_iter()
                            .flatten()
                            .filter(|&&(high, _)| counts(rest, high))
                            .map(|(_, weight)| weight)
                            .sum::<Score>();
                }
            };
        let mut bound = PairBound {
            table: Vec::new(),
            bytes: Vec::new(),
        };
        if words <= TABULATED_PAIR_WORDS {
            bound.table = vec![0.0; 1 << words];
            fill(&mut bound.table, 0, &|rest, high| rest & (1 << high) != 0);
        } else {
            for byte in 0..words.div_ceil(8) {
                let mut table = [0.0; 256];
                let first_bit = byte * 8;
                fill(&mut table, first_bit, &|rest, high| {
                    high >= first_bit + 8 || rest & (1 << (high - first_bit)) != 0
                });
                bound.bytes.push(table);
            }
        }
        bound
    }

    /// The exact sums for every combination of the words, when there are few.
    fn table(&self) -> Option<&[Score]> {
        (!self.table.is_empty()).then_some(&self.table[..])
    }

    fn of(&self, held: u64) -> Score {
        if let Some(&most) = self.table.get(held as usize) {
            return most;
        }
        self.bytes
            .iter()
            .enumerate()
            .map(|(byte, table)| table[(held >> (byte * 8)) as usize & 0xff])
            .sum()
    }
}

/// Counts the pairs in a candidate's body from the kept positions of their words.
struct PairScorer<'a> {
    /// [`Matched::places`], its entries per passage, and where each segment starts.
    places: &'a [u32],
    stride: usize,
    starts: &'a [usize],
    pairs: &'a [ScoredPair],
    /// Each pair word's lists in each segment, `words` per segment (by bit), reached
    /// in one step from a candidate rather than through the word's term.
    lists: Vec<BodyLists<'a>>,
    words: usize,
    norms: &'a [Score; 256],
    lengths: Vec<FieldNormReader>,
}

/// A pair word's factors in one segment's bodies, and its positions there (see
/// [`SegmentPositions`]).
#[derive(Clone, Copy, Default)]
struct BodyLists<'a> {
    factors: &'a [(DocId, Score)],
    positions: &'a [u32],
}

impl<'a> PairScorer<'a> {
    fn new(
        searcher: &'a Searcher,
        statistics: &'a Statistics,
        body: Field,
        by_bit: &'a [Option<&'a FieldTerm>],
        pairs: &'a [ScoredPair],
        matched: &'a Matched,
    ) -> tantivy::Result<PairScorer<'a>> {
        let segments = searcher.segment_readers().len();
        let mut lists = vec![BodyLists::default(); segments * by_bit.len()];
        for (bit, term) in by_bit.iter().enumerate() {
            let Some(term) = term.filter(|_| !pairs.is_empty()) else {
                continue;
            };
            let positions = term.impacts.positions(searcher, statistics, body)?;
            for (segment, kept) in positions.iter().enumerate() {
                lists[segment * by_bit.len() + bit] = BodyLists {
                    factors: &term.impacts.factors[segment],
                    positions: &kept.positions,
                };
            }
        }
        let lengths = searcher
            .segment_readers()
            .iter()
            .map(|reader| reader.get_fieldnorms_reader(body))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(PairScorer {
            places: &matched.places,
            stride: matched.pair_words,
            starts: &matched.starts,
            pairs,
            lists,
            words: by_bit.len(),
            norms: statistics.norms(body),
            lengths,
        })
    }

    /// Adds the candidates' pairs to their scores, into `scored`.
    fn score_into(&self, candidates: &[Candidate], scored: &mut Vec<Ranked>) {
        if self.pairs.is_empty() {
            scored.extend(candidates.iter().map(|c| self.ranked(c, c.partial)));
            return;
        }
        scored.reserve(candidates.len());
        let mut scratch = Scratch::new(self.words);
        for candidate in candidates {
            if let Some(total) = self.score(candidate, &mut scratch, 0.0) {
                scored.push(self.ranked(candidate, total));
            }
        }
    }

    /// Where the candidate is among all the segments' passages.
    fn passage(&self, candidate: &Candidate) -> usize {
        self.starts[candidate.segment as usize] + candidate.doc as usize
    }

    fn ranked(&self, candidate: &Candidate, score: Score) -> Ranked {
        Ranked::new(score, self.passage(candidate))
    }

    /// Like [`PairScorer::score_into`], for the candidates left after a first batch:
    /// highest bound first, until none left can reach the `limit`-th score in `scored`
    /// (`reached` to start with), which rises as they are scored. Long questions have
    /// dozens of pairs, whose bounds leave hundreds of candidates that cannot make it.
    fn score_best_first(
        &self,
        mut candidates: Vec<Candidate>,
        scored: &mut Vec<Ranked>,
        limit: usize,
        reached: Score,
    ) {
        if self.pairs.is_empty() || scored.len() < limit {
            return self.score_into(&candidates, scored);
        }
        candidates.sort_unstable_by(|a, b| b.bound.total_cmp(&a.bound));
        // The `limit` best scores so far, the lowest on top (those from `reached`, the
        // `limit`-th, up; and more on a tie).
        let kept = |lowest: Score| -> BinaryHeap<Ranked> {
            scored
                .iter()
                .filter(|ranked| ranked.score() >= lowest)
                .copied()
                .collect()
        };
        let mut best = kept(reached);
        if best.len() < limit {
            best = kept(Score::MIN);
        }
        while best.len() > limit {
            best.pop();
        }
        let mut scratch = Scratch::new(self.words);
        for candidate in &candidates {
            let lowest = best.peek().map_or(0.0, |lowest| lowest.score());
            if candidate.bound < lowest {
                break;
            }
            let Some(total) = self.score(candidate, &mut scratch, lowest) else {
                continue;
            };
            let ranked = self.ranked(candidate, total);
            scored.push(ranked);
            if total > lowest {
                best.pop();
                best.push(ranked);
            }
        }
    }

    /// The candidate's score with its pairs, or `None` when it is sure to stay below
    /// `needed`.
    fn score(
        &self,
        candidate: &Candidate,
        scratch: &mut Scratch<'a>,
        needed: Score,
    ) -> Option<Score> {
        let segment = candidate.segment as usize;
        let passage = self.passage(candidate);
        // Where the passage is in each held word's list (see `Matched::places`).
        let places = &self.places[passage * self.stride..(passage + 1) * self.stride];
        let lists = &self.lists[segment * self.words..(segment + 1) * self.words];
        let held_pairs = || {
            self.pairs
                .iter()
                .filter(|pair| candidate.in_body & pair.both == pair.both)
        };
        let positions = |bit: usize| positions_at(lists[bit].positions, places[bit]);
        let length_norm = || {
            let length = self.lengths[segment].fieldnorm_id(candidate.doc);
            self.norms[length as usize]
        };
        if needed > candidate.partial {
            // A pair is found at most as often as the rarer of its words in this
            // passage, so it adds at most its weight times the lower of their factors
            // here (with a margin for rounding). A word's factor is made from its
            // frequency, how many positions it has.
            let norm = length_norm();
            let factor = |bit: usize| term_factor(positions(bit).count() as Score, norm);
            let most: Score = held_pairs()
                .map(|pair| pair.weight * factor(pair.bits.0).min(factor(pair.bits.1)))
                .sum();
            let bound = candidate.partial + most;
            if bound + bound * 1e-5 < needed {
                return None;
            }
        }
        // Only the words of pairs the body may hold: most candidates hold none or one.
        let mut wanted = held_pairs().fold(0, |wanted, pair| wanted | pair.both);
        while wanted != 0 {
            let bit = wanted.trailing_zeros() as usize;
            wanted &= wanted - 1;
            scratch.found[bit] = positions(bit);
        }
        let mut total = candidate.partial;
        for pair in held_pairs() {
            let count = pair_count(pair, lists, &scratch.found);
            if count > 0 {
                let count = count as Score;
                total += pair.weight * term_factor(count, length_norm());
            }
        }
        Some(total)
    }
}

/// Per pair word, for the candidate being scored: its positions in the passage.
struct Scratch<'a> {
    found: Vec<Positions<'a>>,
}

impl<'a> Scratch<'a> {
    fn new(words: usize) -> Scratch<'a> {
        Scratch {
            found: vec![Positions::Several(&[]); words],
        }
    }
}

/// A scored passage as one number, lower for better: the score's bits (ordered as
/// `total_cmp` orders scores, then inverted) above the passage's place among all the
/// segments' passages, so that equal scores go by address. Numbers sort several times
/// faster than pairs compared by a closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ranked(u64);

impl Ranked {
    fn new(score: Score, passage: usize) -> Ranked {
        let bits = score.to_bits();
        // Negative scores have the sign bit set and order backwards as numbers.
        let ordered = if bits >> 31 == 1 {
            !bits
        } else {
            bits | 1 << 31
        };
        debug_assert!(passage <= u32::MAX as usize);
        Ranked(u64::from(!ordered) << 32 | passage as u64)
    }

    fn score(self) -> Score {
        let ordered = !((self.0 >> 32) as u32);
        Score::from_bits(if ordered >> 31 == 1 {
            ordered & !(1 << 31)
        } else {
            !ordered
        })
    }

    fn passage(self) -> usize {
        (self.0 & u64::from(u32::MAX)) as usize
    }
}

/// How often a pair is found in a passage whose words' positions are `found` (and
/// whose segment's lists of the words are `lists`), as tantivy counts it: its phrase
/// scorer walks the positions of the word in fewer passages of the segment (the first
/// of the two on a tie) against the other's, and the count depends on which leads.
fn pair_count(pair: &ScoredPair, lists: &[BodyLists], found: &[Positions]) -> u32 {
    let passages = |bit: usize| lists[bit].factors.len();
    let (mut first_room, mut second_room) = ([0], [0]);
    // The first word stands one place before the second.
    let first = (found[pair.bits.0].as_slice(&mut first_room), 1);
    let second = (found[pair.bits.1].as_slice(&mut second_room), 0);
    if passages(pair.bits.1) < passages(pair.bits.0) {
        sloppy_pair_count(second, first, PAIR_SLOP)
    } else {
        sloppy_pair_count(first, second, PAIR_SLOP)
    }
}

/// The `n`-th highest score of `scored` (1 for the highest), `None` when there are
/// fewer.
fn nth_best(mut scored: Vec<Ranked>, n: usize) -> Option<Score> {
    if n == 0 || scored.len() < n {
        return None;
    }
    let (_, nth, _) = scored.select_nth_unstable(n - 1);
    Some(nth.score())
}

/// The `limit` best of `scored`, best first, equal scores by address; `starts` is
/// where each segment's passages start.
fn best(mut scored: Vec<Ranked>, limit: usize, starts: &[usize]) -> Vec<(Score, DocAddress)> {
    if scored.len() > limit {
        scored.select_nth_unstable(limit - 1);
        scored.truncate(limit);
    }
    scored.sort_unstable();
    scored
        .into_iter()
        .map(|ranked| {
            let passage = ranked.passage();
            let segment = starts.partition_point(|&start| start <= passage) - 1;
            let doc = passage - starts[segment];
            (
                ranked.score(),
                DocAddress::new(segment as u32, doc as DocId),
            )
        })
        .collect()
}

/// How often two words stand within `slop` of each other once each one's positions
/// are shifted by its offset (so that the phrase's words line up), each position used
/// once: the phrase frequency tantivy gives a two-word phrase with slop, `leading`
/// being the word its scorer walks.
fn sloppy_pair_count(leading: (&[u32], u32), other: (&[u32], u32), slop: u32) -> u32 {
    let ((left, left_shift), (right, right_shift)) = (leading, other);
    // One position on either side (three pairs in four on SciFact): the walk below finds
    // the pair once if any position of the other word is near it, which a pass without
    // a branch per position tells faster than the walk's unpredictable ones.
    let near = |at: u32, positions: &[u32], shift: u32| {
        let near = positions.iter().fold(false, |near, &position| {
            near | ((position + shift).abs_diff(at) <= slop)
        });
        u32::from(near)
    };
    match (left, right) {
        ([only], _) => return near(only + left_shift, right, right_shift),
        (_, [only]) => return near(only + right_shift, left, left_shift),
        _ => {}
    }
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        let at = left[i] + left_shift;
        let against = right[j] + right_shift;
        if at.abs_diff(against) <= slop {
            // A later position of the leading word may be closer to this one.
            while i + 1 < left.len() && left[i + 1] + left_shift <= against {
                i += 1;
            }
            count += 1;
            i += 1;
            j += 1;
        } else if at < against {
            i += 1;
        } else {
            j += 1;
        }
    }
    count
}

/// A word's factors in one field of one segment, being read, with what scores them.
struct Cursor<'w> {
    factors: &'w [(DocId, Score)],
    weight: Score,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Clause, Pair};
    use proptest::prelude::*;
    use tantivy::collector::TopDocs;
    use tantivy::schema::{Schema, STRING, TEXT};
    use tantivy::{doc, Index};

    const WORDS: &[&str] = &["orbit", "moon", "probe", "launch", "crew", "dock", "solar"];

    /// Three text fields over a small vocabulary, in three segments, some passages
    /// deleted: enough for every part of a plan to score differently per passage.
    fn index(passages: &[(String, String, String)], deleted: &[usize]) -> (Index, [Field; 3]) {
        let mut schema = Schema::builder();
        let id = schema.add_text_field("id", STRING);
        let fields = [
            schema.add_text_field("title", TEXT),
            schema.add_text_field("heading", TEXT),
            schema.add_text_field("body", TEXT),
        ];
        let index = Index::create_in_ram(schema.build());
        let mut writer = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        for (n, chunk) in passages.chunks(passages.len().div_ceil(3)).enumerate() {
            for (i, (title, heading, body)) in chunk.iter().enumerate() {
                let key = format!("{}", n * 1000 + i);
                writer
                    .add_document(doc!(id => key, fields[0] => title.as_str(),
                        fields[1] => heading.as_str(), fields[2] => body.as_str()))
                    .expect("add");
            }
            writer.commit().expect("commit");
        }
        for &d in deleted {
            let n = d % passages.len();
            let chunk = passages.len().div_ceil(3);
            let key = format!("{}", (n / chunk) * 1000 + n % chunk);
            writer.delete_term(Term::from_field_text(id, &key));
        }
        writer.commit().expect("commit");
        (index, fields)
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(WORDS), 0..max).prop_map(|w| w.join(" "))
    }

    /// A plan as `plan_query` makes them: each question word in a chosen set of fields
    /// with its boost, pairs of question words found in bodies, maybe a phrase.
    fn plan(
        body: Field,
        fields: [Field; 3],
        picks: &[(usize, u8, f32)],
        phrase: bool,
    ) -> QueryPlan {
        let mut plan = QueryPlan {
            tie_breaker: 0.2,
            ..QueryPlan::default()
        };
        for (place, &(word, mask, boost)) in picks.iter().enumerate() {
            let chosen: Vec<(Field, f32)> = fields
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, &field)| (field, boost))
                .collect();
            plan.clauses.push(Clause {
                tokens: vec![WORDS[word].to_string()],
                fields: chosen,
                term: Some(place),
            });
        }
        let in_body = |place: usize| picks[place].1 & 4 != 0;
        for place in 1..picks.len() {
            if in_body(place - 1) && in_body(place) && picks[place - 1].0 != picks[place].0 {
                plan.pairs.push(Pair {
                    terms: (place - 1, place),
                    tokens: (
                        WORDS[picks[place - 1].0].into(),
                        WORDS[picks[place].0].into(),
                    ),
                    boost: 0.15,
                });
            }
        }
        if phrase {
            plan.clauses.push(Clause {
                tokens: vec!["solar".into(), "probe".into()],
                fields: vec![(fields[0], 0.4), (body, 0.4)],
                term: None,
            });
        }
        plan
    }

    #[test]
    fn no_passages_when_no_word_is_found() {
        // More passages than any batch, none holding the word: every bound is 0.
        let passages = vec![(String::new(), String::new(), "crew".to_string()); 40];
        let (index, fields) = index(&passages, &[]);
        let searcher = index.reader().expect("reader").searcher();
        let plan = plan(fields[2], fields, &[(0, 7, 1.0)], false);
        let statistics = Statistics::new(&searcher, &fields).expect("statistics");
        let found = top_passages(&searcher, &statistics, &plan, fields[2], 1).expect("scoring");
        assert!(found.is_empty(), "{found:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn the_same_passages_and_scores_as_tantivy(
            passages in prop::collection::vec((text(3), text(3), text(24)), 3..40),
            deleted in prop::collection::vec(0usize..40, 0..4),
            picks in prop::collection::vec((0..WORDS.len(), 1u8..8, 0.3f32..2.0), 1..5),
            phrase in any::<bool>(),
            limit in 1usize..12,
        ) {
            let (index, fields) = index(&passages, &deleted);
            let searcher = index.reader().expect("reader").searcher();
            let body = fields[2];
            let plan = plan(body, fields, &picks, phrase);
            let expected = searcher
                .search(&*plan.to_query(body), &TopDocs::with_limit(limit).order_by_score())
                .expect("search");
            let statistics = Statistics::new(&searcher, &fields).expect("statistics");
            let found = top_passages(&searcher, &statistics, &plan, body, limit).expect("scoring");
            prop_assert_eq!(found.len(), expected.len());
            for (got, want) in found.iter().zip(&expected) {
                prop_assert!((got.0 - want.0).abs() <= 1e-4 * want.0.max(1.0), "{found:?} {expected:?}");
            }
            // Passages clearly above the last score kept must be the same ones.
            if let Some(&(last, _)) = expected.last() {
                let clear = |top: &[(Score, DocAddress)]| {
                    let mut kept: Vec<DocAddress> =
                        top.iter().filter(|(s, _)| *s > last + 1e-4).map(|&(_, a)| a).collect();
                    kept.sort();
                    kept
                };
                prop_assert_eq!(clear(&found), clear(&expected));
            }
        }

        #[test]
        fn ranked_passages_order_by_score_then_address(
            scored in prop::collection::vec((any::<f32>(), 0usize..1 << 20), 0..50),
        ) {
            let order = |a: &(Score, usize), b: &(Score, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            let mut expected = scored.clone();
            expected.sort_by(order);
            let mut ranked: Vec<Ranked> =
                scored.iter().map(|&(score, passage)| Ranked::new(score, passage)).collect();
            ranked.sort_unstable();
            let found: Vec<(Score, usize)> =
                ranked.iter().map(|r| (r.score(), r.passage())).collect();
            prop_assert_eq!(found.len(), expected.len());
            for (got, want) in found.iter().zip(&expected) {
                prop_assert_eq!(got.0.to_bits(), want.0.to_bits());
                prop_assert_eq!(got.1, want.1);
            }
        }
    }
}
