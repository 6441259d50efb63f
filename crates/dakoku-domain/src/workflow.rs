//! The states of what people submit and others decide on, and the only moves between them.
//! Pure: the service checks who may act, these say what an action does to a state.

use serde::{Deserialize, Serialize};

/// Where a month stands in the monthly workflow (月次締め / 月结).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonthStatus {
    /// Punches and corrections are taken.
    #[default]
    Open,
    /// Waiting for the manager or HR; locked.
    Submitted,
    /// Decided; the figures are frozen for payroll; locked.
    Approved,
}

/// What someone does to a month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonthAction {
    Submit,
    Approve,
    /// 差戻し / 驳回: back to open, from submitted or approved.
    SendBack,
}

impl MonthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Submitted => "submitted",
            Self::Approved => "approved",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Open, Self::Submitted, Self::Approved].into_iter().find(|s| s.as_str() == text)
    }

    /// Whether punches and corrections in the month are refused.
    pub fn is_locked(self) -> bool {
        self != Self::Open
    }

    /// The status after `action`, or `None` when the action does not apply in this status.
    pub fn after(self, action: MonthAction) -> Option<Self> {
        match (action, self) {
            (MonthAction::Submit, Self::Open) => Some(Self::Submitted),
            (MonthAction::Approve, Self::Submitted) => Some(Self::Approved),
            (MonthAction::SendBack, Self::Submitted | Self::Approved) => Some(Self::Open),
            _ => None,
        }
    }
}

impl MonthAction {
    /// The action's name in routes and the audit trail (`submit`, `approve`, `send-back`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::SendBack => "send-back",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Submit, Self::Approve, Self::SendBack].into_iter().find(|a| a.as_str() == text)
    }

    /// How a month this was done to is described ("it cannot be …").
    pub fn done(self) -> &'static str {
        match self {
            Self::Submit => "submitted",
            Self::Approve => "approved",
            Self::SendBack => "sent back",
        }
    }
}

/// Where a punch correction stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionStatus {
    #[default]
    Pending,
    Approved,
    Rejected,
}

impl CorrectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected].into_iter().find(|s| s.as_str() == text)
    }

    /// The status after a decision, or `None` once decided (a decision is final).
    pub fn decided(self, approve: bool) -> Option<Self> {
        match self {
            Self::Pending if approve => Some(Self::Approved),
            Self::Pending => Some(Self::Rejected),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MonthAction::*;
    use MonthStatus::*;

    #[test]
    fn every_month_move_and_every_refusal() {
        let table = [
            (Open, Submit, Some(Submitted)),
            (Open, Approve, None),
            (Open, SendBack, None),
            (Submitted, Submit, None),
            (Submitted, Approve, Some(Approved)),
            (Submitted, SendBack, Some(Open)),
            (Approved, Submit, None),
            (Approved, Approve, None),
            (Approved, SendBack, Some(Open)),
        ];
        for (from, action, to) in table {
            assert_eq!(from.after(action), to, "{from:?} --{action:?}-->");
        }
        for status in [Open, Submitted, Approved] {
            assert_eq!(MonthStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(MonthAction::parse("send-back"), Some(SendBack));
        assert_eq!(MonthAction::parse("reopen"), None);
        assert!(!Open.is_locked() && Submitted.is_locked() && Approved.is_locked());
    }

    #[test]
    fn a_correction_is_decided_once() {
        assert_eq!(CorrectionStatus::Pending.decided(true), Some(CorrectionStatus::Approved));
        assert_eq!(CorrectionStatus::Pending.decided(false), Some(CorrectionStatus::Rejected));
        assert_eq!(CorrectionStatus::Approved.decided(false), None);
        assert_eq!(CorrectionStatus::Rejected.decided(true), None);
        assert_eq!(CorrectionStatus::parse("rejected"), Some(CorrectionStatus::Rejected));
    }
}
