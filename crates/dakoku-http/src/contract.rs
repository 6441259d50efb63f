//! Completes the generated OpenAPI document where annotations would repeat themselves on every
//! handler: one operation id per method and path, every path parameter declared, and the error
//! answers every operation can give, as `application/problem+json` with the `Problem` schema.
//! The document is what clients generate code from and what the contract test checks answers
//! against, so it must say every status a route really sends.

use serde_json::{json, Map, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const PROBLEM_TYPE: &str = "application/problem+json";

/// The statuses any authenticated operation may answer with, and what each means.
const EVERY_OPERATION: [(&str, &str); 6] = [
    ("400", "The request is malformed (query, cursor, JSON syntax)."),
    ("401", "No valid API token was sent."),
    ("403", "The token's role may not do this."),
    ("404", "No such object within the caller's reach, or no such route."),
    ("422", "The request is well-formed but a value is invalid; `errors` names each field."),
    ("429", "Too many requests; try again later."),
];

/// The statuses of operations that take a body.
const WITH_BODY: [(&str, &str); 3] = [
    ("409", "The change conflicts with the current state."),
    ("413", "The body is larger than this server accepts."),
    ("415", "The body is not sent as application/json."),
];

pub fn complete(doc: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document serializes");
    let mut request_schemas = Vec::new();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                if let Some(operation) = item.get_mut(method).and_then(Value::as_object_mut) {
                    complete_operation(method, path, operation);
                    if method == "put" && (path.ends_with("/work-rules") || path.ends_with("/work-rule")) {
                        describe_rule_layer(operation);
                    }
                    if let Some(body) = operation.get_mut("requestBody").and_then(|b| b.get_mut("content")) {
                        for media in body.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                            let Some(schema) = media.get_mut("schema") else { continue };
                            match schema.get("$ref").and_then(Value::as_str) {
                                Some(reference) => {
                                    request_schemas.push(reference.rsplit('/').next().unwrap_or_default().to_owned())
                                }
                                None => bound_free_objects(schema),
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for name in request_schemas {
            if let Some(properties) = schemas.get_mut(&name).and_then(|s| s.get_mut("properties")) {
                for property in properties.as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
                    bound_free_objects(property);
                }
            }
        }
        schemas.insert("JsonObject".into(), json_object_schema());
        // A rule layer is any part of a work rule: the rule's fields, none of them required.
        if let Some(mut layer) = schemas.get("WorkRule").cloned() {
            if let Some(fields) = layer.as_object_mut() {
                fields.remove("required");
                fields.insert(
                    "description".into(),
                    json!("Any of the work rule's fields; those left out are inherited."),
                );
            }
            schemas.insert("WorkRuleLayer".into(), layer);
        }
    }
    doc
}

/// The body of the routes that set a scope's rule: a partial work rule.
fn describe_rule_layer(operation: &mut Map<String, Value>) {
    let schema = json!({"$ref": "#/components/schemas/WorkRuleLayer"});
    operation
        .insert("requestBody".into(), json!({"required": true, "content": {"application/json": {"schema": schema}}}));
}

/// A request field that takes any object (integration settings, a work-rule layer) is
/// described as what it is: an object of scalars, lists and objects at most three levels deep.
/// (An open `{"type": "object"}` makes schema-driven clients and fuzzers build unbounded
/// recursive values, which neither dakoku nor they need.)
fn bound_free_objects(schema: &mut Value) {
    if schema.as_object().is_some_and(|o| o.len() == 1 && o.get("type") == Some(&json!("object"))) {
        *schema = json!({"$ref": "#/components/schemas/JsonObject"});
    }
}

fn json_object_schema() -> Value {
    let scalar = json!({"type": ["string", "number", "integer", "boolean", "null"]});
    let level = |inner: &Value| json!({"anyOf": [scalar, {"type": "array", "items": inner}, {"type": "object", "additionalProperties": inner}]});
    let deepest = level(&scalar);
    let middle = level(&deepest);
    json!({"type": "object", "description": "A JSON object (values nested at most three levels).", "additionalProperties": middle})
}

fn complete_operation(method: &str, path: &str, operation: &mut Map<String, Value>) {
    operation.insert("operationId".into(), Value::String(operation_id(method, path)));
    declare_path_parameters(path, operation);
    let has_body = operation.contains_key("requestBody");
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    for response in responses.values_mut() {
        problem_content_type(response);
    }
    let extra = if has_body { &WITH_BODY[..] } else { &[] };
    for (status, description) in EVERY_OPERATION.iter().chain(extra) {
        responses.entry(*status).or_insert_with(|| problem_response(description));
    }
}

/// `get /employees/{id}/retire` → `get_employees_id_retire`: unique, since a method and a
/// path name one operation.
fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<String> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && *w != "api" && *w != "v1")
        .map(str::to_ascii_lowercase)
        .collect();
    format!("{method}_{}", words.join("_"))
}

fn declare_path_parameters(path: &str, operation: &mut Map<String, Value>) {
    let names: Vec<&str> =
        path.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect();
    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    let Some(parameters) = parameters.as_array_mut() else { return };
    for name in names {
        let declared = parameters.iter().any(|p| p["name"] == name && p["in"] == "path");
        if !declared {
            parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
        }
    }
}

/// Error answers are problem+json, whatever the annotation said.
fn problem_content_type(response: &mut Value) {
    let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else { return };
    let is_problem =
        |media: &Value| media.pointer("/schema/$ref").and_then(Value::as_str).is_some_and(|r| r.ends_with("/Problem"));
    if let Some(media) = content.get("application/json").filter(|m| is_problem(m)).cloned() {
        content.remove("application/json");
        content.insert(PROBLEM_TYPE.into(), media);
    }
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_follow_method_and_path() {
        assert_eq!(operation_id("get", "/api/v1/employees/{id}"), "get_employees_id");
        assert_eq!(operation_id("post", "/api/v1/integrations/{id}/org-sync"), "post_integrations_id_org_sync");
        assert_eq!(operation_id("get", "/api/v1/employees"), "get_employees");
    }
}
