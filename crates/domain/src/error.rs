//! The domain's errors: what a user or operator can act on.

use thiserror::Error;

/// One problem with one field of what was submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field's name as the form and the API know it (e.g. `prison_number`).
    pub field: String,
    /// What is wrong, in words a worker understands.
    pub problem: String,
}

impl FieldProblem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldProblem {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Why the domain refused a command. Nothing is recorded when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// The command's fields are not valid; every problem found is listed.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.problem)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldProblem>),
    /// The command names a record that does not exist in this case.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The specifications forbid this (for example a share with no recorded basis).
    #[error("{0}")]
    Refused(String),
    /// The policy table does not let this role do this to this type of entry
    /// ([`crate::access`]); the message names the rule and its paragraph.
    #[error("{0}")]
    NotPermitted(String),
}

impl DomainError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldProblem::new(field, problem)])
    }
}

/// Collects field problems so a form can show them all at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldProblem>);

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Problems(Vec::new())
    }
    /// Notes a problem with `field`.
    pub fn add(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(FieldProblem::new(field, problem));
    }
    /// Notes a problem when `bad` holds.
    pub fn check(&mut self, bad: bool, field: &str, problem: &str) {
        if bad {
            self.add(field, problem);
        }
    }
    /// `Ok(())` when nothing was noted, otherwise every problem as one error.
    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
