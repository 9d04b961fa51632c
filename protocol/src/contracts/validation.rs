//! Field-named validation errors for the queue contracts, shaped so the HTTP ingress can answer
//! a 422 that lists every bad field at once.

use std::fmt;

use serde::Serialize;

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's JSON path, e.g. `destination` or `body.segments`.
    pub field: &'static str,
    /// What is wrong with it, in words fit for an API client.
    pub message: String,
}

/// Every invalid field of a message (never empty when returned as an error).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// Records a problem with `field`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// Records a problem with `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &'static str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// `Ok` if nothing was recorded.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// Whether `field` has an error (handy in tests and handlers).
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_and_displays_every_field() {
        let mut errors = ValidationErrors::default();
        errors.check(true, "a", "never shown");
        assert_eq!(errors.clone().into_result(), Ok(()));
        errors.add("destination", "must be E.164");
        errors.check(false, "sender", "too long");
        assert!(errors.has("sender") && !errors.has("a"));
        assert_eq!(
            errors.to_string(),
            "destination: must be E.164; sender: too long"
        );
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(json[1]["field"], "sender");
    }
}
