//! Index mappings: field types and their parameters, parsed from and rendered to
//! the JSON of `PUT /{index}` / `GET /{index}/_mapping`, and merged as ES merges
//! a `PUT _mapping` (new fields are added; a changed type is refused).

use crate::error::{Error, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dynamic {
    #[default]
    True,
    False,
    Strict,
    Runtime,
}

impl Dynamic {
    fn parse(v: &Value) -> Result<Dynamic> {
        match v {
            Value::Bool(true) => Ok(Dynamic::True),
            Value::Bool(false) => Ok(Dynamic::False),
            Value::String(s) => match s.as_str() {
                "true" => Ok(Dynamic::True),
                "false" => Ok(Dynamic::False),
                "strict" => Ok(Dynamic::Strict),
                "runtime" => Ok(Dynamic::Runtime),
                other => Err(Error::mapper_parsing(format!(
                    "Could not convert [dynamic] to boolean: [{other}]"
                ))),
            },
            _ => Err(Error::mapper_parsing(
                "[dynamic] must be a boolean or \"strict\"",
            )),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Dynamic::True => json!("true"),
            Dynamic::False => json!("false"),
            Dynamic::Strict => json!("strict"),
            Dynamic::Runtime => json!("runtime"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Keyword,
    Long,
    Integer,
    Short,
    Byte,
    Double,
    Float,
    HalfFloat,
    ScaledFloat,
    UnsignedLong,
    Boolean,
    Date,
    DateNanos,
    Object,
    Nested,
    GeoPoint,
    Ip,
    Binary,
    Flattened,
}

impl FieldType {
    pub fn parse(s: &str) -> Option<FieldType> {
        Some(match s {
            "text" => FieldType::Text,
            "keyword" | "constant_keyword" | "wildcard" => FieldType::Keyword,
            "long" => FieldType::Long,
            "integer" => FieldType::Integer,
            "short" => FieldType::Short,
            "byte" => FieldType::Byte,
            "double" => FieldType::Double,
            "float" => FieldType::Float,
            "half_float" => FieldType::HalfFloat,
            "scaled_float" => FieldType::ScaledFloat,
            "unsigned_long" => FieldType::UnsignedLong,
            "boolean" => FieldType::Boolean,
            "date" => FieldType::Date,
            "date_nanos" => FieldType::DateNanos,
            "object" => FieldType::Object,
            "nested" => FieldType::Nested,
            "geo_point" => FieldType::GeoPoint,
            "ip" => FieldType::Ip,
            "binary" => FieldType::Binary,
            "flattened" => FieldType::Flattened,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Keyword => "keyword",
            FieldType::Long => "long",
            FieldType::Integer => "integer",
            FieldType::Short => "short",
            FieldType::Byte => "byte",
            FieldType::Double => "double",
            FieldType::Float => "float",
            FieldType::HalfFloat => "half_float",
            FieldType::ScaledFloat => "scaled_float",
            FieldType::UnsignedLong => "unsigned_long",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::DateNanos => "date_nanos",
            FieldType::Object => "object",
            FieldType::Nested => "nested",
            FieldType::GeoPoint => "geo_point",
            FieldType::Ip => "ip",
            FieldType::Binary => "binary",
            FieldType::Flattened => "flattened",
        }
    }

    pub fn is_integer(self) -> bool {
        matches!(
            self,
            FieldType::Long
                | FieldType::Integer
                | FieldType::Short
                | FieldType::Byte
                | FieldType::UnsignedLong
        )
    }

    pub fn is_float(self) -> bool {
        matches!(
            self,
            FieldType::Double | FieldType::Float | FieldType::HalfFloat | FieldType::ScaledFloat
        )
    }

    pub fn is_date(self) -> bool {
        matches!(self, FieldType::Date | FieldType::DateNanos)
    }

    /// The `[min, max]` an integer type accepts.
    pub fn int_range(self) -> (i64, i64) {
        match self {
            FieldType::Integer => (i32::MIN as i64, i32::MAX as i64),
            FieldType::Short => (i16::MIN as i64, i16::MAX as i64),
            FieldType::Byte => (i8::MIN as i64, i8::MAX as i64),
            FieldType::UnsignedLong => (0, i64::MAX),
            _ => (i64::MIN, i64::MAX),
        }
    }
}

/// One field of a mapping with the parameters searchgate acts on. Parameters it
/// accepts but does not act on are kept in `other` so `GET _mapping` shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMapping {
    pub ty: FieldType,
    /// Sub-fields of an object.
    pub properties: BTreeMap<String, FieldMapping>,
    /// Multi-fields (`fields`), e.g. `title.keyword`.
    pub fields: BTreeMap<String, FieldMapping>,
    pub format: Option<String>,
    pub ignore_above: Option<u32>,
    pub analyzer: Option<String>,
    pub search_analyzer: Option<String>,
    pub index: bool,
    pub doc_values: Option<bool>,
    pub null_value: Option<Value>,
    pub dynamic: Option<Dynamic>,
    pub enabled: bool,
    pub other: Map<String, Value>,
}

impl FieldMapping {
    pub fn of(ty: FieldType) -> Self {
        FieldMapping {
            ty,
            properties: BTreeMap::new(),
            fields: BTreeMap::new(),
            format: None,
            ignore_above: None,
            analyzer: None,
            search_analyzer: None,
            index: true,
            doc_values: None,
            null_value: None,
            dynamic: None,
            enabled: true,
            other: Map::new(),
        }
    }

    pub fn parse(name: &str, v: &Value) -> Result<FieldMapping> {
        let obj = v.as_object().ok_or_else(|| {
            Error::mapper_parsing(format!("Expected map for property [fields] on field [{name}] but got a class java.lang.String"))
        })?;
        let ty = match obj.get("type") {
            Some(Value::String(t)) => FieldType::parse(t).ok_or_else(|| {
                Error::mapper_parsing(format!(
                    "No handler for type [{t}] declared on field [{name}]"
                ))
            })?,
            Some(_) => {
                return Err(Error::mapper_parsing(format!(
                    "[type] must be a string on field [{name}]"
                )))
            }
            None if obj.contains_key("properties")
                || obj.is_empty()
                || obj.contains_key("dynamic")
                || obj.contains_key("enabled") =>
            {
                FieldType::Object
            }
            None => {
                return Err(Error::mapper_parsing(format!(
                    "No type specified for field [{name}]"
                )))
            }
        };
        let mut f = FieldMapping::of(ty);
        for (k, val) in obj {
            match k.as_str() {
                "type" => {}
                "properties" => {
                    if !matches!(ty, FieldType::Object | FieldType::Nested) {
                        return Err(unknown_param(k, name, ty));
                    }
                    f.properties = parse_properties(val)?;
                }
                "fields" => {
                    let subs = val.as_object().ok_or_else(|| {
                        Error::mapper_parsing(format!(
                            "[fields] must be an object on field [{name}]"
                        ))
                    })?;
                    for (sub, sv) in subs {
                        f.fields.insert(sub.clone(), FieldMapping::parse(sub, sv)?);
                    }
                }
                "format" => f.format = val.as_str().map(String::from),
                "ignore_above" => {
                    f.ignore_above = Some(val.as_u64().ok_or_else(|| {
                        Error::mapper_parsing(format!(
                            "[ignore_above] must be a number on field [{name}]"
                        ))
                    })? as u32)
                }
                "analyzer" => f.analyzer = val.as_str().map(String::from),
                "search_analyzer" => f.search_analyzer = val.as_str().map(String::from),
                "index" => f.index = val.as_bool().unwrap_or(val.as_str() != Some("false")),
                "doc_values" => f.doc_values = val.as_bool(),
                "null_value" => f.null_value = Some(val.clone()),
                "dynamic" => f.dynamic = Some(Dynamic::parse(val)?),
                "enabled" => f.enabled = val.as_bool().unwrap_or(true),
                "store"
                | "norms"
                | "boost"
                | "coerce"
                | "ignore_malformed"
                | "scaling_factor"
                | "index_options"
                | "position_increment_gap"
                | "similarity"
                | "term_vector"
                | "copy_to"
                | "eager_global_ordinals"
                | "normalizer"
                | "fielddata"
                | "meta"
                | "locale"
                | "split_queries_on_whitespace"
                | "index_prefixes"
                | "index_phrases"
                | "search_quote_analyzer"
                | "ignore_z_value"
                | "time_series_dimension" => {
                    f.other.insert(k.clone(), val.clone());
                }
                _ => return Err(unknown_param(k, name, ty)),
            }
        }
        Ok(f)
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if self.ty != FieldType::Object || self.properties.is_empty() {
            m.insert("type".into(), json!(self.ty.name()));
        }
        if let Some(d) = self.dynamic {
            m.insert("dynamic".into(), d.to_json());
        }
        if !self.enabled {
            m.insert("enabled".into(), json!(false));
        }
        if let Some(a) = &self.analyzer {
            m.insert("analyzer".into(), json!(a));
        }
        if let Some(a) = &self.search_analyzer {
            m.insert("search_analyzer".into(), json!(a));
        }
        if let Some(f) = &self.format {
            m.insert("format".into(), json!(f));
        }
        if let Some(i) = self.ignore_above {
            m.insert("ignore_above".into(), json!(i));
        }
        if !self.index {
            m.insert("index".into(), json!(false));
        }
        if let Some(d) = self.doc_values {
            m.insert("doc_values".into(), json!(d));
        }
        if let Some(n) = &self.null_value {
            m.insert("null_value".into(), n.clone());
        }
        for (k, v) in &self.other {
            m.insert(k.clone(), v.clone());
        }
        if !self.fields.is_empty() {
            let subs: Map<String, Value> = self
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect();
            m.insert("fields".into(), Value::Object(subs));
        }
        if !self.properties.is_empty() {
            m.insert("properties".into(), properties_json(&self.properties));
        }
        Value::Object(m)
    }

    /// Merges `new` into `self` as a `PUT _mapping` does.
    pub fn merge(&mut self, path: &str, new: &FieldMapping) -> Result<()> {
        if self.ty != new.ty {
            return Err(Error::illegal_argument(format!(
                "mapper [{path}] cannot be changed from type [{}] to [{}]",
                self.ty.name(),
                new.ty.name()
            )));
        }
        merge_maps(path, &mut self.properties, &new.properties)?;
        merge_maps(path, &mut self.fields, &new.fields)?;
        if new.dynamic.is_some() {
            self.dynamic = new.dynamic;
        }
        if new.ignore_above.is_some() {
            self.ignore_above = new.ignore_above;
        }
        Ok(())
    }
}

fn unknown_param(k: &str, name: &str, ty: FieldType) -> Error {
    Error::mapper_parsing(format!(
        "unknown parameter [{k}] on mapper [{name}] of type [{}]",
        ty.name()
    ))
}

fn merge_maps(
    path: &str,
    old: &mut BTreeMap<String, FieldMapping>,
    new: &BTreeMap<String, FieldMapping>,
) -> Result<()> {
    for (k, v) in new {
        let sub = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match old.get_mut(k) {
            Some(existing) => existing.merge(&sub, v)?,
            None => {
                old.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

pub fn parse_properties(v: &Value) -> Result<BTreeMap<String, FieldMapping>> {
    let obj = v
        .as_object()
        .ok_or_else(|| Error::mapper_parsing("[properties] must be an object"))?;
    let mut out = BTreeMap::new();
    for (k, fv) in obj {
        if k.is_empty() {
            return Err(Error::mapper_parsing(
                "field name cannot be an empty string",
            ));
        }
        // Dotted names in a mapping are object paths: `a.b` is `a: {properties: {b}}`.
        let parts: Vec<&str> = k.split('.').collect();
        let mut field = FieldMapping::parse(parts[parts.len() - 1], fv)?;
        for i in (1..parts.len()).rev() {
            let mut obj = FieldMapping::of(FieldType::Object);
            obj.properties.insert(parts[i].to_string(), field);
            field = obj;
        }
        let top = k.split('.').next().unwrap_or(k).to_string();
        match out.get_mut(&top) {
            Some(existing) => FieldMapping::merge(existing, &top, &field)?,
            None => {
                out.insert(top, field);
            }
        }
    }
    Ok(out)
}

pub fn properties_json(props: &BTreeMap<String, FieldMapping>) -> Value {
    Value::Object(
        props
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
    )
}

/// The mapping of an index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    pub dynamic: Dynamic,
    pub date_detection: bool,
    pub numeric_detection: bool,
    pub properties: BTreeMap<String, FieldMapping>,
    /// `_meta`, `dynamic_templates`, `_source`, `_routing`: kept and shown as given.
    pub other: Map<String, Value>,
}

impl Mapping {
    pub fn new() -> Self {
        Mapping {
            date_detection: true,
            ..Default::default()
        }
    }

    pub fn parse(v: &Value) -> Result<Mapping> {
        let mut m = Mapping::new();
        let obj = match v {
            Value::Object(o) => o,
            Value::Null => return Ok(m),
            _ => {
                return Err(Error::mapper_parsing(
                    "Expected map for property [mappings]",
                ))
            }
        };
        // Accept the legacy `{"_doc": {...}}` wrapper.
        let obj = match (obj.len(), obj.get("_doc")) {
            (1, Some(Value::Object(inner))) => inner,
            _ => obj,
        };
        for (k, val) in obj {
            match k.as_str() {
                "properties" => m.properties = parse_properties(val)?,
                "dynamic" => m.dynamic = Dynamic::parse(val)?,
                "date_detection" => m.date_detection = val.as_bool().unwrap_or(true),
                "numeric_detection" => m.numeric_detection = val.as_bool().unwrap_or(false),
                "_meta"
                | "dynamic_templates"
                | "_source"
                | "_routing"
                | "dynamic_date_formats"
                | "_field_names"
                | "runtime" => {
                    m.other.insert(k.clone(), val.clone());
                }
                _ => {
                    return Err(Error::mapper_parsing(format!(
                        "Root mapping definition has unsupported parameters:  [{k} : {val}]"
                    )))
                }
            }
        }
        Ok(m)
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if self.dynamic != Dynamic::True {
            m.insert("dynamic".into(), self.dynamic.to_json());
        }
        if !self.date_detection {
            m.insert("date_detection".into(), json!(false));
        }
        if self.numeric_detection {
            m.insert("numeric_detection".into(), json!(true));
        }
        for (k, v) in &self.other {
            m.insert(k.clone(), v.clone());
        }
        if !self.properties.is_empty() {
            m.insert("properties".into(), properties_json(&self.properties));
        }
        Value::Object(m)
    }

    pub fn merge(&mut self, new: &Mapping) -> Result<()> {
        merge_maps("", &mut self.properties, &new.properties)?;
        self.dynamic = new.dynamic;
        for (k, v) in &new.other {
            self.other.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    /// Finds a field by its full dotted path, descending objects and multi-fields.
    pub fn field(&self, path: &str) -> Option<&FieldMapping> {
        find(&self.properties, path)
    }
}

fn find<'a>(props: &'a BTreeMap<String, FieldMapping>, path: &str) -> Option<&'a FieldMapping> {
    if let Some(f) = props.get(path) {
        return Some(f);
    }
    // Try every split point: `a.b.c` may be `a` → `b.c`, or `a.b` (a multi-field) → `c`.
    for (i, _) in path.match_indices('.') {
        let (head, tail) = (&path[..i], &path[i + 1..]);
        if let Some(f) = props.get(head) {
            if let Some(found) = find(&f.properties, tail) {
                return Some(found);
            }
            if let Some(found) = f.fields.get(tail) {
                return Some(found);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render_round_trip() {
        let v = json!({"dynamic": "strict", "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}},
            "n": {"type": "long"},
            "o": {"properties": {"x": {"type": "date", "format": "epoch_millis"}}}
        }});
        let m = Mapping::parse(&v).unwrap();
        assert_eq!(m.dynamic, Dynamic::Strict);
        assert_eq!(m.field("title.raw").unwrap().ty, FieldType::Keyword);
        assert_eq!(m.field("o.x").unwrap().ty, FieldType::Date);
        assert_eq!(m.to_json(), v);
    }

    #[test]
    fn unknown_type_and_param() {
        let e = Mapping::parse(&json!({"properties": {"a": {"type": "nope"}}})).unwrap_err();
        assert_eq!(e.kind, "mapper_parsing_exception");
        let e = Mapping::parse(&json!({"properties": {"a": {"type": "long", "bogus": 1}}}))
            .unwrap_err();
        assert!(e.reason.contains("unknown parameter [bogus]"));
    }

    #[test]
    fn merge_refuses_type_change() {
        let mut a = Mapping::parse(&json!({"properties": {"a": {"type": "long"}}})).unwrap();
        let b = Mapping::parse(
            &json!({"properties": {"a": {"type": "text"}, "b": {"type": "keyword"}}}),
        )
        .unwrap();
        assert!(a.merge(&b).is_err());
        let c = Mapping::parse(&json!({"properties": {"b": {"type": "keyword"}}})).unwrap();
        a.merge(&c).unwrap();
        assert!(a.field("b").is_some());
    }

    #[test]
    fn dotted_names_are_objects() {
        let m = Mapping::parse(&json!({"properties": {"a.b": {"type": "long"}}})).unwrap();
        assert_eq!(m.field("a.b").unwrap().ty, FieldType::Long);
        assert_eq!(m.properties["a"].ty, FieldType::Object);
    }
}
