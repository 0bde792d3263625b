//! What every staff page shows around its content (header, navigation, account,
//! establishment switcher, phase banner), and the form errors the GOV.UK components
//! in `templates/components.html` display.
//!
//! Every page template extends `templates/layout.html` and has a field
//! `chrome: Chrome`; the layout reads only that field.

/// What every staff page shows around its content.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// The signed-in user, or `None` on pages seen before sign-in.
    pub user: Option<ChromeUser>,
    /// The session's CSRF token, put in the sign-out and establishment forms.
    pub csrf_token: String,
    /// Code of the establishment the user is working in, if one is chosen.
    pub current_establishment: Option<String>,
    /// Establishments the user may switch to; the switcher is shown only when
    /// there is more than one.
    pub establishments: Vec<EstablishmentOption>,
    /// Items of the service navigation, in order.
    pub nav: Vec<NavItem>,
    /// Whether this instance holds synthetic demonstration data (shows a "Demo"
    /// phase banner).
    pub demo: bool,
}

/// The signed-in user as the header shows them.
#[derive(Debug, Clone)]
pub struct ChromeUser {
    /// The user's name as staff know them.
    pub display_name: String,
    /// The user's role, in words (for example "Keyworker").
    pub role: String,
}

/// One choice in the establishment switcher.
#[derive(Debug, Clone)]
pub struct EstablishmentOption {
    /// Establishment code, the value posted to `/establishment`.
    pub code: String,
    /// Establishment name shown to the user.
    pub name: String,
    /// Whether this is the establishment the user is working in now.
    pub selected: bool,
}

/// One link in the service navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Where the link goes.
    pub href: String,
    /// The link text.
    pub label: String,
    /// Whether the current page is this item (marked `aria-current="page"`).
    pub current: bool,
}

/// Field-level messages for the GOV.UK error summary pattern.
///
/// `field` is the `id` of the input in error (which is its `name`), so the error
/// summary can link to it. For a date input named `dob`, add the error under the
/// box that is wrong (`dob-day`, `dob-month`, `dob-year`; `dob-time` for the time of
/// a date and time), so the summary link focuses that box; add it under `dob`
/// when the whole date is wrong, which highlights every box.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    /// The messages, in the order the fields appear on the page.
    pub errors: Vec<FieldError>,
}

/// One field's error message.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The `id` (and `name`) of the field in error.
    pub field: String,
    /// What is wrong and how to fix it, in the GOV.UK style ("Enter a date of birth").
    pub message: String,
}

impl FormErrors {
    /// True when there is no error to show.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Adds a message for `field`. Add them in page order: the summary lists them so.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// The message for the time box of a date-and-time input `field` (`field-time`).
    pub fn for_time(&self, field: &str) -> Option<&str> {
        self.for_field(&format!("{field}-time"))
    }

    /// The first message for `field`, if any.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// The message a date input named `field` shows: one for the whole date, else
    /// the first for its day, month or year box.
    pub fn for_date(&self, field: &str) -> Option<&str> {
        self.for_field(field).or_else(|| {
            self.errors
                .iter()
                .find(|e| {
                    e.field
                        .strip_prefix(field)
                        .is_some_and(|part| matches!(part, "-day" | "-month" | "-year"))
                })
                .map(|e| e.message.as_str())
        })
    }

    /// Whether the `part` box (`"day"`, `"month"` or `"year"`) of the date input
    /// `field` is in error: the whole date is, or that box is.
    pub fn date_part_has_error(&self, field: &str, part: &str) -> bool {
        self.errors.iter().any(|e| {
            e.field == field
                || e.field
                    .strip_prefix(field)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|p| p == part)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_field_finds_the_first_message_for_that_field() {
        let mut errors = FormErrors::default();
        assert!(errors.is_empty());
        errors.add("name", "Enter a name");
        errors.add("name", "A second message is not shown");
        assert!(!errors.is_empty());
        assert_eq!(errors.for_field("name"), Some("Enter a name"));
        assert_eq!(errors.for_field("other"), None);
    }

    #[test]
    fn a_whole_date_error_highlights_every_box() {
        let mut errors = FormErrors::default();
        errors.add("dob", "Date of birth must be in the past");
        assert_eq!(
            errors.for_date("dob"),
            Some("Date of birth must be in the past")
        );
        for part in ["day", "month", "year"] {
            assert!(errors.date_part_has_error("dob", part));
        }
    }

    #[test]
    fn a_date_part_error_highlights_only_that_box() {
        let mut errors = FormErrors::default();
        errors.add("dob-month", "Date of birth must include a month");
        errors.add("dobby", "Not part of the date");
        assert_eq!(
            errors.for_date("dob"),
            Some("Date of birth must include a month")
        );
        assert!(errors.date_part_has_error("dob", "month"));
        assert!(!errors.date_part_has_error("dob", "day"));
        assert!(!errors.date_part_has_error("dob", "year"));
    }
}
