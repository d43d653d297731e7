//! The refund lifecycle: the states a Paydesk refund goes through, the events that move it,
//! and the one table ([`transition`]) that says which event is allowed in which state.
//!
//! ```text
//!   (created) ──► requested ──hold_for_approval──► awaiting_approval ──reject──► rejected ■
//!                  │    ▲                                  │
//!                  │    └───────────approve────────────────┘
//!                  │ send
//!                  ▼
//!               sending ──────provider_accepted──────► processing
//!                  │                                       │
//!                  │  provider_succeeded ──► succeeded ■   │  (the same four answers)
//!                  ├─ provider_failed ─────► failed ■ ◄────┤
//!                  │  provider_refused ────► failed ■      │
//!                  └─ provider_needs_attention ─► needs_attention (a person takes over)
//!
//!   In sending and processing, provider_unknown and provider_not_found (and
//!   provider_accepted while already processing) keep the state: the executor records an
//!   attempt, asks again, and re-sends the same refund number only on provider_not_found.
//!   ■ final: nothing moves it. needs_attention accepts no event either.
//! ```
//!
//! - A refund is created `requested` (the amount is reserved on the order's ledger); over the
//!   requester's limit or daily count it moves on at once to `awaiting_approval`.
//! - A provider's answer is first [`settle`]d into an [`Event`]: an amount that disagrees with
//!   what Paydesk asked for needs a person, unless the provider says the refund failed.
//! - `failed` and `rejected` release the reservation ([`Transition::releases_reservation`]).
//! - [`refundable`]: what an order can still be refunded, in checked arithmetic.
//!
//! The state strings ([`RefundState::as_str`], the serde form) are what the database stores.

use crate::names::{self, Case};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use strum::VariantArray;

/// Where a Paydesk refund is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RefundState {
    /// Admitted (amount reserved on the ledger), within limits or approved; not sent yet.
    Requested,
    /// Over the requester's limit: waits for another user's approval.
    AwaitingApproval,
    /// The intent is committed and the provider is (or may have been) called; outcome unknown.
    Sending,
    /// The provider accepted it and has not finished (WeChat PROCESSING, Stripe pending,
    /// Alipay fund_change=N not yet confirmed).
    Processing,
    Succeeded,
    /// Final failure at the provider; the reservation is released.
    Failed,
    /// Needs a person (WeChat ABNORMAL, Stripe requires_action, amount disagreement).
    NeedsAttention,
    /// An approver rejected it; the reservation is released.
    Rejected,
}

impl RefundState {
    pub const ALL: [RefundState; 8] = names::array(RefundState::VARIANTS);

    /// The state a refund is created in.
    pub const INITIAL: RefundState = RefundState::Requested;

    pub fn as_str(&self) -> &'static str {
        self.into()
    }

    /// No further automatic or human step changes it.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            RefundState::Succeeded | RefundState::Failed | RefundState::Rejected
        )
    }

    /// The refund's amount counts against the order's refundable amount.
    pub fn holds_reservation(&self) -> bool {
        !matches!(self, RefundState::Failed | RefundState::Rejected)
    }

    /// States the executor (and `paydesk refunds resume`) drives forward.
    pub fn is_unfinished(&self) -> bool {
        matches!(
            self,
            RefundState::Requested | RefundState::Sending | RefundState::Processing
        )
    }
}

impl FromStr for RefundState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        names::parse(s, Case::Insensitive, &[]).ok_or_else(|| {
            format!(
                "unknown refund state {s:?} (expected one of {})",
                names::listed::<RefundState>(", ")
            )
        })
    }
}

/// What happens to a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// At creation: over the requester's per-refund limit or daily count.
    HoldForApproval,
    /// Another user with `refund.approve` approves it.
    Approve,
    /// Another user with `refund.approve` rejects it.
    Reject,
    /// The executor commits the intent to call the provider.
    Send,
    /// The provider reports the money refunded.
    ProviderSucceeded,
    /// The provider accepted it and has not finished (pending or processing).
    ProviderAccepted,
    /// The provider reports a final failure.
    ProviderFailed,
    /// The provider definitely refused the create call: nothing was refunded.
    ProviderRefused,
    /// The provider needs a person, or reports another amount than Paydesk asked for.
    ProviderNeedsAttention,
    /// No usable answer (timeout, reset, 5xx, unverifiable): the refund may or may not exist.
    ProviderUnknown,
    /// A query: the provider has no refund with this number (the executor sends it again,
    /// with the same number).
    ProviderNotFound,
}

impl Event {
    pub const ALL: [Event; 11] = [
        Event::HoldForApproval,
        Event::Approve,
        Event::Reject,
        Event::Send,
        Event::ProviderSucceeded,
        Event::ProviderAccepted,
        Event::ProviderFailed,
        Event::ProviderRefused,
        Event::ProviderNeedsAttention,
        Event::ProviderUnknown,
        Event::ProviderNotFound,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Event::HoldForApproval => "hold_for_approval",
            Event::Approve => "approve",
            Event::Reject => "reject",
            Event::Send => "send",
            Event::ProviderSucceeded => "provider_succeeded",
            Event::ProviderAccepted => "provider_accepted",
            Event::ProviderFailed => "provider_failed",
            Event::ProviderRefused => "provider_refused",
            Event::ProviderNeedsAttention => "provider_needs_attention",
            Event::ProviderUnknown => "provider_unknown",
            Event::ProviderNotFound => "provider_not_found",
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An allowed step: `event` moves a refund from `from` to `to` (`from == to`: it stays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    pub from: RefundState,
    pub event: Event,
    pub to: RefundState,
}

impl Transition {
    /// The event leaves the state as it is (the executor records an attempt instead).
    pub fn is_stay(&self) -> bool {
        self.from == self.to
    }

    /// The refund's amount goes back to the order's refundable amount.
    pub fn releases_reservation(&self) -> bool {
        self.from.holds_reservation() && !self.to.holds_reservation()
    }
}

/// `event` is not allowed in `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a refund that is {state} does not accept {event}")]
pub struct Illegal {
    pub state: RefundState,
    pub event: Event,
}

/// The lifecycle table: where `event` takes a refund that is `state`.
pub fn transition(state: RefundState, event: Event) -> Result<Transition, Illegal> {
    use Event as E;
    use RefundState as S;
    let to = match (state, event) {
        (S::Requested, E::HoldForApproval) => S::AwaitingApproval,
        (S::Requested, E::Send) => S::Sending,
        (S::AwaitingApproval, E::Approve) => S::Requested,
        (S::AwaitingApproval, E::Reject) => S::Rejected,
        (S::Sending | S::Processing, E::ProviderSucceeded) => S::Succeeded,
        (S::Sending | S::Processing, E::ProviderAccepted) => S::Processing,
        (S::Sending | S::Processing, E::ProviderFailed | E::ProviderRefused) => S::Failed,
        (S::Sending | S::Processing, E::ProviderNeedsAttention) => S::NeedsAttention,
        (S::Sending | S::Processing, E::ProviderUnknown | E::ProviderNotFound) => state,
        _ => return Err(Illegal { state, event }),
    };
    Ok(Transition {
        from: state,
        event,
        to,
    })
}

/// A refund's state as a provider reports it (what `paydesk_providers::adapter::RefundState`
/// says; the core cannot name that type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reported {
    Pending,
    Processing,
    Succeeded,
    Failed,
    NeedsAttention,
}

impl Reported {
    pub const ALL: [Reported; 5] = [
        Reported::Pending,
        Reported::Processing,
        Reported::Succeeded,
        Reported::Failed,
        Reported::NeedsAttention,
    ];
}

/// The provider reported an amount and it is not the one Paydesk asked for.
pub fn amount_disagrees(reported_amount: Option<i64>, requested: i64) -> bool {
    reported_amount.is_some_and(|a| a != requested)
}

/// Settles a definite provider answer into the lifecycle's event: an amount other than the
/// `requested` one needs a person, unless the provider says the refund failed.
pub fn settle(reported: Reported, reported_amount: Option<i64>, requested: i64) -> Event {
    if amount_disagrees(reported_amount, requested) && reported != Reported::Failed {
        return Event::ProviderNeedsAttention;
    }
    match reported {
        Reported::Succeeded => Event::ProviderSucceeded,
        Reported::Pending | Reported::Processing => Event::ProviderAccepted,
        Reported::Failed => Event::ProviderFailed,
        Reported::NeedsAttention => Event::ProviderNeedsAttention,
    }
}

/// An order's refund amounts, minor units of the order's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RefundAmounts {
    /// What the order was paid (0 when it is not paid).
    pub paid: i64,
    /// Refunds made outside Paydesk (the order mirror records them).
    pub refunded_outside: i64,
    /// Paydesk refunds that succeeded.
    pub refunded_by_paydesk: i64,
    /// Paydesk refunds that hold a reservation and have not succeeded (requested, awaiting
    /// approval, sending, processing, needing attention).
    pub in_flight: i64,
}

/// paid − refunded outside Paydesk − refunded by Paydesk − in flight; `None` when the
/// arithmetic overflows. It can be negative (more was refunded outside Paydesk than paid);
/// callers that show "at most" clamp it.
pub fn refundable(a: &RefundAmounts) -> Option<i64> {
    a.paid
        .checked_sub(a.refunded_outside)?
        .checked_sub(a.refunded_by_paydesk)?
        .checked_sub(a.in_flight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use Event as E;
    use RefundState as S;

    // Short names for the expected table: `__` illegal, else the state the event leads to.
    const __: Option<RefundState> = None;
    const RQ: Option<RefundState> = Some(S::Requested);
    const AA: Option<RefundState> = Some(S::AwaitingApproval);
    const SE: Option<RefundState> = Some(S::Sending);
    const PR: Option<RefundState> = Some(S::Processing);
    const SU: Option<RefundState> = Some(S::Succeeded);
    const FA: Option<RefundState> = Some(S::Failed);
    const NA: Option<RefundState> = Some(S::NeedsAttention);
    const RJ: Option<RefundState> = Some(S::Rejected);

    /// Every state × every event, columns in the order of `Event::ALL`.
    #[rustfmt::skip]
    const TABLE: [(RefundState, [Option<RefundState>; 11]); 8] = [
        //                     hold approve reject send  succ. accep. failed refus. attn. unkn. not_found
        (S::Requested,        [AA,  __,     __,    SE,   __,   __,    __,    __,    __,   __,   __]),
        (S::AwaitingApproval, [__,  RQ,     RJ,    __,   __,   __,    __,    __,    __,   __,   __]),
        (S::Sending,          [__,  __,     __,    __,   SU,   PR,    FA,    FA,    NA,   SE,   SE]),
        (S::Processing,       [__,  __,     __,    __,   SU,   PR,    FA,    FA,    NA,   PR,   PR]),
        (S::Succeeded,        [__,  __,     __,    __,   __,   __,    __,    __,    __,   __,   __]),
        (S::Failed,           [__,  __,     __,    __,   __,   __,    __,    __,    __,   __,   __]),
        (S::NeedsAttention,   [__,  __,     __,    __,   __,   __,    __,    __,    __,   __,   __]),
        (S::Rejected,         [__,  __,     __,    __,   __,   __,    __,    __,    __,   __,   __]),
    ];

    #[test]
    fn every_state_and_event() {
        assert_eq!(
            TABLE.map(|(s, _)| s),
            RefundState::ALL,
            "one row per state, in order"
        );
        let mut checked = 0;
        for (state, row) in TABLE {
            for (event, want) in Event::ALL.into_iter().zip(row) {
                let got = transition(state, event);
                match want {
                    Some(to) => assert_eq!(
                        got,
                        Ok(Transition {
                            from: state,
                            event,
                            to
                        }),
                        "{state} + {event}"
                    ),
                    None => assert_eq!(got, Err(Illegal { state, event }), "{state} + {event}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 8 * 11);
    }

    #[test]
    fn final_states_and_needs_attention_accept_nothing() {
        for state in RefundState::ALL {
            let accepts = Event::ALL
                .into_iter()
                .filter(|e| transition(state, *e).is_ok())
                .count();
            let closed = state.is_final() || state == S::NeedsAttention;
            assert_eq!(accepts == 0, closed, "{state}");
        }
    }

    #[test]
    fn stays_only_while_at_the_provider() {
        for state in RefundState::ALL {
            for event in Event::ALL {
                if let Ok(t) = transition(state, event) {
                    if t.is_stay() {
                        assert!(matches!(state, S::Sending | S::Processing), "{t:?}");
                        assert!(
                            matches!(
                                event,
                                E::ProviderUnknown | E::ProviderNotFound | E::ProviderAccepted
                            ),
                            "{t:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn only_failed_and_rejected_release_the_reservation() {
        let mut releasing = BTreeSet::new();
        for state in RefundState::ALL {
            for event in Event::ALL {
                if let Ok(t) = transition(state, event) {
                    if t.releases_reservation() {
                        releasing.insert((t.from, t.to));
                    }
                    // A refund never takes a reservation back once released.
                    assert!(t.from.holds_reservation() || !t.to.holds_reservation());
                }
            }
        }
        let want: BTreeSet<_> = [
            (S::AwaitingApproval, S::Rejected),
            (S::Sending, S::Failed),
            (S::Processing, S::Failed),
        ]
        .into_iter()
        .collect();
        assert_eq!(releasing, want);
    }

    #[test]
    fn every_state_is_reachable_from_the_initial_one() {
        let mut seen = BTreeSet::from([RefundState::INITIAL]);
        let mut todo = vec![RefundState::INITIAL];
        while let Some(s) = todo.pop() {
            for e in Event::ALL {
                if let Ok(t) = transition(s, e) {
                    if seen.insert(t.to) {
                        todo.push(t.to);
                    }
                }
            }
        }
        assert_eq!(seen.len(), RefundState::ALL.len(), "{seen:?}");
    }

    #[test]
    fn unfinished_states_have_a_way_forward() {
        for state in RefundState::ALL.into_iter().filter(|s| s.is_unfinished()) {
            assert!(
                Event::ALL
                    .into_iter()
                    .filter_map(|e| transition(state, e).ok())
                    .any(|t| !t.is_stay()),
                "{state}"
            );
        }
    }

    #[test]
    fn illegal_says_what_and_where() {
        let e = transition(S::Succeeded, E::Send).expect_err("succeeded is final");
        assert_eq!(
            e.to_string(),
            "a refund that is succeeded does not accept send"
        );
    }

    #[test]
    fn state_strings_round_trip_and_match_serde() {
        for s in RefundState::ALL {
            assert_eq!(s.as_str().parse::<RefundState>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_string(&s).expect("serialize");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<RefundState>(&json).ok(), Some(s));
        }
        assert_eq!(
            " Awaiting_Approval ".parse::<RefundState>(),
            Ok(S::AwaitingApproval)
        );
        let err = "bogus".parse::<RefundState>().expect_err("unknown");
        assert!(err.contains("\"bogus\""), "{err}");
        assert!(err.contains("needs_attention"), "{err}");
        // The strings the database holds (migration 0003).
        assert_eq!(
            RefundState::ALL.map(|s| s.as_str()),
            [
                "requested",
                "awaiting_approval",
                "sending",
                "processing",
                "succeeded",
                "failed",
                "needs_attention",
                "rejected"
            ]
        );
    }

    #[test]
    fn state_predicates() {
        let finals: Vec<_> = RefundState::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, [S::Succeeded, S::Failed, S::Rejected]);
        let holding: Vec<_> = RefundState::ALL
            .into_iter()
            .filter(|s| !s.holds_reservation())
            .collect();
        assert_eq!(holding, [S::Failed, S::Rejected]);
        let unfinished: Vec<_> = RefundState::ALL
            .into_iter()
            .filter(|s| s.is_unfinished())
            .collect();
        assert_eq!(unfinished, [S::Requested, S::Sending, S::Processing]);
    }

    #[test]
    fn event_strings_are_distinct() {
        let names: BTreeSet<_> = Event::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), Event::ALL.len());
        assert_eq!(E::ProviderNotFound.to_string(), "provider_not_found");
    }

    #[test]
    fn settle_maps_every_reported_state() {
        let want = [
            (Reported::Pending, E::ProviderAccepted),
            (Reported::Processing, E::ProviderAccepted),
            (Reported::Succeeded, E::ProviderSucceeded),
            (Reported::Failed, E::ProviderFailed),
            (Reported::NeedsAttention, E::ProviderNeedsAttention),
        ];
        assert_eq!(want.map(|(r, _)| r), Reported::ALL);
        for (r, e) in want {
            assert_eq!(settle(r, None, 1_000), e, "{r:?} without an amount");
            assert_eq!(
                settle(r, Some(1_000), 1_000),
                e,
                "{r:?} with the same amount"
            );
        }
    }

    #[test]
    fn settle_sends_an_amount_disagreement_to_a_person_unless_failed() {
        for r in Reported::ALL {
            let want = if r == Reported::Failed {
                E::ProviderFailed
            } else {
                E::ProviderNeedsAttention
            };
            assert_eq!(settle(r, Some(999), 1_000), want, "{r:?} less");
            assert_eq!(settle(r, Some(1_001), 1_000), want, "{r:?} more");
            assert_eq!(settle(r, Some(0), 1_000), want, "{r:?} zero");
        }
        assert!(amount_disagrees(Some(1), 2));
        assert!(!amount_disagrees(Some(2), 2));
        assert!(!amount_disagrees(None, 2));
    }

    #[test]
    fn settled_answers_are_allowed_while_at_the_provider() {
        for r in Reported::ALL {
            for amount in [None, Some(5), Some(6)] {
                let e = settle(r, amount, 5);
                for s in [S::Sending, S::Processing] {
                    assert!(transition(s, e).is_ok(), "{s} + {e}");
                }
            }
        }
    }

    fn amounts(paid: i64, outside: i64, by_paydesk: i64, in_flight: i64) -> RefundAmounts {
        RefundAmounts {
            paid,
            refunded_outside: outside,
            refunded_by_paydesk: by_paydesk,
            in_flight,
        }
    }

    #[test]
    fn refundable_subtracts_every_refund() {
        assert_eq!(refundable(&amounts(10_000, 0, 0, 0)), Some(10_000));
        assert_eq!(
            refundable(&amounts(10_000, 1_000, 2_000, 3_000)),
            Some(4_000)
        );
        assert_eq!(refundable(&amounts(10_000, 10_000, 0, 0)), Some(0));
        assert_eq!(refundable(&amounts(0, 0, 0, 0)), Some(0));
        assert_eq!(refundable(&RefundAmounts::default()), Some(0));
        // An order no longer paid while a refund is in flight.
        assert_eq!(refundable(&amounts(0, 0, 0, 500)), Some(-500));
    }

    #[test]
    fn refundable_may_be_negative() {
        // The mirror records more refunded outside Paydesk than was paid.
        assert_eq!(refundable(&amounts(1_000, 1_500, 0, 0)), Some(-500));
        assert_eq!(refundable(&amounts(1_000, 500, 400, 200)), Some(-100));
    }

    #[test]
    fn refundable_overflow_is_none() {
        assert_eq!(refundable(&amounts(i64::MIN, 1, 0, 0)), None);
        assert_eq!(refundable(&amounts(i64::MAX, -1, 0, 0)), None);
        assert_eq!(refundable(&amounts(0, 0, i64::MIN, 0)), None);
        assert_eq!(refundable(&amounts(-2, 0, 0, i64::MAX)), None);
        assert_eq!(refundable(&amounts(i64::MAX, 0, 0, 0)), Some(i64::MAX));
        assert_eq!(refundable(&amounts(-1, 0, 0, i64::MAX)), Some(i64::MIN));
    }
}
