//! MLflow's search grammar: `filter_string` (clauses joined by `AND`) and
//! `order_by`, evaluated on the entities a search loads.
//!
//! A clause is `KEY OP VALUE`, `KEY [NOT] IN ('a', 'b')` or
//! `KEY IS [NOT] NULL`. A key is `metrics.x`, `params.x`, `tags.x`,
//! `attributes.x` (with MLflow's short forms `metric.`, `param.`, `tag.`,
//! `attribute.`, `attr.`, `run.`), or a bare attribute; a key with spaces or
//! dots is quoted with backticks or double quotes. Strings take single or
//! double quotes; `LIKE` and `ILIKE` use SQL's `%` and `_`.

use std::cmp::Ordering;

use crate::error::{ApiError, ApiResult};

/// Where a key is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Metric,
    Param,
    Tag,
    Attribute,
    Dataset,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub kind: Kind,
    pub name: String,
}

/// A value an entity holds under a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(f64),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    ILike,
    In,
    NotIn,
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    key: Key,
    op: Op,
    values: Vec<Val>,
}

/// What a search runs over: each entity answers lookups by key.
pub trait Searchable {
    fn lookup(&self, key: &Key) -> Option<Val>;
}

/// How a missing key meets `!=`: runs exclude the run (as MLflow's SQL
/// join does); registry searches include the model (so MLflow's own
/// ``tag.`mlflow.prompt.is_prompt` != 'true'`` keeps models without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Excluded,
    NotEqualMatches,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    /// Backtick-quoted (always a key part).
    Tick(String),
    Num(f64),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn lex(input: &str) -> ApiResult<Vec<Tok>> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' || c == '`' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(bad(input, &format!("unterminated {c}quoted{c} value")));
                    }
                    Some(&d) if d == c => {
                        // SQL's doubled quote is a literal quote.
                        if chars.get(i + 1) == Some(&c) && c != '`' {
                            s.push(c);
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    }
                    Some(&d) => {
                        s.push(d);
                        i += 1;
                    }
                }
            }
            out.push(match c {
                '`' => Tok::Tick(s),
                _ => Tok::Quoted(s),
            });
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else if "=!<>".contains(c) {
            let mut s = String::from(c);
            i += 1;
            while let Some(&d) = chars.get(i) {
                if "=!<>".contains(d) {
                    s.push(d);
                    i += 1;
                } else {
                    break;
                }
            }
            out.push(Tok::Op(s));
        } else if c.is_ascii_digit()
            || ((c == '-' || c == '+' || c == '.')
                && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while let Some(&d) = chars.get(i) {
                if d.is_ascii_alphanumeric()
                    || d == '.'
                    || ((d == '-' || d == '+') && matches!(chars[i - 1], 'e' | 'E'))
                {
                    i += 1;
                } else {
                    break;
                }
            }
            let text: String = chars[start..i].iter().collect();
            match text.parse::<f64>() {
                Ok(n) => out.push(Tok::Num(n)),
                Err(_) => out.push(Tok::Word(text)),
            }
        } else if c.is_alphanumeric() || c == '_' || c == '.' {
            let start = i;
            while let Some(&d) = chars.get(i) {
                if d.is_alphanumeric() || d == '_' || d == '.' || d == '-' || d == ':' || d == '/' {
                    i += 1;
                } else if (d == '`' || d == '"') && chars[i - 1] == '.' {
                    // `tags.` followed by a quoted key: the quote is lexed next.
                    break;
                } else {
                    break;
                }
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            return Err(bad(input, &format!("unexpected character `{c}`")));
        }
    }
    Ok(out)
}

fn bad(filter: &str, why: &str) -> ApiError {
    ApiError::invalid(format!("Invalid filter '{filter}': {why}"))
}

fn kind_of(prefix: &str) -> Option<Kind> {
    Some(match prefix.to_ascii_lowercase().as_str() {
        "metrics" | "metric" => Kind::Metric,
        "params" | "param" | "parameters" | "parameter" => Kind::Param,
        "tags" | "tag" => Kind::Tag,
        "attributes" | "attribute" | "attr" | "run" => Kind::Attribute,
        "datasets" | "dataset" => Kind::Dataset,
        _ => return None,
    })
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    src: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn word_is(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
    }

    fn key(&mut self) -> ApiResult<Key> {
        match self.next() {
            Some(Tok::Word(w)) => {
                if let Some(prefix) = w.strip_suffix('.') {
                    // `tags.` then a quoted key
                    let kind = kind_of(prefix).ok_or_else(|| {
                        bad(self.src, &format!("unknown entity type `{prefix}`; use metrics., params., tags. or attributes."))
                    })?;
                    match self.next() {
                        Some(Tok::Tick(k)) | Some(Tok::Quoted(k)) => Ok(Key { kind, name: k }),
                        _ => Err(bad(self.src, &format!("`{w}` must be followed by a key"))),
                    }
                } else if let Some((prefix, rest)) = w.split_once('.') {
                    match kind_of(prefix) {
                        Some(kind) => Ok(Key {
                            kind,
                            name: rest.to_string(),
                        }),
                        None => Err(bad(
                            self.src,
                            &format!(
                                "unknown entity type `{prefix}` in `{w}`; use metrics., params., tags. or attributes."
                            ),
                        )),
                    }
                } else {
                    Ok(Key {
                        kind: Kind::Attribute,
                        name: w,
                    })
                }
            }
            Some(Tok::Tick(k)) => Ok(Key {
                kind: Kind::Attribute,
                name: k,
            }),
            other => Err(bad(
                self.src,
                &format!("expected a key, found {}", describe(other.as_ref())),
            )),
        }
    }

    fn value(&mut self) -> ApiResult<Val> {
        match self.next() {
            Some(Tok::Quoted(s)) => Ok(Val::Str(s)),
            Some(Tok::Num(n)) => Ok(Val::Num(n)),
            other => Err(bad(
                self.src,
                &format!(
                    "expected a value (a number or a 'quoted string'), found {}",
                    describe(other.as_ref())
                ),
            )),
        }
    }

    fn clause(&mut self) -> ApiResult<Clause> {
        let key = self.key()?;
        let op = match self.next() {
            Some(Tok::Op(o)) => match o.as_str() {
                "=" | "==" => Op::Eq,
                "!=" | "<>" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                _ => {
                    return Err(bad(
                        self.src,
                        &format!(
                            "invalid comparator `{o}`; use =, !=, <, <=, >, >=, LIKE, ILIKE, IN or IS NULL"
                        ),
                    ));
                }
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("LIKE") => Op::Like,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("ILIKE") => Op::ILike,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => Op::In,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => {
                if self.word_is("IN") {
                    self.next();
                    Op::NotIn
                } else {
                    return Err(bad(self.src, "expected IN after NOT"));
                }
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => {
                let not = self.word_is("NOT");
                if not {
                    self.next();
                }
                if !self.word_is("NULL") {
                    return Err(bad(self.src, "expected NULL after IS"));
                }
                self.next();
                return Ok(Clause {
                    key,
                    op: if not { Op::IsNotNull } else { Op::IsNull },
                    values: Vec::new(),
                });
            }
            other => {
                return Err(bad(
                    self.src,
                    &format!(
                        "expected a comparator after `{}`, found {}",
                        key.name,
                        describe(other.as_ref())
                    ),
                ));
            }
        };
        let values = if matches!(op, Op::In | Op::NotIn) {
            if self.next() != Some(Tok::LParen) {
                return Err(bad(
                    self.src,
                    "IN takes a list in parentheses: IN ('a', 'b')",
                ));
            }
            let mut vals = vec![self.value()?];
            loop {
                match self.next() {
                    Some(Tok::Comma) => vals.push(self.value()?),
                    Some(Tok::RParen) => break,
                    other => {
                        return Err(bad(
                            self.src,
                            &format!("expected `,` or `)`, found {}", describe(other.as_ref())),
                        ));
                    }
                }
            }
            vals
        } else {
            vec![self.value()?]
        };
        let clause = Clause { key, op, values };
        check_types(&clause, self.src)?;
        Ok(clause)
    }
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end of the filter".into(),
        Some(Tok::Word(w)) => format!("`{w}`"),
        Some(Tok::Quoted(s)) => format!("'{s}'"),
        Some(Tok::Tick(s)) => format!("`{s}`"),
        Some(Tok::Num(n)) => n.to_string(),
        Some(Tok::Op(o)) => format!("`{o}`"),
        Some(Tok::LParen) => "`(`".into(),
        Some(Tok::RParen) => "`)`".into(),
        Some(Tok::Comma) => "`,`".into(),
    }
}

fn check_types(c: &Clause, src: &str) -> ApiResult<()> {
    match c.key.kind {
        Kind::Metric => {
            if matches!(c.op, Op::Like | Op::ILike) {
                return Err(bad(
                    src,
                    &format!("metric `{}` is a number: LIKE does not apply", c.key.name),
                ));
            }
            if let Some(Val::Str(s)) = c.values.iter().find(|v| matches!(v, Val::Str(_))) {
                return Err(bad(
                    src,
                    &format!(
                        "expected a numeric value for metric `{}`, found '{s}'",
                        c.key.name
                    ),
                ));
            }
        }
        Kind::Param | Kind::Tag | Kind::Dataset => {
            if matches!(c.op, Op::Lt | Op::Le | Op::Gt | Op::Ge) {
                return Err(bad(
                    src,
                    &format!(
                        "`{}` is a string: compare it with =, !=, LIKE, ILIKE or IN",
                        c.key.name
                    ),
                ));
            }
            if let Some(Val::Num(n)) = c.values.iter().find(|v| matches!(v, Val::Num(_))) {
                return Err(bad(
                    src,
                    &format!(
                        "expected a quoted string for `{}`, found {n}: write '{n}'",
                        c.key.name
                    ),
                ));
            }
        }
        Kind::Attribute => {}
    }
    Ok(())
}

/// Parse a filter; an empty one matches everything.
pub fn parse(filter: &str) -> ApiResult<Vec<Clause>> {
    let toks = lex(filter)?;
    if toks.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        src: filter,
    };
    let mut clauses = vec![p.clause()?];
    while p.peek().is_some() {
        if p.word_is("AND") {
            p.next();
            clauses.push(p.clause()?);
        } else if p.word_is("OR") {
            return Err(bad(
                filter,
                "OR is not supported; MLflow filters join clauses with AND only",
            ));
        } else {
            return Err(bad(
                filter,
                &format!("expected AND, found {}", describe(p.peek())),
            ));
        }
    }
    Ok(clauses)
}

/// Check that each clause's attribute is one `allowed` names (so a typo
/// is an error, not an empty result).
pub fn check_attributes(clauses: &[Clause], allowed: &[&str], filter: &str) -> ApiResult<()> {
    for c in clauses {
        if c.key.kind == Kind::Dataset {
            return Err(bad(
                filter,
                &format!(
                    "`datasets.{}`: MLOps Lab's tracking server does not search by dataset; filter on params, metrics, tags or attributes",
                    c.key.name
                ),
            ));
        }
        if c.key.kind == Kind::Attribute && !allowed.contains(&c.key.name.as_str()) {
            return Err(bad(
                filter,
                &format!(
                    "unknown attribute `{}`; valid attributes are {}",
                    c.key.name,
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// The same check for `order_by` terms.
pub fn check_order_attributes(order: &[OrderBy], allowed: &[&str]) -> ApiResult<()> {
    for o in order {
        if o.key.kind == Kind::Attribute && !allowed.contains(&o.key.name.as_str()) {
            return Err(ApiError::invalid(format!(
                "Invalid order_by key `{}`; valid attributes are {}",
                o.key.name,
                allowed.join(", ")
            )));
        }
        if o.key.kind == Kind::Dataset {
            return Err(ApiError::invalid(format!(
                "Invalid order_by key `{}`: datasets cannot order results here",
                o.key.name
            )));
        }
    }
    Ok(())
}

pub fn matches(entity: &impl Searchable, clauses: &[Clause], missing: Missing) -> bool {
    clauses.iter().all(|c| clause_matches(entity, c, missing))
}

fn clause_matches(entity: &impl Searchable, c: &Clause, missing: Missing) -> bool {
    let got = entity.lookup(&c.key);
    match (c.op, got) {
        (Op::IsNull, v) => v.is_none(),
        (Op::IsNotNull, v) => v.is_some(),
        (Op::Ne | Op::NotIn, None) => missing == Missing::NotEqualMatches,
        (_, None) => false,
        (op, Some(v)) => {
            let want = &c.values;
            match op {
                Op::In => want.iter().any(|w| compare(&v, w) == Some(Ordering::Equal)),
                Op::NotIn => want.iter().all(|w| compare(&v, w) != Some(Ordering::Equal)),
                Op::Like | Op::ILike => match (&v, &want[0]) {
                    (Val::Str(s), Val::Str(p)) => like(s, p, op == Op::ILike),
                    _ => false,
                },
                _ => {
                    let Some(ord) = compare(&v, &want[0]) else {
                        return false;
                    };
                    match op {
                        Op::Eq => ord == Ordering::Equal,
                        Op::Ne => ord != Ordering::Equal,
                        Op::Lt => ord == Ordering::Less,
                        Op::Le => ord != Ordering::Greater,
                        Op::Gt => ord == Ordering::Greater,
                        Op::Ge => ord != Ordering::Less,
                        _ => false,
                    }
                }
            }
        }
    }
}

fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Num(x), Val::Str(y)) => y.parse::<f64>().ok().and_then(|y| x.partial_cmp(&y)),
        (Val::Str(x), Val::Num(y)) => x.parse::<f64>().ok().and_then(|x| x.partial_cmp(y)),
    }
}

/// SQL LIKE: `%` any run, `_` one character.
fn like(s: &str, pattern: &str, insensitive: bool) -> bool {
    let (s, p): (Vec<char>, Vec<char>) = if insensitive {
        (
            s.to_lowercase().chars().collect(),
            pattern.to_lowercase().chars().collect(),
        )
    } else {
        (s.chars().collect(), pattern.chars().collect())
    };
    // Iterative wildcard match with backtracking to the last `%`.
    let (mut i, mut j) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while i < s.len() {
        if j < p.len() && (p[j] == '_' || p[j] == s[i]) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '%' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if let Some(st) = star {
            j = st + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    while j < p.len() && p[j] == '%' {
        j += 1;
    }
    j == p.len()
}

/// One `order_by` term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub key: Key,
    pub ascending: bool,
}

pub fn parse_order_by(terms: &[String]) -> ApiResult<Vec<OrderBy>> {
    let mut out = Vec::new();
    for term in terms {
        let toks = lex(term)?;
        let mut p = Parser {
            toks,
            pos: 0,
            src: term,
        };
        let key = p.key().map_err(|_| order_error(term))?;
        let ascending = match p.next() {
            None => true,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("ASC") => true,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("DESC") => false,
            _ => return Err(order_error(term)),
        };
        if p.peek().is_some() {
            return Err(order_error(term));
        }
        out.push(OrderBy { key, ascending });
    }
    Ok(out)
}

fn order_error(term: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid order_by clause '{term}': write a key and optionally ASC or DESC, e.g. 'metrics.accuracy DESC'"
    ))
}

/// Compare two entities by `order`; a missing value sorts last either way.
pub fn cmp_by(a: &impl Searchable, b: &impl Searchable, order: &[OrderBy]) -> Ordering {
    for o in order {
        let (x, y) = (a.lookup(&o.key), b.lookup(&o.key));
        let ord = match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let ord = compare(&x, &y).unwrap_or(Ordering::Equal);
                if o.ascending { ord } else { ord.reverse() }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct E(BTreeMap<(u8, String), Val>);
    impl Searchable for E {
        fn lookup(&self, key: &Key) -> Option<Val> {
            self.0.get(&(key.kind as u8, key.name.clone())).cloned()
        }
    }
    fn e(items: &[(Kind, &str, Val)]) -> E {
        E(items
            .iter()
            .map(|(k, n, v)| ((*k as u8, n.to_string()), v.clone()))
            .collect())
    }

    #[test]
    fn parses_mlflow_filters() {
        let run = e(&[
            (Kind::Metric, "acc", Val::Num(0.9)),
            (Kind::Param, "depth", Val::Str("3".into())),
            (Kind::Tag, "my key", Val::Str("Hello".into())),
            (Kind::Attribute, "status", Val::Str("FINISHED".into())),
        ]);
        let ok = |f: &str| matches(&run, &parse(f).unwrap(), Missing::Excluded);
        assert!(ok("metrics.acc > 0.5 and params.depth = '3'"));
        assert!(ok("metric.acc >= 0.9 AND param.depth != \"4\""));
        assert!(!ok("metrics.acc < 0.5"));
        assert!(ok("tags.`my key` LIKE 'He%'"));
        assert!(ok("tags.\"my key\" ILIKE 'hel_o'"));
        assert!(!ok("tags.`my key` LIKE 'he%'"));
        assert!(ok("attributes.status IN ('FINISHED', 'FAILED')"));
        assert!(ok("status NOT IN ('RUNNING')"));
        assert!(ok("tags.missing IS NULL"));
        assert!(!ok("tags.missing != 'x'"));
        assert!(matches(
            &run,
            &parse("tag.missing != 'true'").unwrap(),
            Missing::NotEqualMatches
        ));
        assert!(ok(""));
        assert!(ok("metrics.acc = 9e-1"));
    }

    #[test]
    fn rejects_bad_filters_with_a_reason() {
        for (f, why) in [
            ("metrics.acc >> 1", "invalid comparator"),
            ("metrics.acc = 'x'", "numeric"),
            ("params.depth > '3'", "is a string"),
            ("metrics.acc > 1 OR metrics.acc < 0", "OR is not supported"),
            ("foo.bar = 1", "unknown entity type"),
            ("params.x = 'a", "unterminated"),
            ("metrics.acc >", "expected a value"),
        ] {
            let err = parse(f).unwrap_err();
            assert_eq!(err.code, "INVALID_PARAMETER_VALUE");
            assert!(err.message.contains(why), "{f}: {}", err.message);
        }
    }

    #[test]
    fn orders_with_missing_values_last() {
        let a = e(&[(Kind::Metric, "acc", Val::Num(0.5))]);
        let b = e(&[(Kind::Metric, "acc", Val::Num(0.9))]);
        let c = e(&[]);
        let desc = parse_order_by(&["metrics.acc DESC".into()]).unwrap();
        assert_eq!(cmp_by(&b, &a, &desc), Ordering::Less);
        assert_eq!(cmp_by(&c, &a, &desc), Ordering::Greater);
        let asc = parse_order_by(&["metrics.`acc`".into()]).unwrap();
        assert_eq!(cmp_by(&a, &b, &asc), Ordering::Less);
        assert_eq!(cmp_by(&c, &a, &asc), Ordering::Greater);
        assert!(parse_order_by(&["metrics.acc SIDEWAYS".into()]).is_err());
    }
}
