//! Turning an ES document (`_source`) into a tantivy document, and dynamic mapping:
//! finding the fields a document adds and mapping them as ES does
//! (strings → `text` + `keyword` sub-field, integers → `long`, floats → `float`,
//! booleans, date-looking strings → `date`, objects → `object`).

use crate::dates;
use crate::fields::FieldTable;
use searchgate_core::model::{Dynamic, FieldMapping, FieldType, Mapping};
use searchgate_core::{Error, Result};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use tantivy::schema::Field;
use tantivy::TantivyDocument;

// === dynamic mapping ===

/// Returns the mapping extended with the fields `doc` introduces, or `None` when
/// the document adds nothing. Fails on a new field under `dynamic: strict`.
pub fn dynamic_updates(mapping: &Mapping, doc: &Map<String, Value>) -> Result<Option<Mapping>> {
    let mut updated: Option<Mapping> = None;
    let ctx = Ctx {
        date_detection: mapping.date_detection,
        numeric_detection: mapping.numeric_detection,
    };
    // First a read-only pass: most documents add nothing, so avoid cloning.
    if !needs_update(&mapping.properties, mapping.dynamic, doc, "")? {
        return Ok(None);
    }
    let mut m = mapping.clone();
    add_fields(&ctx, &mut m.properties, m.dynamic, doc, "")?;
    if m != *mapping {
        updated = Some(m);
    }
    Ok(updated)
}

struct Ctx {
    date_detection: bool,
    numeric_detection: bool,
}

fn split_key(key: &str) -> (&str, Option<&str>) {
    match key.split_once('.') {
        Some((head, tail)) if !head.is_empty() && !tail.is_empty() => (head, Some(tail)),
        _ => (key, None),
    }
}

fn needs_update(
    props: &BTreeMap<String, FieldMapping>,
    dynamic: Dynamic,
    doc: &Map<String, Value>,
    path: &str,
) -> Result<bool> {
    for (key, value) in doc {
        let (head, tail) = split_key(key);
        let sub_path = join(path, head);
        match props.get(head) {
            None => {
                if value.is_null()
                    || matches!(value, Value::Array(a) if a.iter().all(Value::is_null))
                {
                    continue;
                }
                match dynamic {
                    Dynamic::Strict => return Err(Error::strict_dynamic_mapping(head, path)),
                    Dynamic::False | Dynamic::Runtime => continue,
                    Dynamic::True => return Ok(true),
                }
            }
            Some(f) if matches!(f.ty, FieldType::Object | FieldType::Nested) && f.enabled => {
                let d = f.dynamic.unwrap_or(dynamic);
                if let Some(tail) = tail {
                    let mut inner = Map::new();
                    inner.insert(tail.to_string(), value.clone());
                    if needs_update(&f.properties, d, &inner, &sub_path)? {
                        return Ok(true);
                    }
                }
                for obj in objects(value) {
                    if needs_update(&f.properties, d, obj, &sub_path)? {
                        return Ok(true);
                    }
                }
            }
            Some(_) => {}
        }
    }
    Ok(false)
}

fn objects(v: &Value) -> Vec<&Map<String, Value>> {
    match v {
        Value::Object(o) => vec![o],
        Value::Array(a) => a.iter().flat_map(objects).collect(),
        _ => vec![],
    }
}

fn add_fields(
    ctx: &Ctx,
    props: &mut BTreeMap<String, FieldMapping>,
    dynamic: Dynamic,
    doc: &Map<String, Value>,
    path: &str,
) -> Result<()> {
    for (key, value) in doc {
        let (head, tail) = split_key(key);
        let sub_path = join(path, head);
        let value_owned;
        let value = match tail {
            Some(tail) => {
                let mut inner = Map::new();
                inner.insert(tail.to_string(), value.clone());
                value_owned = Value::Object(inner);
                &value_owned
            }
            None => value,
        };
        if !props.contains_key(head) {
            if dynamic != Dynamic::True {
                if dynamic == Dynamic::Strict && !value.is_null() {
                    return Err(Error::strict_dynamic_mapping(head, path));
                }
                continue;
            }
            match infer(ctx, value) {
                Some(f) => {
                    props.insert(head.to_string(), f);
                }
                None => continue,
            }
        }
        let f = props.get_mut(head).expect("present");
        if matches!(f.ty, FieldType::Object | FieldType::Nested) && f.enabled {
            let d = f.dynamic.unwrap_or(dynamic);
            for obj in objects(value) {
                add_fields(ctx, &mut f.properties, d, obj, &sub_path)?;
            }
        }
    }
    Ok(())
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && dates::parse_iso(s).is_some()
}

const SLASH_DATE_FORMAT: &str = "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis";

fn looks_like_slash_date(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 10 || b.len() == 19)
        && b[4] == b'/'
        && b[7] == b'/'
        && dates::parse_date(s, Some(SLASH_DATE_FORMAT)).is_some()
}

/// The mapping ES's dynamic rules give a new value.
fn infer(ctx: &Ctx, v: &Value) -> Option<FieldMapping> {
    Some(match v {
        Value::Null => return None,
        Value::Array(items) => return items.iter().find_map(|i| infer(ctx, i)),
        Value::Bool(_) => FieldMapping::of(FieldType::Boolean),
        Value::Number(n) if n.is_i64() || n.is_u64() => FieldMapping::of(FieldType::Long),
        Value::Number(_) => FieldMapping::of(FieldType::Float),
        Value::Object(_) => FieldMapping::of(FieldType::Object),
        Value::String(s) => {
            if ctx.date_detection && looks_like_date(s) {
                FieldMapping::of(FieldType::Date)
            } else if ctx.date_detection && looks_like_slash_date(s) {
                // ES's second default dynamic date format.
                let mut f = FieldMapping::of(FieldType::Date);
                f.format = Some(SLASH_DATE_FORMAT.to_string());
                f
            } else if ctx.numeric_detection && s.parse::<i64>().is_ok() {
                FieldMapping::of(FieldType::Long)
            } else if ctx.numeric_detection && s.parse::<f64>().is_ok() {
                FieldMapping::of(FieldType::Float)
            } else {
                let mut f = FieldMapping::of(FieldType::Text);
                let mut kw = FieldMapping::of(FieldType::Keyword);
                kw.ignore_above = Some(256);
                f.fields.insert("keyword".into(), kw);
                f
            }
        }
    })
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

// === building the tantivy document ===

/// Adds the indexed values of `doc` to `out`, as `mapping` says.
pub fn build_document(
    table: &FieldTable,
    mapping: &Mapping,
    id: &str,
    doc: &Map<String, Value>,
    out: &mut TantivyDocument,
) -> Result<()> {
    let mut names = HashSet::new();
    let b = Builder { table, id };
    b.object(&mapping.properties, doc, "", out, &mut names)?;
    for n in names {
        out.add_text(table.field_names, n);
    }
    Ok(())
}

struct Builder<'a> {
    table: &'a FieldTable,
    id: &'a str,
}

impl Builder<'_> {
    fn object(
        &self,
        props: &BTreeMap<String, FieldMapping>,
        doc: &Map<String, Value>,
        path: &str,
        out: &mut TantivyDocument,
        names: &mut HashSet<String>,
    ) -> Result<()> {
        for (key, value) in doc {
            let (head, tail) = split_key(key);
            let sub_path = join(path, head);
            let Some(f) = props.get(head) else { continue };
            if let Some(tail) = tail {
                let mut inner = Map::new();
                inner.insert(tail.to_string(), value.clone());
                if matches!(f.ty, FieldType::Object | FieldType::Nested) {
                    self.object(&f.properties, &inner, &sub_path, out, names)?;
                }
                continue;
            }
            self.value(f, value, &sub_path, out, names)?;
        }
        Ok(())
    }

    fn value(
        &self,
        f: &FieldMapping,
        value: &Value,
        path: &str,
        out: &mut TantivyDocument,
        names: &mut HashSet<String>,
    ) -> Result<()> {
        match value {
            // `[lon, lat]` is one geo_point, not two values.
            Value::Array(items)
                if f.ty == FieldType::GeoPoint
                    && items.first().map(Value::is_number).unwrap_or(false) =>
            {
                let num = |i: usize| items.get(i).and_then(Value::as_f64);
                let point = match (num(0), num(1)) {
                    (Some(lon), Some(lat)) => serde_json::json!({"lat": lat, "lon": lon}),
                    _ => Value::Null,
                };
                return self.value(f, &point, path, out, names);
            }
            Value::Array(items) => {
                for i in items {
                    self.value(f, i, path, out, names)?;
                }
                return Ok(());
            }
            Value::Null => match &f.null_value {
                Some(nv) if !nv.is_null() => return self.value(f, &nv.clone(), path, out, names),
                _ => return Ok(()),
            },
            _ => {}
        }
        if matches!(f.ty, FieldType::Object | FieldType::Nested) {
            return match value {
                Value::Object(o) if f.enabled => self.object(&f.properties, o, path, out, names),
                Value::Object(_) => Ok(()),
                _ => Err(Error::document_parsing(format!(
                    "object mapping for [{path}] tried to parse field [{path}] as object, but found a concrete value"
                ))),
            };
        }
        if f.ty == FieldType::GeoPoint {
            validate_geo_point(path, value).map_err(|cause| {
                Error::document_parsing(format!(
                    "failed to parse field [{path}] of type [geo_point]"
                ))
                .caused_by(Error::illegal_argument(cause))
            })?;
            mark(names, path);
            return Ok(());
        }
        if let Value::Object(_) = value {
            return Err(Error::document_parsing(format!(
                "failed to parse field [{path}] of type [{}] in document with id '{}'. Preview of field's value: '{}'",
                f.ty.name(),
                self.id,
                preview(value)
            )));
        }
        if self.leaf(f.ty, path, value, out)? {
            mark(names, path);
        }
        for (sub, sf) in &f.fields {
            let sub_path = format!("{path}.{sub}");
            if self.leaf(sf.ty, &sub_path, value, out)? {
                names.insert(sub_path);
            }
        }
        Ok(())
    }

    /// Indexes one scalar; returns whether a value was indexed.
    fn leaf(
        &self,
        ty: FieldType,
        path: &str,
        value: &Value,
        out: &mut TantivyDocument,
    ) -> Result<bool> {
        let Some(info) = self.table.get(path) else {
            return Ok(false);
        };
        let field: Field = match info.field {
            Some(f) if info.index || ty != FieldType::Text => f,
            _ => return Ok(true),
        };
        let fail = |cause: String| {
            Error::document_parsing(format!(
                "failed to parse field [{path}] of type [{}] in document with id '{}'. Preview of field's value: '{}'",
                ty.name(),
                self.id,
                preview(value)
            ))
            .caused_by(Error::illegal_argument(cause))
        };
        match ty {
            FieldType::Text => out.add_text(field, scalar_text(value)),
            FieldType::Keyword => {
                let s = scalar_text(value);
                if let Some(limit) = info.ignore_above {
                    if s.chars().count() > limit as usize {
                        return Ok(false);
                    }
                }
                out.add_text(field, s)
            }
            t if t.is_integer() => {
                let v = match value {
                    Value::Number(n) => match n.as_i64() {
                        Some(i) => i,
                        None => {
                            let f = n.as_f64().unwrap_or(f64::NAN);
                            if !f.is_finite() || f.abs() > 9.2e18 {
                                return Err(fail(format!(
                                    "Value [{n}] is out of range for a {}",
                                    t.name()
                                )));
                            }
                            f.trunc() as i64
                        }
                    },
                    Value::String(s) => match s.trim().parse::<i64>() {
                        Ok(i) => i,
                        Err(_) => match s.trim().parse::<f64>() {
                            Ok(f) if f.is_finite() => f.trunc() as i64,
                            _ => return Err(fail(format!("For input string: \"{s}\""))),
                        },
                    },
                    Value::Bool(_) => {
                        return Err(fail("Current token (VALUE_TRUE) not numeric".into()))
                    }
                    _ => return Ok(false),
                };
                let (lo, hi) = t.int_range();
                if v < lo || v > hi {
                    return Err(fail(format!(
                        "Value [{v}] is out of range for {}",
                        t.name()
                    )));
                }
                out.add_i64(field, v)
            }
            t if t.is_float() => {
                let v = match value {
                    Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                    Value::String(s) => s
                        .trim()
                        .parse::<f64>()
                        .map_err(|_| fail(format!("For input string: \"{s}\"")))?,
                    _ => return Err(fail("not a number".into())),
                };
                if !v.is_finite() {
                    return Err(fail(format!(
                        "[{t:?}] supports only finite values, but got [{v}]"
                    )));
                }
                let v = if t == FieldType::Float {
                    v as f32 as f64
                } else {
                    v
                };
                out.add_f64(field, v)
            }
            FieldType::Boolean => {
                let v = match value {
                    Value::Bool(b) => *b,
                    Value::String(s) if s == "true" => true,
                    Value::String(s) if s == "false" || s.is_empty() => false,
                    _ => {
                        return Err(fail(format!(
                            "Failed to parse value [{}] as only [true] or [false] are allowed.",
                            scalar_text(value)
                        )))
                    }
                };
                out.add_bool(field, v)
            }
            t if t.is_date() => {
                let ms = match value {
                    Value::Number(n) => n.as_f64().map(|f| f as i64),
                    Value::String(s) => dates::parse_date(s, info.format.as_deref()),
                    _ => None,
                };
                let ms = ms.ok_or_else(|| {
                    fail(format!(
                        "failed to parse date field [{}] with format [{}]",
                        scalar_text(value),
                        info.format.as_deref().unwrap_or(dates::DEFAULT_FORMAT)
                    ))
                })?;
                out.add_i64(field, ms)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Checks a geo_point in any of ES's forms: `{"lat","lon"}`, `[lon, lat]`,
/// `"lat,lon"`, a geohash, or `POINT(lon lat)`.
fn validate_geo_point(path: &str, v: &Value) -> std::result::Result<(), String> {
    let check = |lat: f64, lon: f64| {
        if !(-90.0..=90.0).contains(&lat) {
            Err(format!("illegal latitude value [{lat}] for {path}"))
        } else if !(-180.0..=180.0).contains(&lon) {
            Err(format!("illegal longitude value [{lon}] for {path}"))
        } else {
            Ok(())
        }
    };
    let num = |v: Option<&Value>| -> Option<f64> {
        match v? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    };
    match v {
        Value::Object(o) => match (num(o.get("lat")), num(o.get("lon"))) {
            (Some(lat), Some(lon)) => check(lat, lon),
            _ => Err(format!("field [lat] and [lon] must be numbers for {path}")),
        },
        Value::String(s) => {
            let t = s.trim();
            if let Some(inner) = t
                .strip_prefix("POINT")
                .map(str::trim)
                .and_then(|r| r.strip_prefix('('))
                .and_then(|r| r.strip_suffix(')'))
            {
                let p: Vec<f64> = inner
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                return match p.as_slice() {
                    [lon, lat, ..] => check(*lat, *lon),
                    _ => Err(format!("invalid WKT point [{t}]")),
                };
            }
            if let Some((a, b)) = t.split_once(',') {
                return match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
                    (Ok(lat), Ok(lon)) => check(lat, lon),
                    _ => Err(format!("failed to parse [{t}] as a geo_point")),
                };
            }
            let geohash = !t.is_empty()
                && t.len() <= 12
                && t.chars()
                    .all(|c| "0123456789bcdefghjkmnpqrstuvwxyz".contains(c));
            if geohash {
                Ok(())
            } else {
                Err(format!("unsupported symbol in geohash [{t}]"))
            }
        }
        _ => Err(format!("geo_point expected for {path}")),
    }
}

fn mark(names: &mut HashSet<String>, path: &str) {
    names.insert(path.to_string());
    let mut p = path;
    while let Some((parent, _)) = p.rsplit_once('.') {
        names.insert(parent.to_string());
        p = parent;
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn preview(v: &Value) -> String {
    let s = scalar_text(v);
    if s.len() > 20 {
        let mut end = 20;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}...", &s[..end])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn dynamic_rules() {
        let m = Mapping::new();
        let doc = obj(
            json!({"s": "hello", "n": 5, "f": 1.5, "b": true, "d": "2024-01-02T03:04:05Z", "o": {"x": "y"}, "z": null}),
        );
        let u = dynamic_updates(&m, &doc).unwrap().unwrap();
        assert_eq!(u.field("s").unwrap().ty, FieldType::Text);
        assert_eq!(u.field("s.keyword").unwrap().ignore_above, Some(256));
        assert_eq!(u.field("n").unwrap().ty, FieldType::Long);
        assert_eq!(u.field("f").unwrap().ty, FieldType::Float);
        assert_eq!(u.field("b").unwrap().ty, FieldType::Boolean);
        assert_eq!(u.field("d").unwrap().ty, FieldType::Date);
        assert_eq!(u.field("o.x").unwrap().ty, FieldType::Text);
        assert!(u.field("z").is_none());
        assert!(dynamic_updates(&u, &doc).unwrap().is_none());
    }

    #[test]
    fn strict_and_false() {
        let strict =
            Mapping::parse(&json!({"dynamic": "strict", "properties": {"a": {"type": "long"}}}))
                .unwrap();
        let e = dynamic_updates(&strict, &obj(json!({"b": 1}))).unwrap_err();
        assert_eq!(e.kind, "strict_dynamic_mapping_exception");
        let off = Mapping::parse(&json!({"dynamic": false, "properties": {"a": {"type": "long"}}}))
            .unwrap();
        assert!(dynamic_updates(&off, &obj(json!({"b": 1})))
            .unwrap()
            .is_none());
    }
}
