//! Submitted form fields, read with field-level messages for the GOV.UK error
//! summary. Parsing into domain values happens in `forms`.

use crate::chrome::FormErrors;
use chrono::{NaiveDate, NaiveTime};
use std::collections::HashMap;

/// The fields of a submitted (url-encoded) form; a name may repeat (checkboxes).
#[derive(Debug, Clone, Default)]
pub struct FormData {
    fields: HashMap<String, Vec<String>>,
}

impl FormData {
    /// From decoded `(name, value)` pairs.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> FormData {
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            fields.entry(k).or_default().push(v);
        }
        FormData { fields }
    }

    /// These fields with `pairs` added; a value in `pairs` replaces the field's values.
    pub fn with(mut self, pairs: Vec<(String, String)>) -> FormData {
        for (k, v) in pairs {
            self.fields.insert(k, vec![v]);
        }
        self
    }

    /// The first value of a field, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .and_then(|v| v.first())
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields.get(name).cloned().unwrap_or_default()
    }

    /// A required field's value, or a message.
    pub fn required(&self, name: &str, message: &str, errors: &mut FormErrors) -> Option<String> {
        let v = self.get(name);
        if v.is_empty() {
            errors.add(name, message);
            None
        } else {
            Some(v.to_string())
        }
    }

    /// An optional free-text field: `None` when blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        let v = self.get(name);
        (!v.is_empty()).then(|| v.to_string())
    }

    /// A yes/no radio: `Some(true)` for "yes".
    pub fn yes_no(&self, name: &str, message: &str, errors: &mut FormErrors) -> Option<bool> {
        match self.get(name) {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.add(name, message);
                None
            }
        }
    }

    /// A checkbox: present means ticked.
    pub fn ticked(&self, name: &str) -> bool {
        !self.get(name).is_empty()
    }

    /// A GOV.UK date input (`name-day`, `name-month`, `name-year`); `what` names the
    /// date in messages ("Date of referral").
    pub fn date(&self, name: &str, what: &str, errors: &mut FormErrors) -> Option<NaiveDate> {
        let (d, m, y) = (
            self.get(&format!("{name}-day")),
            self.get(&format!("{name}-month")),
            self.get(&format!("{name}-year")),
        );
        if d.is_empty() && m.is_empty() && y.is_empty() {
            errors.add(name, format!("Enter the {}", what.to_lowercase()));
            return None;
        }
        let missing: Vec<&str> = [("day", d), ("month", m), ("year", y)]
            .into_iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| k)
            .collect();
        if !missing.is_empty() {
            errors.add(
                name,
                format!("{what} must include a {}", missing.join(" and ")),
            );
            return None;
        }
        if y.len() != 4 {
            errors.add(name, format!("{what} year must include 4 numbers"));
            return None;
        }
        let parsed = (d.parse::<u32>(), m.parse::<u32>(), y.parse::<i32>());
        match parsed {
            (Ok(d), Ok(m), Ok(y)) => match NaiveDate::from_ymd_opt(y, m, d) {
                Some(date) => Some(date),
                None => {
                    errors.add(name, format!("{what} must be a real date"));
                    None
                }
            },
            _ => {
                errors.add(name, format!("{what} must be a real date"));
                None
            }
        }
    }

    /// A 24-hour time field `name-time` (HH:MM).
    pub fn time(&self, name: &str, what: &str, errors: &mut FormErrors) -> Option<NaiveTime> {
        let t = self.get(&format!("{name}-time"));
        match NaiveTime::parse_from_str(t, "%H:%M") {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add(
                    name,
                    format!("{what} must be a time in the 24-hour clock, like 14:30"),
                );
                None
            }
        }
    }

    /// A date the form may leave blank: `Some(None)` when all three parts are empty,
    /// `Some(Some(date))` when valid, `None` (with the problem added) otherwise.
    pub fn optional_date(
        &self,
        name: &str,
        what: &str,
        errors: &mut FormErrors,
    ) -> Option<Option<NaiveDate>> {
        let blank = ["day", "month", "year"]
            .iter()
            .all(|p| self.get(&format!("{name}-{p}")).is_empty());
        if blank {
            Some(None)
        } else {
            self.date(name, what, errors).map(Some)
        }
    }

    /// One of a fixed set of codes.
    pub fn choice<T>(
        &self,
        name: &str,
        message: &str,
        errors: &mut FormErrors,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        match parse(self.get(name)) {
            Some(v) => Some(v),
            None => {
                errors.add(name, message);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_date_with_a_missing_part_names_it() {
        let mut e = FormErrors::default();
        let f = form(&[("on-day", "3"), ("on-month", ""), ("on-year", "2026")]);
        assert_eq!(f.date("on", "Date of referral", &mut e), None);
        assert_eq!(
            e.for_field("on"),
            Some("Date of referral must include a month")
        );
    }

    #[test]
    fn an_impossible_date_is_not_real() {
        let mut e = FormErrors::default();
        let f = form(&[("on-day", "31"), ("on-month", "2"), ("on-year", "2026")]);
        assert_eq!(f.date("on", "Date of referral", &mut e), None);
        assert_eq!(
            e.for_field("on"),
            Some("Date of referral must be a real date")
        );
    }

    #[test]
    fn a_good_date_parses() {
        let mut e = FormErrors::default();
        let f = form(&[("on-day", "3"), ("on-month", "11"), ("on-year", "2026")]);
        assert_eq!(
            f.date("on", "Date", &mut e),
            Some(NaiveDate::from_ymd_opt(2026, 11, 3).unwrap())
        );
        assert!(e.is_empty());
    }
}

/// A submitted form built field by field, for the form modules' tests.
#[cfg(test)]
#[derive(Clone)]
pub(crate) struct Post(Vec<(String, String)>);

#[cfg(test)]
impl Post {
    /// An empty submission.
    pub(crate) fn new() -> Post {
        Post(Vec::new())
    }
    /// The submission with one more value.
    pub(crate) fn set(mut self, name: &str, value: &str) -> Post {
        self.0.push((name.to_string(), value.to_string()));
        self
    }
    /// The form without `name` (and its date and time boxes).
    pub(crate) fn without(self, name: &str) -> Post {
        let boxes = format!("{name}-");
        Post(
            self.0
                .into_iter()
                .filter(|(k, _)| k != name && !k.starts_with(&boxes))
                .collect(),
        )
    }
    /// The form with `name` set to this one value.
    pub(crate) fn put(self, name: &str, value: &str) -> Post {
        self.without(name).set(name, value)
    }
    /// A date field from `YYYY-MM-DD`.
    pub(crate) fn date(self, name: &str, ymd: &str) -> Post {
        let day: NaiveDate = ymd.parse().unwrap_or(NaiveDate::MIN);
        self.set(&format!("{name}-day"), &day.format("%-d").to_string())
            .set(&format!("{name}-month"), &day.format("%-m").to_string())
            .set(&format!("{name}-year"), &day.format("%Y").to_string())
    }
    /// A date and time field.
    pub(crate) fn at(self, name: &str, ymd: &str, hm: &str) -> Post {
        self.date(name, ymd).set(&format!("{name}-time"), hm)
    }
    /// As the form reader sees it.
    pub(crate) fn data(&self) -> FormData {
        FormData::from_pairs(self.0.clone())
    }
}
