//! Compiles the typed query AST of `searchgate-core` into tantivy queries, for one
//! index (its field table decides what each field means).
//!
//! Scoring follows OpenSearch and Elasticsearch so that scores and `min_score` mean
//! the same: both score text with Lucene's `LegacyBM25Similarity`, which keeps the
//! `(k1 + 1)` factor that tantivy's BM25 also has (checked on a real OpenSearch
//! 2.19.6: its scores are exactly 2.2 times the factor-less formula). What differs
//! is the statistics: BM25-scored leaves are wrapped in [`LuceneBm25`], which takes
//! `docCount` and `avgdl` over the documents that have the field, as Lucene does,
//! where tantivy would count all documents. Filters and term-level clauses other
//! than `term` score as constants, as in ES.

use crate::analysis;
use crate::dates::{self, Round};
use crate::fields::{FieldInfo, FieldTable};
use searchgate_core::dsl::*;
use searchgate_core::model::FieldType;
use searchgate_core::{Error, Result};
use std::ops::Bound;
use tantivy::query::{
    AllQuery, Bm25StatisticsProvider, BooleanQuery, BoostQuery, ConstScoreQuery,
    DisjunctionMaxQuery, EmptyQuery, EnableScoring, Occur, PhraseQuery, Query as TQuery,
    RangeQuery as TRangeQuery, RegexQuery, TermQuery as TTermQuery, TermSetQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

type Q = Box<dyn TQuery>;

pub struct CompileCtx<'a> {
    pub table: &'a FieldTable,
    pub now_ms: i64,
}

/// Statistics as Lucene computes them for one field: `docCount` is the number of
/// documents that have the field (from `_field_names`), not all documents.
struct FieldStats<'a> {
    searcher: &'a Searcher,
    doc_count: u64,
}

impl Bm25StatisticsProvider for FieldStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.searcher.total_num_tokens(field)
    }
    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.doc_count.max(1))
    }
    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.searcher.doc_freq(term)
    }
}

/// Scores `inner` (BM25 leaves on one field) the way Lucene does.
#[derive(Debug)]
pub struct LuceneBm25 {
    inner: Box<dyn TQuery>,
    field_names: Field,
    path: String,
}

impl Clone for LuceneBm25 {
    fn clone(&self) -> Self {
        LuceneBm25 {
            inner: self.inner.box_clone(),
            field_names: self.field_names,
            path: self.path.clone(),
        }
    }
}

impl TQuery for LuceneBm25 {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        match scoring {
            EnableScoring::Enabled { searcher, .. } => {
                let doc_count =
                    searcher.doc_freq(&Term::from_field_text(self.field_names, &self.path))?;
                let stats = FieldStats {
                    searcher,
                    doc_count,
                };
                self.inner
                    .weight(EnableScoring::enabled_from_statistics_provider(
                        &stats, searcher,
                    ))
            }
            disabled => self.inner.weight(disabled),
        }
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor)
    }
}

fn bm25(ctx: &CompileCtx, info: &FieldInfo, inner: Q, boost: f32) -> Q {
    Box::new(LuceneBm25 {
        inner: boosted(inner, boost),
        field_names: ctx.table.field_names,
        path: info.path.clone(),
    })
}

fn constant(q: Q, boost: f32) -> Q {
    Box::new(ConstScoreQuery::new(q, boost))
}

fn boosted(q: Q, boost: f32) -> Q {
    if (boost - 1.0).abs() < f32::EPSILON {
        q
    } else {
        Box::new(BoostQuery::new(q, boost))
    }
}

fn none() -> Q {
    Box::new(EmptyQuery)
}

fn query_shard_error(reason: String) -> Error {
    Error::new(
        400,
        "query_shard_exception",
        "failed to create query: ".to_string() + &reason,
    )
}

/// The term for a value on a non-text field; `Ok(None)` when the value cannot
/// exist in the field.
fn typed_term(info: &FieldInfo, field: Field, v: &Scalar, now_ms: i64) -> Result<Option<Term>> {
    let text = v.as_text();
    let bad = |what: &str| query_shard_error(format!("{what} [{text}] for field [{}]", info.path));
    Ok(Some(match info.ty {
        FieldType::Text | FieldType::Keyword => Term::from_field_text(field, &text),
        t if t.is_integer() => {
            let i = match v {
                Scalar::Int(i) => *i,
                Scalar::Float(f) if f.fract() == 0.0 => *f as i64,
                Scalar::Float(_) => return Ok(None),
                _ => text.trim().parse::<i64>().or_else(|_| {
                    text.trim()
                        .parse::<f64>()
                        .map_err(|_| bad("For input string"))
                        .and_then(|f| {
                            if f.fract() == 0.0 {
                                Ok(f as i64)
                            } else {
                                Err(bad("Value is not an integer"))
                            }
                        })
                })?,
            };
            Term::from_field_i64(field, i)
        }
        t if t.is_float() => {
            let f = match v {
                Scalar::Int(i) => *i as f64,
                Scalar::Float(f) => *f,
                _ => text
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| bad("For input string"))?,
            };
            let f = if t == FieldType::Float {
                f as f32 as f64
            } else {
                f
            };
            Term::from_field_f64(field, f)
        }
        FieldType::Boolean => match text.as_str() {
            "true" => Term::from_field_bool(field, true),
            "false" | "" => Term::from_field_bool(field, false),
            _ => return Err(bad("Can't parse boolean value")),
        },
        t if t.is_date() => {
            let ms = match v {
                Scalar::Int(i) => *i,
                _ => dates::resolve(&text, info.format.as_deref(), now_ms, Round::Down)?,
            };
            Term::from_field_i64(field, ms)
        }
        _ => return Ok(None),
    }))
}

fn escape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~\"@<>".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn compile(q: &Query, ctx: &CompileCtx) -> Result<Q> {
    Ok(match q {
        Query::MatchAll { boost } => {
            if (*boost - 1.0).abs() < f32::EPSILON {
                Box::new(AllQuery)
            } else {
                constant(Box::new(AllQuery), *boost)
            }
        }
        Query::MatchNone => none(),
        Query::Match(m) => compile_match(
            ctx,
            &m.field,
            &m.query,
            m.operator,
            m.minimum_should_match.as_ref(),
            m.boost,
            m.lenient,
            m.zero_terms_query_all,
        )?,
        Query::MatchPhrase(m) => compile_phrase(ctx, &m.field, &m.query, m.slop, m.boost)?,
        Query::MultiMatch(m) => compile_multi_match(ctx, m)?,
        Query::QueryString(qs) => compile_query_string(ctx, qs)?,
        Query::Term(t) => compile_term(ctx, t)?,
        Query::Terms(t) => compile_terms(ctx, t)?,
        Query::Range(r) => compile_range(ctx, r)?,
        Query::Exists(e) => constant(
            Box::new(TTermQuery::new(
                Term::from_field_text(ctx.table.field_names, &e.field),
                IndexRecordOption::Basic,
            )),
            e.boost,
        ),
        Query::Prefix(p) => compile_prefix(ctx, p)?,
        Query::Ids(ids) => constant(
            Box::new(TermSetQuery::new(
                ids.values
                    .iter()
                    .map(|v| Term::from_field_text(ctx.table.id, v)),
            )),
            ids.boost,
        ),
        Query::Bool(b) => compile_bool(ctx, b)?,
        Query::ConstantScore(c) => constant(compile(&c.filter, ctx)?, c.boost),
        Query::Other { name, .. } => {
            return Err(Error::parsing(format!(
                "[{name}] query is not supported by the embedded engine"
            )))
        }
    })
}

fn compile_bool(ctx: &CompileCtx, b: &BoolQuery) -> Result<Q> {
    let mut clauses: Vec<(Occur, Q)> = Vec::new();
    for q in &b.must {
        clauses.push((Occur::Must, compile(q, ctx)?));
    }
    for q in &b.filter {
        clauses.push((Occur::Must, constant(compile(q, ctx)?, 0.0)));
    }
    for q in &b.should {
        clauses.push((Occur::Should, compile(q, ctx)?));
    }
    for q in &b.must_not {
        clauses.push((Occur::MustNot, compile(q, ctx)?));
    }
    if clauses.is_empty() {
        return Ok(boosted(Box::new(AllQuery), b.boost));
    }
    let has_required = !b.must.is_empty() || !b.filter.is_empty();
    if !has_required && b.should.is_empty() {
        // A purely negative bool matches everything else, scoring 0 (ES adds a
        // match_all filter).
        clauses.push((Occur::Must, constant(Box::new(AllQuery), 0.0)));
    }
    let msm = match &b.minimum_should_match {
        Some(m) => m.resolve(b.should.len()),
        None if !has_required && !b.should.is_empty() => 1,
        None => 0,
    };
    if !b.should.is_empty() && msm > b.should.len() {
        return Ok(none());
    }
    let q: Q = if (msm > 0 && has_required) || msm > 1 {
        Box::new(BooleanQuery::with_minimum_required_clauses(clauses, msm))
    } else {
        Box::new(BooleanQuery::new(clauses))
    };
    Ok(boosted(q, b.boost))
}

fn field_or_none<'a>(ctx: &'a CompileCtx, path: &str) -> Option<(&'a FieldInfo, Field)> {
    let info = ctx.table.get(path)?;
    Some((info, info.field?))
}

#[allow(clippy::too_many_arguments)]
fn compile_match(
    ctx: &CompileCtx,
    path: &str,
    query: &Scalar,
    op: Operator,
    msm: Option<&MinimumShouldMatch>,
    boost: f32,
    lenient: bool,
    zero_terms_all: bool,
) -> Result<Q> {
    if path == "_id" {
        return Ok(constant(
            Box::new(TTermQuery::new(
                Term::from_field_text(ctx.table.id, &query.as_text()),
                IndexRecordOption::Basic,
            )),
            boost,
        ));
    }
    let Some((info, field)) = field_or_none(ctx, path) else {
        return Ok(none());
    };
    match info.ty {
        FieldType::Text => {
            let terms = analysis::analyze(info.search_analyzer, &query.as_text());
            if terms.is_empty() {
                return Ok(if zero_terms_all {
                    Box::new(AllQuery)
                } else {
                    none()
                });
            }
            let leaves: Vec<Q> = terms
                .iter()
                .map(|t| -> Q {
                    Box::new(TTermQuery::new(
                        Term::from_field_text(field, t),
                        IndexRecordOption::WithFreqs,
                    ))
                })
                .collect();
            let inner: Q = if leaves.len() == 1 {
                leaves.into_iter().next().expect("one")
            } else {
                let n = leaves.len();
                match op {
                    Operator::And => Box::new(BooleanQuery::new(
                        leaves.into_iter().map(|q| (Occur::Must, q)).collect(),
                    )),
                    Operator::Or => {
                        let required = msm.map(|m| m.resolve(n)).unwrap_or(1).max(1);
                        let clauses = leaves.into_iter().map(|q| (Occur::Should, q)).collect();
                        if required > 1 {
                            Box::new(BooleanQuery::with_minimum_required_clauses(
                                clauses, required,
                            ))
                        } else {
                            Box::new(BooleanQuery::new(clauses))
                        }
                    }
                }
            };
            Ok(bm25(ctx, info, inner, boost))
        }
        FieldType::Keyword => {
            let term = Term::from_field_text(field, &query.as_text());
            Ok(bm25(
                ctx,
                info,
                Box::new(TTermQuery::new(term, IndexRecordOption::WithFreqs)),
                boost,
            ))
        }
        _ => match typed_term(info, field, query, ctx.now_ms) {
            Ok(Some(term)) => Ok(constant(
                Box::new(TTermQuery::new(term, IndexRecordOption::Basic)),
                boost,
            )),
            Ok(None) => Ok(none()),
            Err(_) if lenient => Ok(none()),
            Err(e) => Err(e),
        },
    }
}

fn compile_phrase(ctx: &CompileCtx, path: &str, text: &str, slop: u32, boost: f32) -> Result<Q> {
    let Some((info, field)) = field_or_none(ctx, path) else {
        return Ok(none());
    };
    if info.ty != FieldType::Text {
        return compile_match(
            ctx,
            path,
            &Scalar::Str(text.to_string()),
            Operator::Or,
            None,
            boost,
            false,
            false,
        );
    }
    let terms = analysis::analyze_with_positions(info.search_analyzer, text);
    match terms.len() {
        0 => Ok(none()),
        1 => Ok(bm25(
            ctx,
            info,
            Box::new(TTermQuery::new(
                Term::from_field_text(field, &terms[0].1),
                IndexRecordOption::WithFreqs,
            )),
            boost,
        )),
        _ => {
            let terms = terms
                .into_iter()
                .map(|(p, t)| (p, Term::from_field_text(field, &t)))
                .collect();
            Ok(bm25(
                ctx,
                info,
                Box::new(PhraseQuery::new_with_offset_and_slop(terms, slop)),
                boost,
            ))
        }
    }
}

/// `field^2` → (`field`, 2.0).
fn field_boost(spec: &str) -> (&str, f32) {
    match spec.rsplit_once('^') {
        Some((f, b)) => (f, b.parse().unwrap_or(1.0)),
        None => (spec, 1.0),
    }
}

/// The fields a `*` default searches: every text and keyword field.
fn default_fields(ctx: &CompileCtx) -> Vec<String> {
    let mut v: Vec<String> = ctx
        .table
        .by_path
        .values()
        .filter(|f| matches!(f.ty, FieldType::Text | FieldType::Keyword) && f.field.is_some())
        .map(|f| f.path.clone())
        .collect();
    v.sort();
    v
}

fn expand_fields(ctx: &CompileCtx, specs: &[String]) -> Vec<(String, f32)> {
    let specs: Vec<String> = if specs.is_empty() {
        vec!["*".into()]
    } else {
        specs.to_vec()
    };
    let mut out = Vec::new();
    for s in &specs {
        let (pattern, boost) = field_boost(s);
        if pattern == "*" {
            out.extend(default_fields(ctx).into_iter().map(|f| (f, boost)));
        } else {
            for info in ctx.table.matching(pattern) {
                out.push((info.path.clone(), boost));
            }
        }
    }
    out
}

fn compile_multi_match(ctx: &CompileCtx, m: &MultiMatchQuery) -> Result<Q> {
    let fields = expand_fields(ctx, &m.fields);
    let lenient = m.lenient || m.fields.is_empty() || m.fields.iter().any(|f| f.contains('*'));
    let mut per_field = Vec::new();
    for (f, b) in &fields {
        let q = match m.kind {
            MultiMatchType::Phrase | MultiMatchType::PhrasePrefix => {
                compile_phrase(ctx, f, &m.query.as_text(), m.slop, *b)?
            }
            _ => compile_match(
                ctx,
                f,
                &m.query,
                m.operator,
                m.minimum_should_match.as_ref(),
                *b,
                lenient,
                false,
            )?,
        };
        per_field.push(q);
    }
    if per_field.is_empty() {
        return Ok(none());
    }
    let q: Q = match m.kind {
        MultiMatchType::MostFields => Box::new(BooleanQuery::new(
            per_field.into_iter().map(|q| (Occur::Should, q)).collect(),
        )),
        _ => {
            let tie = m.tie_breaker.unwrap_or(0.0);
            Box::new(DisjunctionMaxQuery::with_tie_breaker(per_field, tie))
        }
    };
    Ok(boosted(q, m.boost))
}

fn compile_term(ctx: &CompileCtx, t: &TermQuery) -> Result<Q> {
    if t.field == "_id" {
        return Ok(constant(
            Box::new(TTermQuery::new(
                Term::from_field_text(ctx.table.id, &t.value.as_text()),
                IndexRecordOption::Basic,
            )),
            t.boost,
        ));
    }
    let Some((info, field)) = field_or_none(ctx, &t.field) else {
        return Ok(none());
    };
    if t.case_insensitive && matches!(info.ty, FieldType::Keyword | FieldType::Text) {
        let re = format!("(?i){}", escape_regex(&t.value.as_text()));
        let q = RegexQuery::from_pattern(&re, field)
            .map_err(|e| Error::illegal_argument(e.to_string()))?;
        return Ok(constant(Box::new(q), t.boost));
    }
    match info.ty {
        FieldType::Text | FieldType::Keyword => {
            let term = Term::from_field_text(field, &t.value.as_text());
            Ok(bm25(
                ctx,
                info,
                Box::new(TTermQuery::new(term, IndexRecordOption::WithFreqs)),
                t.boost,
            ))
        }
        _ => match typed_term(info, field, &t.value, ctx.now_ms)? {
            Some(term) => Ok(constant(
                Box::new(TTermQuery::new(term, IndexRecordOption::Basic)),
                t.boost,
            )),
            None => Ok(none()),
        },
    }
}

fn compile_terms(ctx: &CompileCtx, t: &TermsQuery) -> Result<Q> {
    if t.field == "_id" {
        let terms: Vec<Term> = t
            .values
            .iter()
            .map(|v| Term::from_field_text(ctx.table.id, &v.as_text()))
            .collect();
        return Ok(constant(Box::new(TermSetQuery::new(terms)), t.boost));
    }
    let Some((info, field)) = field_or_none(ctx, &t.field) else {
        return Ok(none());
    };
    let mut terms = Vec::new();
    for v in &t.values {
        if let Some(term) = typed_term(info, field, v, ctx.now_ms)? {
            terms.push(term);
        }
    }
    if terms.is_empty() {
        return Ok(none());
    }
    Ok(constant(Box::new(TermSetQuery::new(terms)), t.boost))
}

fn compile_prefix(ctx: &CompileCtx, p: &PrefixQuery) -> Result<Q> {
    let field = if p.field == "_id" {
        ctx.table.id
    } else {
        let Some((info, field)) = field_or_none(ctx, &p.field) else {
            return Ok(none());
        };
        if !matches!(info.ty, FieldType::Keyword | FieldType::Text) {
            return Err(query_shard_error(format!(
                "Can only use prefix queries on keyword and text fields - not on [{}] which is of type [{}]",
                p.field,
                info.ty.name()
            )));
        }
        field
    };
    if p.case_insensitive {
        let re = format!("(?i){}.*", escape_regex(&p.value));
        let q = RegexQuery::from_pattern(&re, field)
            .map_err(|e| Error::illegal_argument(e.to_string()))?;
        return Ok(constant(Box::new(q), p.boost));
    }
    // The terms with a prefix are a term range: on a fast field tantivy filters the
    // column by ordinal range instead of walking the term dictionary with an
    // automaton. U+10FFFF (a noncharacter) bounds everything that extends `p`.
    let upper = format!("{}\u{10FFFF}", p.value);
    let q = TRangeQuery::new(
        Bound::Included(Term::from_field_text(field, &p.value)),
        Bound::Excluded(Term::from_field_text(field, &upper)),
    );
    Ok(constant(Box::new(q), p.boost))
}

fn compile_range(ctx: &CompileCtx, r: &RangeQuery) -> Result<Q> {
    let Some((info, field)) = field_or_none(ctx, &r.field) else {
        return Ok(none());
    };
    let (lower, upper): (Bound<Term>, Bound<Term>) = match info.ty {
        t if t.is_integer() => {
            let num = |v: &Scalar| -> Result<f64> {
                match v {
                    Scalar::Int(i) => Ok(*i as f64),
                    Scalar::Float(f) => Ok(*f),
                    other => other.as_text().trim().parse::<f64>().map_err(|_| {
                        query_shard_error(format!("For input string: \"{}\"", other.as_text()))
                    }),
                }
            };
            // Exact for integers beyond f64's precision too.
            let int = |v: &Scalar| -> Option<i64> {
                match v {
                    Scalar::Int(i) => Some(*i),
                    Scalar::Str(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                }
            };
            let lower = match (&r.gte, &r.gt) {
                (Some(v), _) => Bound::Included(int(v).unwrap_or(num(v)?.ceil() as i64)),
                (None, Some(v)) => match int(v) {
                    Some(i) => Bound::Excluded(i),
                    None => Bound::Included(num(v)?.floor() as i64 + 1),
                },
                _ => Bound::Unbounded,
            };
            let upper = match (&r.lte, &r.lt) {
                (Some(v), _) => Bound::Included(int(v).unwrap_or(num(v)?.floor() as i64)),
                (None, Some(v)) => match int(v) {
                    Some(i) => Bound::Excluded(i),
                    None => Bound::Included(num(v)?.ceil() as i64 - 1),
                },
                _ => Bound::Unbounded,
            };
            (
                lower.map(|i| Term::from_field_i64(field, i)),
                upper.map(|i| Term::from_field_i64(field, i)),
            )
        }
        t if t.is_date() => {
            let format = r.format.as_deref().or(info.format.as_deref());
            let resolve = |v: &Scalar, round| -> Result<i64> {
                match v {
                    Scalar::Int(i)
                        if format.map(|f| f.contains("epoch_second")).unwrap_or(false) =>
                    {
                        Ok(i * 1000)
                    }
                    Scalar::Int(i) => Ok(*i),
                    other => dates::resolve(&other.as_text(), format, ctx.now_ms, round),
                }
            };
            let lower = match (&r.gte, &r.gt) {
                (Some(v), _) => Bound::Included(resolve(v, Round::Down)?),
                (None, Some(v)) => Bound::Excluded(resolve(v, Round::Up)?),
                _ => Bound::Unbounded,
            };
            let upper = match (&r.lte, &r.lt) {
                (Some(v), _) => Bound::Included(resolve(v, Round::Up)?),
                (None, Some(v)) => Bound::Excluded(resolve(v, Round::Down)?),
                _ => Bound::Unbounded,
            };
            (
                lower.map(|i| Term::from_field_i64(field, i)),
                upper.map(|i| Term::from_field_i64(field, i)),
            )
        }
        _ => {
            let term = |v: &Scalar| -> Result<Term> {
                typed_term(info, field, v, ctx.now_ms)?.ok_or_else(|| {
                    query_shard_error(format!("bad range bound for field [{}]", r.field))
                })
            };
            let lower = match (&r.gte, &r.gt) {
                (Some(v), _) => Bound::Included(term(v)?),
                (None, Some(v)) => Bound::Excluded(term(v)?),
                _ => Bound::Unbounded,
            };
            let upper = match (&r.lte, &r.lt) {
                (Some(v), _) => Bound::Included(term(v)?),
                (None, Some(v)) => Bound::Excluded(term(v)?),
                _ => Bound::Unbounded,
            };
            (lower, upper)
        }
    };
    if matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded)) {
        // ES: an open range matches documents that have the field.
        return Ok(constant(
            Box::new(TTermQuery::new(
                Term::from_field_text(ctx.table.field_names, &info.path),
                IndexRecordOption::Basic,
            )),
            r.boost,
        ));
    }
    Ok(constant(Box::new(TRangeQuery::new(lower, upper)), r.boost))
}

/// The `q=` / `query_string` subset: terms and `field:value` pairs, quoted phrases,
/// `AND`/`OR`, `+`/`-` prefixes, and `field:[a TO b]` ranges.
fn compile_query_string(ctx: &CompileCtx, qs: &QueryStringQuery) -> Result<Q> {
    let mut fields = qs.fields.clone();
    if fields.is_empty() {
        fields.push(qs.default_field.clone().unwrap_or_else(|| "*".into()));
    }
    let tokens = tokenize_query_string(&qs.query);
    let mut must = Vec::new();
    let mut should = Vec::new();
    let mut must_not = Vec::new();
    let mut pending_and = false;
    let mut i = 0;
    let mut groups: Vec<(Occur, Q)> = Vec::new();
    while i < tokens.len() {
        let tok = &tokens[i];
        i += 1;
        match tok.as_str() {
            "AND" | "&&" => {
                pending_and = true;
                continue;
            }
            "OR" | "||" => continue,
            _ => {}
        }
        let (occur_prefix, body) = match tok.chars().next() {
            Some('+') => (Some(Occur::Must), &tok[1..]),
            Some('-') | Some('!') => (Some(Occur::MustNot), &tok[1..]),
            _ => (None, tok.as_str()),
        };
        let (field_specs, value): (Vec<String>, &str) = match body.split_once(':') {
            Some((f, v)) if !f.is_empty() && !f.starts_with('"') => (vec![f.to_string()], v),
            _ => (fields.clone(), body),
        };
        let q = query_string_clause(
            ctx,
            &field_specs,
            value,
            qs.lenient || field_specs.iter().any(|f| f.contains('*')),
        )?;
        let next_is_and = tokens
            .get(i)
            .map(|t| t == "AND" || t == "&&")
            .unwrap_or(false);
        let occur = occur_prefix.unwrap_or(
            if qs.default_operator == Operator::And || pending_and || next_is_and {
                Occur::Must
            } else {
                Occur::Should
            },
        );
        pending_and = false;
        groups.push((occur, q));
    }
    for (occur, q) in groups {
        match occur {
            Occur::Must => must.push(q),
            Occur::MustNot => must_not.push(q),
            Occur::Should => should.push(q),
        }
    }
    if must.is_empty() && should.is_empty() && must_not.is_empty() {
        return Ok(none());
    }
    let mut clauses: Vec<(Occur, Q)> = Vec::new();
    clauses.extend(must.into_iter().map(|q| (Occur::Must, q)));
    clauses.extend(should.into_iter().map(|q| (Occur::Should, q)));
    let only_negative = clauses.is_empty();
    clauses.extend(must_not.into_iter().map(|q| (Occur::MustNot, q)));
    if only_negative {
        clauses.push((Occur::Must, constant(Box::new(AllQuery), 0.0)));
    }
    Ok(boosted(Box::new(BooleanQuery::new(clauses)), qs.boost))
}

fn query_string_clause(
    ctx: &CompileCtx,
    field_specs: &[String],
    value: &str,
    lenient: bool,
) -> Result<Q> {
    let fields = expand_fields(ctx, field_specs);
    let mut per_field = Vec::new();
    for (f, boost) in fields {
        let q = if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            compile_phrase(ctx, &f, inner, 0, boost)?
        } else if (value.starts_with('[') || value.starts_with('{')) && value.contains(" TO ") {
            let incl_lo = value.starts_with('[');
            let incl_hi = value.ends_with(']');
            let inner = &value[1..value.len() - 1];
            let (lo, hi) = inner.split_once(" TO ").unwrap_or((inner, "*"));
            let b = |s: &str| (s.trim() != "*").then(|| Scalar::Str(s.trim().to_string()));
            let r = RangeQuery {
                field: f.clone(),
                gte: if incl_lo { b(lo) } else { None },
                gt: if incl_lo { None } else { b(lo) },
                lte: if incl_hi { b(hi) } else { None },
                lt: if incl_hi { None } else { b(hi) },
                format: None,
                time_zone: None,
                boost,
            };
            compile_range(ctx, &r)?
        } else if value.ends_with('*') && !value[..value.len() - 1].contains('*') {
            let p = PrefixQuery {
                field: f.clone(),
                value: value[..value.len() - 1].to_lowercase(),
                case_insensitive: false,
                boost,
            };
            match compile_prefix(ctx, &p) {
                Ok(q) => q,
                Err(_) if lenient => continue,
                Err(e) => return Err(e),
            }
        } else {
            compile_match(
                ctx,
                &f,
                &Scalar::Str(value.to_string()),
                Operator::Or,
                None,
                boost,
                lenient,
                false,
            )?
        };
        per_field.push(q);
    }
    Ok(match per_field.len() {
        0 => none(),
        1 => per_field.into_iter().next().expect("one"),
        _ => Box::new(DisjunctionMaxQuery::new(per_field)),
    })
}

fn tokenize_query_string(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut in_range = false;
    for c in s.chars() {
        match c {
            '"' => {
                in_quote = !in_quote;
                cur.push(c);
            }
            '[' | '{' if !in_quote => {
                in_range = true;
                cur.push(c);
            }
            ']' | '}' if !in_quote => {
                in_range = false;
                cur.push(c);
            }
            c if c.is_whitespace() && !in_quote && !in_range => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qs_tokens() {
        assert_eq!(
            tokenize_query_string("a:b \"c d\" e:[1 TO 5]"),
            vec!["a:b", "\"c d\"", "e:[1 TO 5]"]
        );
    }

    #[test]
    fn regex_escape() {
        assert_eq!(escape_regex("a.b*"), "a\\.b\\*");
    }
}
