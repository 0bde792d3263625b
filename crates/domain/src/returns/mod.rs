//! The return engine (REQUIREMENTS §16; KM 6.1–6.7; S4 §5; docs/kpis.md, which is the
//! definition of every line): one small pure function per KPI, beside its definition,
//! over a [`cut::Cut`] of the log as at an instant and a [`period::Period`]. Each KPI
//! function lists the items that make up its figure ([`figure::Figure`]); a return
//! turns those into lines for each row (an establishment, or all of them together).
//!
//! The cut folds every person's case once; every line then reads the folded cases,
//! so one pass over the events serves the whole return.

pub mod annual;
pub mod cut;
pub mod disclosure;
pub mod figure;
pub mod kind_periods;
pub mod km_activity;
pub(crate) mod km_activity_spans;
pub mod km_outcomes;
pub mod km_quality;
pub mod period;
pub mod s4;
pub mod shared;

use crate::events::RecordedEvent;
use crate::narratives::{Narrative, NarrativeReturn};
use crate::profile::Profile;
use chrono::{DateTime, Utc};
use cut::Cut;
use figure::{Line, LineFigure, RowKey};
use period::Period;
use serde::{Deserialize, Serialize};

/// A KPI function: the figures of one line (or its sub-rows) over a cut and a period.
pub type KpiFn = fn(&Cut<'_>, &Period) -> Vec<LineFigure>;

/// Which return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReturnKind {
    /// The KM quarterly return to the commissioner, by prison and for all (KM 6.4–6.7).
    KmQuarterly,
    /// The S4 six-monthly anonymised report (S4 §5).
    S4SixMonthly,
    /// The annual report over the service's year (S4 §6, §9–10; KM 4.18–4.24):
    /// the S4 §5 lines for the core and the SPI service, the equality breakdown
    /// and the survey results ([`annual`]).
    Annual,
}

impl ReturnKind {
    /// The return's machine name (`km-quarterly`, `s4-six-monthly`).
    pub fn code(self) -> &'static str {
        match self {
            ReturnKind::KmQuarterly => "km-quarterly",
            ReturnKind::S4SixMonthly => "s4-six-monthly",
            ReturnKind::Annual => "annual",
        }
    }

    /// The return with this machine name.
    pub fn from_code(code: &str) -> Option<ReturnKind> {
        [
            ReturnKind::KmQuarterly,
            ReturnKind::S4SixMonthly,
            ReturnKind::Annual,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }

    /// The narratives this return carries, if any (S4 §5, §9; KM 4.24).
    pub fn narrative_return(self) -> Option<NarrativeReturn> {
        match self {
            ReturnKind::KmQuarterly => None,
            ReturnKind::S4SixMonthly => Some(NarrativeReturn::S4SixMonthly),
            ReturnKind::Annual => Some(NarrativeReturn::Annual),
        }
    }

    /// The KPI functions of the return, in the order of its lines.
    pub fn lines(self) -> Vec<KpiFn> {
        match self {
            ReturnKind::KmQuarterly => km_activity::LINES
                .iter()
                .chain(km_quality::LINES)
                .chain(km_outcomes::LINES)
                .copied()
                .collect(),
            ReturnKind::S4SixMonthly => s4::LINES.to_vec(),
            ReturnKind::Annual => annual::LINES.to_vec(),
        }
    }
}

/// A return as at an instant: every line's figure, and the rows it is reported for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    /// Which return.
    pub kind: ReturnKind,
    /// The period it covers.
    pub period: Period,
    /// The as-at instant: only events appended by then count.
    pub as_at: DateTime<Utc>,
    /// The highest sequence number in the cut.
    pub last_seq: i64,
    /// The profile's machine name.
    pub profile: String,
    /// The profile's version (printed on every return made with it).
    pub profile_version: String,
    /// The rows: each establishment of the profile, then all together.
    pub rows: Vec<RowKey>,
    /// Every line's figure, in order.
    pub figures: Vec<LineFigure>,
    /// The narrative sections written for this return and period by the as-at
    /// instant, the latest of each (S4 §5, §9; [`crate::narratives`]).
    #[serde(default)]
    pub narratives: Vec<Narrative>,
}

impl Return {
    /// Computes `kind` over `events` (the whole log, any order) as at `as_at`.
    pub fn compute(
        kind: ReturnKind,
        profile: &Profile,
        events: &[RecordedEvent],
        as_at: DateTime<Utc>,
        period: &Period,
    ) -> Return {
        let cut = Cut::new(profile, events, as_at);
        Return::from_cut(kind, &cut, period)
    }

    /// Computes `kind` over a cut already made.
    pub fn from_cut(kind: ReturnKind, cut: &Cut<'_>, period: &Period) -> Return {
        let mut rows: Vec<RowKey> = cut
            .profile
            .establishments
            .iter()
            .map(|e| RowKey::Establishment(e.code.clone()))
            .collect();
        if rows.len() > 1 {
            rows.push(RowKey::All);
        }
        Return {
            kind,
            period: period.clone(),
            as_at: cut.as_at,
            last_seq: cut.last_seq,
            profile: cut.profile.id.clone(),
            profile_version: cut.profile.version.clone(),
            rows,
            figures: kind
                .lines()
                .into_iter()
                .flat_map(|f| f(cut, period))
                .collect(),
            narratives: kind
                .narrative_return()
                .map(|n| crate::narratives::latest(&cut.service_events, n, &period.name))
                .unwrap_or_default(),
        }
    }

    /// The lines of one row.
    pub fn lines(&self, row: &RowKey) -> Vec<Line> {
        self.figures.iter().map(|f| f.line(row)).collect()
    }

    /// The figure with this code.
    pub fn figure(&self, code: &str) -> Option<&LineFigure> {
        self.figures.iter().find(|f| f.code == code)
    }
}

#[cfg(test)]
pub(crate) mod testkit;
