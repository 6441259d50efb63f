//! The states of what people submit and others decide on, and the only moves between them.
//! Pure: the service checks who may act, these say what an action does to a state.

use serde::{Deserialize, Serialize};
use std::fmt;

text_enum!(
    /// Where a month stands in the monthly workflow (月次締め / 月结): `open` takes punches and
    /// corrections; `submitted` waits for the manager or HR; `approved` is frozen for payroll.
    MonthStatus {
        Open = "open",
        Submitted = "submitted",
        Approved = "approved",
    }
);

// text_enum! writes the derives, so the default is spelled out here.
#[allow(clippy::derivable_impls)]
impl Default for MonthStatus {
    fn default() -> Self {
        Self::Open
    }
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

text_enum!(
    /// Where a punch correction stands.
    CorrectionStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
);

#[allow(clippy::derivable_impls)]
impl Default for CorrectionStatus {
    fn default() -> Self {
        Self::Pending
    }
}

impl CorrectionStatus {
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
