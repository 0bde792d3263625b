//! The public-holiday calendar and working-day calculator.
//!
//! Working-day clocks need to know which days are working days: S4 §3 says
//! "Initial assessment should aim to occur within five working days of
//! referral", and a working day is Monday–Friday and not a public holiday of the
//! profile's calendar. (The KM 4.17 first-night clock counts hours between 08:00
//! and 22:00 on every day, so it does not use this calendar.)
//!
//! England and Wales bank holidays are computed by rule, not read from a bundled
//! list, because a bundled list runs out in a year or two. The rules are those in
//! force since 1978 (when the early May bank holiday began); earlier years get the
//! same rules minus early May, which is good enough for clocks that only look at
//! recent dates. One-off changes (extra days and days moved for jubilees, royal
//! events and the like) are data in [`HolidayRules`], so a profile can add new ones
//! when they are announced without a code change.
//!
//! Everything here is pure: no IO, no clock reads, and no panics for any date chrono
//! can represent. Arithmetic that would run past [`NaiveDate::MAX`] saturates there.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Included};

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// One holiday moved from its usual date to another in one year.
///
/// The usual date (`from`) becomes an ordinary day and the new date (`to`)
/// becomes a public holiday, e.g. the 2020 early May bank holiday moved from
/// 2020-05-04 to 2020-05-08 for the 75th anniversary of VE Day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedHoliday {
    /// The date the holiday would have fallen on by rule; it becomes a working day
    /// (if it is a weekday).
    pub from: NaiveDate,
    /// The date the holiday is taken on instead.
    pub to: NaiveDate,
}

/// The rules of a public-holiday calendar: England and Wales bank holidays by rule, plus one-off changes.
///
/// The regular rules are in code; this value holds only the one-off changes, so it
/// can be stored in a profile and serialised as
/// `{"extra_days": ["2022-06-03"], "moved_days": [{"from": "2022-05-30", "to": "2022-06-02"}]}`.
/// Both fields may be omitted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HolidayRules {
    /// Additional one-off public holidays (e.g. 2023-05-08, the Coronation).
    #[serde(default)]
    pub extra_days: Vec<NaiveDate>,
    /// Holidays moved from their usual date to another (e.g. 2022-05-30 to 2022-06-02).
    #[serde(default)]
    pub moved_days: Vec<MovedHoliday>,
}

/// Builds a date from constant parts known to be valid; used only for the
/// built-in one-off list below, never for input.
fn known_date(year: i32, month: u32, day: u32) -> NaiveDate {
    // The arguments are literals in this file, all valid dates (checked by the
    // tests), so the fallback is unreachable; it avoids a panic path all the same.
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

impl HolidayRules {
    /// The rule-based England and Wales calendar with the known one-off changes.
    ///
    /// The one-off changes are the announced extra and moved bank holidays since
    /// the early May bank holiday began in 1978.
    #[must_use]
    pub fn england_and_wales() -> Self {
        let extra_days = vec![
            // Wedding of the Prince of Wales and Lady Diana Spencer.
            known_date(1981, 7, 29),
            // Millennium.
            known_date(1999, 12, 31),
            // Golden Jubilee (the spring bank holiday moved to 4 June, below).
            known_date(2002, 6, 3),
            // Wedding of Prince William and Catherine Middleton.
            known_date(2011, 4, 29),
            // Diamond Jubilee (the spring bank holiday moved to 4 June, below).
            known_date(2012, 6, 5),
            // Platinum Jubilee (the spring bank holiday moved to 2 June, below).
            known_date(2022, 6, 3),
            // State funeral of Queen Elizabeth II.
            known_date(2022, 9, 19),
            // Coronation of King Charles III.
            known_date(2023, 5, 8),
        ];
        let moved = |from: NaiveDate, to: NaiveDate| MovedHoliday { from, to };
        let moved_days = vec![
            // Early May bank holiday moved to VE Day (50th anniversary).
            moved(known_date(1995, 5, 1), known_date(1995, 5, 8)),
            // Spring bank holiday moved for the Golden Jubilee.
            moved(known_date(2002, 5, 27), known_date(2002, 6, 4)),
            // Spring bank holiday moved for the Diamond Jubilee.
            moved(known_date(2012, 5, 28), known_date(2012, 6, 4)),
            // Early May bank holiday moved to VE Day (75th anniversary).
            moved(known_date(2020, 5, 4), known_date(2020, 5, 8)),
            // Spring bank holiday moved for the Platinum Jubilee.
            moved(known_date(2022, 5, 30), known_date(2022, 6, 2)),
        ];
        HolidayRules {
            extra_days,
            moved_days,
        }
    }

    /// Adds a profile's own one-off changes to these rules.
    ///
    /// The result is sorted and has no duplicates, so extending twice with the same
    /// profile changes nothing.
    #[must_use]
    pub fn extended_with(mut self, other: &HolidayRules) -> Self {
        self.extra_days.extend_from_slice(&other.extra_days);
        self.extra_days.sort_unstable();
        self.extra_days.dedup();
        self.moved_days.extend_from_slice(&other.moved_days);
        self.moved_days.sort_unstable_by_key(|m| (m.from, m.to));
        self.moved_days.dedup();
        self
    }
}

/// A calendar that answers "is this a working day" and counts working days.
/// A working day is Monday–Friday and not a public holiday.
///
/// Used by the working-day clocks, e.g. the S4 §3 initial assessment due within
/// five working days of referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Rule-based holidays that do not happen (the `from` of every moved day).
    removed: BTreeSet<NaiveDate>,
    /// Holidays added to the rules: extra days and the `to` of every moved day.
    /// An added date is a holiday even if it is also in `removed`.
    added: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar following the England and Wales rules with the given one-off changes.
    ///
    /// Pass [`HolidayRules::england_and_wales`] (optionally
    /// [extended](HolidayRules::extended_with) by a profile); `HolidayRules::default()`
    /// gives the bare rules with no one-off changes at all.
    #[must_use]
    pub fn new(rules: HolidayRules) -> Self {
        let removed = rules.moved_days.iter().map(|m| m.from).collect();
        let added = rules
            .extra_days
            .iter()
            .copied()
            .chain(rules.moved_days.iter().map(|m| m.to))
            .collect();
        Calendar { removed, added }
    }

    /// The England and Wales calendar with the known one-off changes
    /// (`Calendar::new(HolidayRules::england_and_wales())`).
    #[must_use]
    pub fn england_and_wales() -> Self {
        Calendar::new(HolidayRules::england_and_wales())
    }

    /// The public holidays of a year, sorted, after one-off changes are applied.
    ///
    /// When Christmas, Boxing Day or New Year's Day falls at a weekend the list holds
    /// the substitute weekday, not the weekend date (as the published lists do).
    #[must_use]
    pub fn public_holidays(&self, year: i32) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = rule_holidays(year)
            .filter(|d| !self.removed.contains(d))
            .collect();
        if let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) {
            days.extend(self.added.range(first..=last).copied());
        }
        days.sort_unstable();
        days.dedup();
        days
    }

    /// Whether `date` is a public holiday (a bank holiday by rule or a one-off).
    #[must_use]
    pub fn is_public_holiday(&self, date: NaiveDate) -> bool {
        if self.added.contains(&date) {
            return true;
        }
        is_rule_holiday(date) && !self.removed.contains(&date)
    }

    /// Whether `date` is a working day: Monday–Friday and not a public holiday.
    /// This is the day the S4 §3 "five working days" clock counts.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        is_weekday(date) && !self.is_public_holiday(date)
    }

    /// The `n`th working day after `date` (`date` itself is not counted; n = 0 returns `date`).
    ///
    /// The S4 §3 initial assessment is due by the end of
    /// `add_working_days(referral_date, 5)`. A result past the last date chrono can
    /// represent saturates to [`NaiveDate::MAX`].
    #[must_use]
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        // Above this many, skip whole weeks instead of stepping day by day.
        const STEP_LIMIT: u32 = 10;
        let mut current = date;
        let mut remaining = n;
        while remaining > STEP_LIMIT {
            // Any 7 consecutive days hold exactly 5 weekdays, so this jump passes at
            // most `remaining - 1` working days: at least one is still to find, and
            // the answer lies after `next`.
            let weeks = (remaining - 1) / 5;
            let Some(next) = current.checked_add_days(Days::new(u64::from(weeks) * 7)) else {
                return NaiveDate::MAX;
            };
            let passed = self.working_days_between(current, next);
            remaining = remaining.saturating_sub(passed);
            current = next;
        }
        while remaining > 0 {
            let Some(next) = current.succ_opt() else {
                return NaiveDate::MAX;
            };
            current = next;
            if self.is_working_day(current) {
                remaining -= 1;
            }
        }
        current
    }

    /// Working days in the half-open range (start, end]: 0 when end <= start.
    ///
    /// So `working_days_between(d, add_working_days(d, n)) == n`.
    #[must_use]
    pub fn working_days_between(&self, start: NaiveDate, end: NaiveDate) -> u32 {
        if end <= start {
            return 0;
        }
        let weekdays = weekdays_between(start, end);
        let (first_year, last_year) = (start.year(), end.year());
        let in_range = |h: &NaiveDate| start < *h && *h <= end;
        // Rule-based holidays are all weekdays. Only the first and last years need
        // working out date by date; every year between has its full count.
        let mut rule_days = rule_holidays(first_year).filter(in_range).count() as u64;
        if last_year > first_year {
            rule_days += rule_holidays(last_year).filter(in_range).count() as u64;
            rule_days += rule_holidays_in_years(first_year + 1, last_year);
        }
        // Less the rule-based ones removed by a move (unless added back, as those
        // are counted with the added days)...
        let removed = self
            .removed
            .range((Excluded(start), Included(end)))
            .filter(|d| is_rule_holiday(**d) && !self.added.contains(d))
            .count() as u64;
        // ...and less those also added, counted next.
        let rule_and_added = self
            .added
            .range((Excluded(start), Included(end)))
            .filter(|d| is_rule_holiday(**d))
            .count() as u64;
        let added = self
            .added
            .range((Excluded(start), Included(end)))
            .filter(|d| is_weekday(**d))
            .count() as u64;
        let holidays = (rule_days + added).saturating_sub(removed + rule_and_added);
        u32::try_from(weekdays.saturating_sub(holidays)).unwrap_or(u32::MAX)
    }
}

/// Whether `date` falls Monday to Friday.
fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Weekdays (Monday–Friday) in the half-open range (start, end]; `end > start`.
fn weekdays_between(start: NaiveDate, end: NaiveDate) -> u64 {
    let days = u64::try_from(end.signed_duration_since(start).num_days()).unwrap_or(0);
    let full_weeks = days / 7;
    let start_index = u64::from(start.weekday().num_days_from_monday());
    // The days after the last full week: start + 1 ..= start + days % 7.
    let rest = (1..=days % 7).filter(|i| (start_index + i) % 7 < 5).count() as u64;
    full_weeks * 5 + rest
}

/// Easter Sunday of a year in the Gregorian calendar, by the anonymous Gregorian
/// algorithm (Meeus/Jones/Butcher). `None` only outside chrono's date range.
fn easter_sunday(year: i32) -> Option<NaiveDate> {
    // Euclidean division keeps the algorithm right for every i32 year chrono
    // supports, including negative ones.
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The first `weekday` on or after `date`.
fn first_on_or_after(date: NaiveDate, weekday: Weekday) -> Option<NaiveDate> {
    let ahead = (7 + weekday.num_days_from_monday() - date.weekday().num_days_from_monday()) % 7;
    date.checked_add_days(Days::new(u64::from(ahead)))
}

/// The last `weekday` on or before `date`.
fn last_on_or_before(date: NaiveDate, weekday: Weekday) -> Option<NaiveDate> {
    let back = (7 + date.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
    date.checked_sub_days(Days::new(u64::from(back)))
}

/// New Year's Day; at a weekend, the following Monday.
fn new_year(year: i32) -> Option<NaiveDate> {
    let day = NaiveDate::from_ymd_opt(year, 1, 1)?;
    if is_weekday(day) {
        Some(day)
    } else {
        first_on_or_after(day, Weekday::Mon)
    }
}

/// Good Friday and Easter Monday.
fn good_friday_and_easter_monday(year: i32) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let easter = easter_sunday(year);
    (
        easter.and_then(|e| e.checked_sub_days(Days::new(2))),
        easter.and_then(|e| e.checked_add_days(Days::new(1))),
    )
}

/// Early May bank holiday: the first Monday in May, from 1978.
fn early_may(year: i32) -> Option<NaiveDate> {
    if year < 1978 {
        return None;
    }
    first_on_or_after(NaiveDate::from_ymd_opt(year, 5, 1)?, Weekday::Mon)
}

/// Spring bank holiday: the last Monday in May.
fn spring_bank_holiday(year: i32) -> Option<NaiveDate> {
    last_on_or_before(NaiveDate::from_ymd_opt(year, 5, 31)?, Weekday::Mon)
}

/// Summer bank holiday: the last Monday in August.
fn summer_bank_holiday(year: i32) -> Option<NaiveDate> {
    last_on_or_before(NaiveDate::from_ymd_opt(year, 8, 31)?, Weekday::Mon)
}

/// Christmas Day and Boxing Day, each moved to its substitute weekday when it
/// falls at a weekend.
fn christmas_and_boxing_day(year: i32) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let ymd = |day| NaiveDate::from_ymd_opt(year, 12, day);
    match ymd(25).map(|d| d.weekday()) {
        // Christmas Saturday: Christmas substitute Mon 27, Boxing Day substitute Tue 28.
        Some(Weekday::Sat) => (ymd(27), ymd(28)),
        // Christmas Sunday: Boxing Day Mon 26 as usual, Christmas substitute Tue 27.
        Some(Weekday::Sun) => (ymd(27), ymd(26)),
        // Christmas Friday: Boxing Day falls on Saturday, substitute Mon 28.
        Some(Weekday::Fri) => (ymd(25), ymd(28)),
        Some(_) => (ymd(25), ymd(26)),
        None => (None, None),
    }
}

/// How many bank holidays the rules give in the years `from..to`: eight a year
/// from 1978, seven before (no early May). Each year's are distinct weekdays,
/// because each rule lands in its own part of the year and every weekend date is
/// replaced by a substitute, so no date needs working out.
fn rule_holidays_in_years(from: i32, to: i32) -> u64 {
    let years = |from: i32, to: i32| u64::try_from(i64::from(to) - i64::from(from)).unwrap_or(0);
    years(from, to) * 7 + years(from.max(1978), to)
}

/// The England and Wales bank holidays of `year` by rule, before one-off changes,
/// with weekend days replaced by their substitute weekdays. All fall on weekdays
/// and within `year`; none repeats.
fn rule_holidays(year: i32) -> impl Iterator<Item = NaiveDate> {
    let (good_friday, easter_monday) = good_friday_and_easter_monday(year);
    let (christmas, boxing_day) = christmas_and_boxing_day(year);
    [
        new_year(year),
        good_friday,
        easter_monday,
        early_may(year),
        spring_bank_holiday(year),
        summer_bank_holiday(year),
        christmas,
        boxing_day,
    ]
    .into_iter()
    .flatten()
}

/// Whether `date` is one of [`rule_holidays`] of its year, working out only the
/// rule that could apply to its month (this is called once per day stepped).
fn is_rule_holiday(date: NaiveDate) -> bool {
    if !is_weekday(date) {
        return false;
    }
    let year = date.year();
    let day = Some(date);
    match date.month() {
        1 => date.day() <= 3 && new_year(year) == day,
        3 | 4 => {
            let (good_friday, easter_monday) = good_friday_and_easter_monday(year);
            good_friday == day || easter_monday == day
        }
        5 => early_may(year) == day || spring_bank_holiday(year) == day,
        8 => summer_bank_holiday(year) == day,
        12 => {
            let (christmas, boxing_day) = christmas_and_boxing_day(year);
            christmas == day || boxing_day == day
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a valid test date")
    }

    fn ew() -> Calendar {
        Calendar::england_and_wales()
    }

    fn holidays(year: i32) -> Vec<NaiveDate> {
        ew().public_holidays(year)
    }

    /// The naive definition: step one day at a time.
    fn add_by_stepping(calendar: &Calendar, start: NaiveDate, n: u32) -> NaiveDate {
        let mut current = start;
        let mut left = n;
        while left > 0 {
            current = current.succ_opt().expect("in range");
            if calendar.is_working_day(current) {
                left -= 1;
            }
        }
        current
    }

    // --- Easter ---

    #[test]
    fn easter_sunday_matches_known_dates() {
        let known = [
            date(1818, 3, 22), // earliest possible
            date(1943, 4, 25), // latest possible
            date(2000, 4, 23),
            date(2008, 3, 23),
            date(2011, 4, 24),
            date(2019, 4, 21),
            date(2020, 4, 12),
            date(2021, 4, 4),
            date(2022, 4, 17),
            date(2023, 4, 9),
            date(2024, 3, 31),
            date(2025, 4, 20),
            date(2026, 4, 5),
            date(2027, 3, 28),
            date(2038, 4, 25),
        ];
        for easter in known {
            assert_eq!(easter_sunday(easter.year()), Some(easter));
        }
    }

    #[test]
    fn easter_is_always_a_sunday_between_22_march_and_25_april() {
        for year in 1900..=2200 {
            let easter = easter_sunday(year).expect("in range");
            assert_eq!(easter.weekday(), Weekday::Sun, "{year}");
            assert!(
                easter >= date(year, 3, 22) && easter <= date(year, 4, 25),
                "{year}"
            );
        }
    }

    #[test]
    fn good_friday_and_easter_monday_surround_easter() {
        // Easter 2019-04-21 → Fri 19 and Mon 22; 2024-03-31 → Fri 29 Mar, Mon 1 Apr;
        // 2038-04-25 → Fri 23, Mon 26.
        let c = ew();
        for (friday, monday) in [
            (date(2019, 4, 19), date(2019, 4, 22)),
            (date(2024, 3, 29), date(2024, 4, 1)),
            (date(2038, 4, 23), date(2038, 4, 26)),
        ] {
            assert!(c.is_public_holiday(friday), "{friday}");
            assert!(c.is_public_holiday(monday), "{monday}");
        }
        // Easter Sunday itself is a weekend day, not a listed holiday.
        assert!(!c.is_public_holiday(date(2024, 3, 31)));
    }

    // --- New Year's Day ---

    #[test]
    fn new_year_on_a_weekday_is_1_january() {
        // 2020-01-01 Wednesday, 2021-01-01 Friday, 2024-01-01 Monday.
        for year in [2020, 2021, 2024] {
            assert_eq!(holidays(year)[0], date(year, 1, 1));
        }
    }

    #[test]
    fn new_year_on_saturday_moves_to_monday_3_january() {
        // 2022-01-01 and 2000-01-01 were Saturdays → Monday 3 January.
        for year in [2000, 2022] {
            assert_eq!(holidays(year)[0], date(year, 1, 3));
            assert!(!ew().is_public_holiday(date(year, 1, 1)));
        }
    }

    #[test]
    fn new_year_on_sunday_moves_to_monday_2_january() {
        // 2017-01-01 and 2023-01-01 were Sundays → Monday 2 January.
        for year in [2017, 2023] {
            assert_eq!(holidays(year)[0], date(year, 1, 2));
        }
    }

    // --- May and August ---

    #[test]
    fn early_may_is_the_first_monday_in_may() {
        // 2021: 1 May Sat → Mon 3; 2023: 1 May Mon → 1; 2024: 1 May Wed → Mon 6;
        // 2026: 1 May Fri → Mon 4.
        let c = ew();
        for day in [
            date(2021, 5, 3),
            date(2023, 5, 1),
            date(2024, 5, 6),
            date(2026, 5, 4),
        ] {
            assert!(c.is_public_holiday(day), "{day}");
        }
    }

    #[test]
    fn early_may_begins_in_1978() {
        // 1977-05-02 and 1978-05-01 were the first Mondays in May.
        let c = ew();
        assert!(!c.is_public_holiday(date(1977, 5, 2)));
        assert!(c.is_public_holiday(date(1978, 5, 1)));
    }

    #[test]
    fn spring_bank_holiday_is_the_last_monday_in_may() {
        // 2021-05-31 (31 May a Monday), 2023-05-29, 2024-05-27, 2025-05-26.
        let c = ew();
        for day in [
            date(2021, 5, 31),
            date(2023, 5, 29),
            date(2024, 5, 27),
            date(2025, 5, 26),
        ] {
            assert!(c.is_public_holiday(day), "{day}");
        }
    }

    #[test]
    fn summer_bank_holiday_is_the_last_monday_in_august() {
        // 2020-08-31 (31 Aug a Monday), 2022-08-29, 2024-08-26, 2025-08-25.
        let c = ew();
        for day in [
            date(2020, 8, 31),
            date(2022, 8, 29),
            date(2024, 8, 26),
            date(2025, 8, 25),
        ] {
            assert!(c.is_public_holiday(day), "{day}");
        }
    }

    // --- Christmas and Boxing Day ---

    #[test]
    fn christmas_and_boxing_day_on_weekdays_are_25_and_26_december() {
        // 2023: Mon 25, Tue 26; 2024: Wed 25, Thu 26; 2025: Thu 25, Fri 26.
        for year in [2023, 2024, 2025] {
            let days = holidays(year);
            assert_eq!(
                days[days.len() - 2..],
                [date(year, 12, 25), date(year, 12, 26)]
            );
        }
    }

    #[test]
    fn christmas_on_friday_moves_boxing_day_to_monday_28() {
        // 2020 and 2026: Christmas Friday, Boxing Day Saturday → Mon 28.
        for year in [2020, 2026] {
            let days = holidays(year);
            assert_eq!(
                days[days.len() - 2..],
                [date(year, 12, 25), date(year, 12, 28)]
            );
        }
    }

    #[test]
    fn christmas_on_saturday_gives_monday_27_and_tuesday_28() {
        // 2010, 2021 and 2027: Christmas Saturday, Boxing Day Sunday → Mon 27
        // (Christmas substitute) and Tue 28 (Boxing Day substitute).
        for year in [2010, 2021, 2027] {
            let days = holidays(year);
            assert_eq!(
                days[days.len() - 2..],
                [date(year, 12, 27), date(year, 12, 28)]
            );
            assert!(!ew().is_public_holiday(date(year, 12, 25)));
        }
    }

    #[test]
    fn christmas_on_sunday_gives_boxing_day_monday_26_and_tuesday_27() {
        // 2011 and 2022: Christmas Sunday → Boxing Day Mon 26, Christmas substitute
        // Tue 27; 28 December is a working day.
        for year in [2011, 2022] {
            let days = holidays(year);
            assert_eq!(
                days[days.len() - 2..],
                [date(year, 12, 26), date(year, 12, 27)]
            );
            assert!(ew().is_working_day(date(year, 12, 28)));
        }
    }

    // --- Full published lists ---

    #[test]
    fn holidays_2020_match_the_published_list() {
        let expected = [
            date(2020, 1, 1),
            date(2020, 4, 10),
            date(2020, 4, 13),
            date(2020, 5, 8), // early May moved to VE Day
            date(2020, 5, 25),
            date(2020, 8, 31),
            date(2020, 12, 25),
            date(2020, 12, 28), // Boxing Day substitute
        ];
        assert_eq!(holidays(2020), expected);
    }

    #[test]
    fn holidays_2021_match_the_published_list() {
        let expected = [
            date(2021, 1, 1),
            date(2021, 4, 2),
            date(2021, 4, 5),
            date(2021, 5, 3),
            date(2021, 5, 31),
            date(2021, 8, 30),
            date(2021, 12, 27), // Christmas substitute
            date(2021, 12, 28), // Boxing Day substitute
        ];
        assert_eq!(holidays(2021), expected);
    }

    #[test]
    fn holidays_2022_match_the_published_list() {
        let expected = [
            date(2022, 1, 3), // New Year substitute
            date(2022, 4, 15),
            date(2022, 4, 18),
            date(2022, 5, 2),
            date(2022, 6, 2), // spring bank holiday moved
            date(2022, 6, 3), // Platinum Jubilee
            date(2022, 8, 29),
            date(2022, 9, 19), // State funeral
            date(2022, 12, 26),
            date(2022, 12, 27), // Christmas substitute
        ];
        assert_eq!(holidays(2022), expected);
    }

    #[test]
    fn holidays_2023_match_the_published_list() {
        let expected = [
            date(2023, 1, 2), // New Year substitute
            date(2023, 4, 7),
            date(2023, 4, 10),
            date(2023, 5, 1),
            date(2023, 5, 8), // Coronation
            date(2023, 5, 29),
            date(2023, 8, 28),
            date(2023, 12, 25),
            date(2023, 12, 26),
        ];
        assert_eq!(holidays(2023), expected);
    }

    #[test]
    fn holidays_2024_match_the_published_list() {
        let expected = [
            date(2024, 1, 1),
            date(2024, 3, 29),
            date(2024, 4, 1),
            date(2024, 5, 6),
            date(2024, 5, 27),
            date(2024, 8, 26),
            date(2024, 12, 25),
            date(2024, 12, 26),
        ];
        assert_eq!(holidays(2024), expected);
    }

    #[test]
    fn holidays_2025_match_the_published_list() {
        let expected = [
            date(2025, 1, 1),
            date(2025, 4, 18),
            date(2025, 4, 21),
            date(2025, 5, 5),
            date(2025, 5, 26),
            date(2025, 8, 25),
            date(2025, 12, 25),
            date(2025, 12, 26),
        ];
        assert_eq!(holidays(2025), expected);
    }

    #[test]
    fn holidays_2026_match_the_published_list() {
        let expected = [
            date(2026, 1, 1),
            date(2026, 4, 3),
            date(2026, 4, 6),
            date(2026, 5, 4),
            date(2026, 5, 25),
            date(2026, 8, 31),
            date(2026, 12, 25),
            date(2026, 12, 28), // Boxing Day substitute
        ];
        assert_eq!(holidays(2026), expected);
    }

    #[test]
    fn holidays_2027_match_the_published_list() {
        let expected = [
            date(2027, 1, 1),
            date(2027, 3, 26),
            date(2027, 3, 29),
            date(2027, 5, 3),
            date(2027, 5, 31),
            date(2027, 8, 30),
            date(2027, 12, 27), // Christmas substitute
            date(2027, 12, 28), // Boxing Day substitute
        ];
        assert_eq!(holidays(2027), expected);
    }

    #[test]
    fn every_year_has_eight_rule_holidays_on_weekdays() {
        // Without one-offs, every year from 1978 has exactly eight bank holidays,
        // all on distinct weekdays.
        let bare = Calendar::new(HolidayRules::default());
        for year in 1978..=2200 {
            let days = bare.public_holidays(year);
            assert_eq!(days.len(), 8, "{year}");
            assert!(
                days.iter().all(|d| is_weekday(*d) && d.year() == year),
                "{year}"
            );
        }
    }

    #[test]
    fn month_by_month_check_agrees_with_the_year_list() {
        // `is_rule_holiday` works out one rule; `rule_holidays` lists them all.
        let mut day = date(1900, 1, 1);
        while day <= date(2200, 12, 31) {
            let listed = rule_holidays(day.year()).any(|h| h == day);
            assert_eq!(is_rule_holiday(day), listed, "{day}");
            day = day.succ_opt().expect("in range");
        }
    }

    #[test]
    fn rule_holiday_counts_by_year_match_the_lists() {
        for year in 1900..=2200 {
            let listed = rule_holidays(year).count() as u64;
            assert_eq!(rule_holidays_in_years(year, year + 1), listed, "{year}");
        }
        // 1970..1978 has 8 years of 7; 1978..1990 has 12 years of 8.
        assert_eq!(rule_holidays_in_years(1970, 1990), 8 * 7 + 12 * 8);
        assert_eq!(rule_holidays_in_years(1990, 1990), 0);
    }

    // --- One-off changes ---

    #[test]
    fn early_may_2020_moved_to_friday_8_may() {
        let c = ew();
        assert!(c.is_working_day(date(2020, 5, 4)));
        assert!(c.is_public_holiday(date(2020, 5, 8)));
    }

    #[test]
    fn spring_bank_holiday_2022_moved_to_thursday_2_june() {
        let c = ew();
        assert!(c.is_working_day(date(2022, 5, 30)));
        assert!(c.is_public_holiday(date(2022, 6, 2)));
    }

    #[test]
    fn extra_days_2022_and_2023_are_holidays() {
        let c = ew();
        for day in [date(2022, 6, 3), date(2022, 9, 19), date(2023, 5, 8)] {
            assert!(c.is_public_holiday(day), "{day}");
            assert!(!c.is_working_day(day), "{day}");
        }
    }

    #[test]
    fn historic_one_offs_are_applied() {
        let c = ew();
        for day in [
            date(1981, 7, 29),
            date(1995, 5, 8),
            date(1999, 12, 31),
            date(2002, 6, 3),
            date(2002, 6, 4),
            date(2011, 4, 29),
            date(2012, 6, 4),
            date(2012, 6, 5),
        ] {
            assert!(c.is_public_holiday(day), "{day}");
        }
        for day in [date(1995, 5, 1), date(2002, 5, 27), date(2012, 5, 28)] {
            assert!(c.is_working_day(day), "{day}");
        }
    }

    #[test]
    fn bare_rules_ignore_the_one_offs() {
        let bare = Calendar::new(HolidayRules::default());
        assert!(bare.is_public_holiday(date(2022, 5, 30)));
        assert!(!bare.is_public_holiday(date(2022, 6, 3)));
    }

    #[test]
    fn profile_extension_adds_an_extra_day() {
        // A hypothetical future one-off on Friday 2030-06-07.
        let profile = HolidayRules {
            extra_days: vec![date(2030, 6, 7)],
            moved_days: vec![],
        };
        let c = Calendar::new(HolidayRules::england_and_wales().extended_with(&profile));
        assert!(c.is_public_holiday(date(2030, 6, 7)));
        assert!(ew().is_working_day(date(2030, 6, 7)));
        // The built-in one-offs are kept.
        assert!(c.is_public_holiday(date(2023, 5, 8)));
    }

    #[test]
    fn profile_extension_moves_a_day() {
        // 2030 early May bank holiday is Mon 6 May; move it to Fri 10 May.
        let profile = HolidayRules {
            extra_days: vec![],
            moved_days: vec![MovedHoliday {
                from: date(2030, 5, 6),
                to: date(2030, 5, 10),
            }],
        };
        let c = Calendar::new(HolidayRules::england_and_wales().extended_with(&profile));
        assert!(c.is_working_day(date(2030, 5, 6)));
        assert!(c.is_public_holiday(date(2030, 5, 10)));
        assert_eq!(c.public_holidays(2030).len(), 8);
    }

    #[test]
    fn extending_twice_with_the_same_profile_changes_nothing() {
        let profile = HolidayRules {
            extra_days: vec![date(2030, 6, 7)],
            moved_days: vec![],
        };
        let once = HolidayRules::england_and_wales().extended_with(&profile);
        let twice = once.clone().extended_with(&profile);
        assert_eq!(once, twice);
    }

    #[test]
    fn extra_day_on_a_rule_holiday_is_listed_once() {
        let profile = HolidayRules {
            extra_days: vec![date(2026, 12, 25)],
            moved_days: vec![],
        };
        let c = Calendar::new(HolidayRules::england_and_wales().extended_with(&profile));
        assert_eq!(c.public_holidays(2026), holidays(2026));
        assert_eq!(
            c.working_days_between(date(2025, 12, 31), date(2026, 12, 31)),
            ew().working_days_between(date(2025, 12, 31), date(2026, 12, 31))
        );
    }

    #[test]
    fn rules_deserialise_from_a_profile_with_fields_omitted() {
        let rules: HolidayRules =
            serde_json::from_str(r#"{"extra_days": ["2030-06-07"]}"#).expect("valid json");
        assert_eq!(rules.extra_days, [date(2030, 6, 7)]);
        assert!(rules.moved_days.is_empty());
        let empty: HolidayRules = serde_json::from_str("{}").expect("valid json");
        assert_eq!(empty, HolidayRules::default());
    }

    #[test]
    fn rules_round_trip_through_json() {
        let rules = HolidayRules::england_and_wales();
        let json = serde_json::to_string(&rules).expect("serialises");
        assert!(json.contains(r#"{"from":"2022-05-30","to":"2022-06-02"}"#));
        let back: HolidayRules = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, rules);
    }

    // --- Working days ---

    #[test]
    fn weekends_are_not_working_days() {
        let c = ew();
        assert!(!c.is_working_day(date(2025, 6, 7))); // Saturday
        assert!(!c.is_working_day(date(2025, 6, 8))); // Sunday
        assert!(c.is_working_day(date(2025, 6, 9))); // Monday
    }

    #[test]
    fn bank_holidays_are_not_working_days() {
        assert!(!ew().is_working_day(date(2026, 5, 25)));
    }

    #[test]
    fn adding_zero_working_days_returns_the_date() {
        // Even when the date is itself not a working day.
        let c = ew();
        assert_eq!(c.add_working_days(date(2025, 6, 7), 0), date(2025, 6, 7));
        assert_eq!(
            c.add_working_days(date(2025, 12, 25), 0),
            date(2025, 12, 25)
        );
    }

    #[test]
    fn add_working_days_across_the_year_end() {
        // Wed 2025-12-24: Thu 25 and Fri 26 holidays, Sat 27/Sun 28 weekend,
        // Mon 29 (1), Tue 30 (2), Wed 31 (3), Thu 1 Jan holiday, Fri 2 Jan (4),
        // Sat 3/Sun 4 weekend, Mon 5 Jan (5).
        assert_eq!(
            ew().add_working_days(date(2025, 12, 24), 5),
            date(2026, 1, 5)
        );
    }

    #[test]
    fn add_working_days_across_easter() {
        // Thu 2026-04-02: Fri 3 Good Friday, Sat/Sun, Mon 6 Easter Monday,
        // Tue 7 (1), Wed 8 (2), Thu 9 (3), Fri 10 (4), Sat/Sun, Mon 13 (5).
        assert_eq!(
            ew().add_working_days(date(2026, 4, 2), 5),
            date(2026, 4, 13)
        );
    }

    #[test]
    fn five_working_days_from_a_friday_is_the_next_friday() {
        // Fri 2025-06-06: Mon 9 (1), Tue 10 (2), Wed 11 (3), Thu 12 (4), Fri 13 (5).
        assert_eq!(
            ew().add_working_days(date(2025, 6, 6), 5),
            date(2025, 6, 13)
        );
    }

    #[test]
    fn add_working_days_skips_a_bank_holiday_monday() {
        // Fri 2026-05-22 + 1: Sat/Sun, Mon 25 spring bank holiday → Tue 26.
        assert_eq!(
            ew().add_working_days(date(2026, 5, 22), 1),
            date(2026, 5, 26)
        );
        // Fri 2026-08-28 + 5: Mon 31 summer bank holiday, Tue 1 Sep (1),
        // Wed 2 (2), Thu 3 (3), Fri 4 (4), Mon 7 (5).
        assert_eq!(
            ew().add_working_days(date(2026, 8, 28), 5),
            date(2026, 9, 7)
        );
    }

    #[test]
    fn add_working_days_from_a_weekend_or_holiday_starts_counting_next_working_day() {
        let c = ew();
        // Sat 2025-06-07: Mon 9 (1) … Fri 13 (5).
        assert_eq!(c.add_working_days(date(2025, 6, 7), 5), date(2025, 6, 13));
        // Mon 2026-05-25 (holiday): Tue 26 (1), Wed 27 (2), Thu 28 (3), Fri 29 (4),
        // Mon 1 Jun (5).
        assert_eq!(c.add_working_days(date(2026, 5, 25), 5), date(2026, 6, 1));
    }

    #[test]
    fn add_working_days_treats_a_moved_holiday_day_as_working() {
        // Fri 2020-05-01 + 1 → Mon 2020-05-04 (early May moved to Fri 8 May).
        // Fri 2022-05-27 + 1 → Mon 2022-05-30 (spring moved to Thu 2 June).
        let c = ew();
        assert_eq!(c.add_working_days(date(2020, 5, 1), 1), date(2020, 5, 4));
        assert_eq!(c.add_working_days(date(2022, 5, 27), 1), date(2022, 5, 30));
        // Wed 2022-06-01 + 1: Thu 2 and Fri 3 holidays, Sat/Sun → Mon 6 June.
        assert_eq!(c.add_working_days(date(2022, 6, 1), 1), date(2022, 6, 6));
    }

    #[test]
    fn s4_initial_assessment_due_five_working_days_after_referral() {
        // S4 §3: referral Thu 2023-05-04: Fri 5 (1), Sat/Sun, Mon 8 Coronation,
        // Tue 9 (2), Wed 10 (3), Thu 11 (4), Fri 12 (5).
        assert_eq!(
            ew().add_working_days(date(2023, 5, 4), 5),
            date(2023, 5, 12)
        );
    }

    #[test]
    fn working_days_between_counts_the_half_open_range() {
        let c = ew();
        // (Wed 2025-12-24, Mon 2026-01-05]: 29, 30, 31 Dec, 2 Jan, 5 Jan = 5.
        assert_eq!(
            c.working_days_between(date(2025, 12, 24), date(2026, 1, 5)),
            5
        );
        // (Fri 2025-06-06, Fri 2025-06-13]: Mon–Fri = 5; the start is excluded,
        // the end included.
        assert_eq!(
            c.working_days_between(date(2025, 6, 6), date(2025, 6, 13)),
            5
        );
        // (Mon 2025-06-09, Tue 2025-06-10] = 1.
        assert_eq!(
            c.working_days_between(date(2025, 6, 9), date(2025, 6, 10)),
            1
        );
    }

    #[test]
    fn working_days_between_is_zero_when_end_is_not_after_start() {
        let c = ew();
        assert_eq!(
            c.working_days_between(date(2025, 6, 9), date(2025, 6, 9)),
            0
        );
        assert_eq!(
            c.working_days_between(date(2025, 6, 13), date(2025, 6, 9)),
            0
        );
    }

    #[test]
    fn working_days_in_whole_years() {
        let c = ew();
        // 2026: 365 days from Thu 1 Jan, 52 weeks + Thu 31 Dec = 261 weekdays,
        // less 8 holidays = 253.
        assert_eq!(
            c.working_days_between(date(2025, 12, 31), date(2026, 12, 31)),
            253
        );
        // 2022: from Sat 1 Jan, 52 weeks + Sat 31 Dec = 260 weekdays, less 10
        // holidays (all weekdays) = 250.
        assert_eq!(
            c.working_days_between(date(2021, 12, 31), date(2022, 12, 31)),
            250
        );
        // 2024 (leap): from Mon 1 Jan, 52 weeks + Mon 30 and Tue 31 Dec = 262
        // weekdays, less 8 = 254.
        assert_eq!(
            c.working_days_between(date(2023, 12, 31), date(2024, 12, 31)),
            254
        );
    }

    #[test]
    fn add_working_days_agrees_with_stepping_day_by_day() {
        let c = ew();
        // Every start date over nine years; n up to 13 covers stepping day by day
        // and skipping whole weeks (n > 10), 25 a longer skip.
        let mut start = date(2019, 1, 1);
        while start <= date(2027, 12, 31) {
            for n in (0..=13).chain([25]) {
                let due = c.add_working_days(start, n);
                assert_eq!(due, add_by_stepping(&c, start, n), "{start} + {n}");
                assert_eq!(c.working_days_between(start, due), n, "{start} + {n}");
                assert!(n == 0 || c.is_working_day(due), "{start} + {n}");
            }
            start = start.succ_opt().expect("in range");
        }
    }

    #[test]
    fn odd_profiles_count_the_same_as_day_by_day() {
        let profile = HolidayRules {
            extra_days: vec![
                date(2026, 6, 6),   // a Saturday
                date(2026, 5, 25),  // already the spring bank holiday
                date(2026, 12, 25), // added back after being moved away below
            ],
            moved_days: vec![
                MovedHoliday {
                    from: date(2026, 8, 31),
                    to: date(2026, 9, 1),
                },
                MovedHoliday {
                    from: date(2026, 7, 1), // not a holiday: nothing to remove
                    to: date(2026, 7, 5),   // a Sunday
                },
                MovedHoliday {
                    from: date(2026, 12, 25),
                    to: date(2026, 12, 29),
                },
            ],
        };
        let c = Calendar::new(HolidayRules::england_and_wales().extended_with(&profile));
        // 1 Jan, 3 Apr, 6 Apr, 4 May, 25 May, 6 Jun (Sat), 5 Jul (Sun), 1 Sep,
        // 25 Dec (added back), 28 Dec, 29 Dec.
        assert_eq!(c.public_holidays(2026).len(), 11);
        assert!(c.is_working_day(date(2026, 8, 31)));
        assert!(c.is_working_day(date(2026, 7, 1)));
        assert!(c.is_public_holiday(date(2026, 12, 25)));
        let mut start = date(2025, 12, 1);
        while start <= date(2027, 1, 31) {
            let mut end = start;
            let mut counted = 0;
            for _ in 0..60 {
                assert_eq!(
                    c.working_days_between(start, end),
                    counted,
                    "{start}..{end}"
                );
                end = end.succ_opt().expect("in range");
                if c.is_working_day(end) {
                    counted += 1;
                }
            }
            start = start.succ_opt().expect("in range");
        }
    }

    #[test]
    fn add_many_working_days_agrees_with_stepping_day_by_day() {
        let c = ew();
        for (start, n) in [
            (date(1990, 3, 3), 11),
            (date(1999, 12, 30), 12),
            (date(2000, 1, 1), 3_000),
            (date(2021, 12, 24), 253),
            (date(2022, 5, 27), 1_234),
            (date(1900, 1, 1), 50_000),
        ] {
            assert_eq!(
                c.add_working_days(start, n),
                add_by_stepping(&c, start, n),
                "{start} + {n}"
            );
        }
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let c = ew();
        for year in 1900..=2200 {
            let _ = c.public_holidays(year);
        }
        assert_eq!(c.add_working_days(NaiveDate::MAX, 1), NaiveDate::MAX);
        assert_eq!(c.add_working_days(NaiveDate::MIN, u32::MAX), NaiveDate::MAX);
        assert_eq!(
            c.add_working_days(date(2200, 12, 31), u32::MAX),
            NaiveDate::MAX
        );
        let _ = c.public_holidays(NaiveDate::MIN.year());
        let _ = c.public_holidays(NaiveDate::MAX.year());
        let _ = c.public_holidays(i32::MIN);
        let _ = c.public_holidays(i32::MAX);
        let _ = c.is_working_day(NaiveDate::MIN);
        let _ = c.is_working_day(NaiveDate::MAX);
        assert!(c.working_days_between(NaiveDate::MIN, NaiveDate::MAX) > 0);
        let _ = c.add_working_days(NaiveDate::MIN, 1_000);
    }
}
