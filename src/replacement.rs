//! Subscription replacement (proration) modes for upgrades and downgrades.

use crate::text::concat;
use crate::Error;

/// How Play switches from the old subscription to the new one.
///
/// Play's `withoutProration` is deliberately absent: Play disabled it (a fraud vector) and
/// the TWA fails the flow, so [`ReplacementMode::parse`] refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplacementMode {
    /// Switch now, keep the billing date, charge the price difference for the rest of the
    /// period (a typical upgrade).
    ChargeProratedPrice,
    /// Switch now and charge the full new price now; unused time is credited.
    ChargeFullPrice,
    /// Switch now; the remaining time is credited by moving the next billing date (Play's
    /// default).
    WithTimeProration,
    /// Switch at the next renewal (a typical downgrade).
    Deferred,
}

impl ReplacementMode {
    /// Every mode, in documentation order.
    pub const ALL: [ReplacementMode; 4] = [
        ReplacementMode::ChargeProratedPrice,
        ReplacementMode::ChargeFullPrice,
        ReplacementMode::WithTimeProration,
        ReplacementMode::Deferred,
    ];

    /// Accepts the current `replacementMode` names and the legacy `prorationMode` names.
    pub fn parse(name: &str) -> Result<ReplacementMode, Error> {
        let mode = match name {
            "chargeProratedPrice" | "immediateAndChargeProratedPrice" => Self::ChargeProratedPrice,
            "chargeFullPrice" | "immediateAndChargeFullPrice" => Self::ChargeFullPrice,
            "withTimeProration" | "immediateWithTimeProration" => Self::WithTimeProration,
            "deferred" => Self::Deferred,
            "withoutProration" | "immediateWithoutProration" => {
                return Err(Error::InvalidArgument(concat(&[
                    "replacement mode '",
                    name,
                    "' is disabled by Google Play and fails the purchase; use \
                     chargeProratedPrice, chargeFullPrice, withTimeProration or deferred",
                ])))
            }
            other => {
                return Err(Error::InvalidArgument(concat(&[
                    "unknown replacement mode '",
                    other,
                    "'; expected chargeProratedPrice, chargeFullPrice, withTimeProration or \
                     deferred",
                ])))
            }
        };
        Ok(mode)
    }

    /// The value of the current `replacementMode` key, read first by current TWAs.
    pub fn replacement_mode(self) -> &'static str {
        match self {
            Self::ChargeProratedPrice => "chargeProratedPrice",
            Self::ChargeFullPrice => "chargeFullPrice",
            Self::WithTimeProration => "withTimeProration",
            Self::Deferred => "deferred",
        }
    }

    /// The value of the deprecated `prorationMode` key, for older TWAs.
    pub fn proration_mode(self) -> &'static str {
        match self {
            Self::ChargeProratedPrice => "immediateAndChargeProratedPrice",
            Self::ChargeFullPrice => "immediateAndChargeFullPrice",
            Self::WithTimeProration => "immediateWithTimeProration",
            Self::Deferred => "deferred",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_legacy_names_parse_to_the_same_mode() {
        for mode in ReplacementMode::ALL {
            assert_eq!(ReplacementMode::parse(mode.replacement_mode()), Ok(mode));
            assert_eq!(ReplacementMode::parse(mode.proration_mode()), Ok(mode));
        }
    }

    #[test]
    fn keys_match_the_twa_tables() {
        let pairs: Vec<_> = ReplacementMode::ALL
            .iter()
            .map(|m| (m.replacement_mode(), m.proration_mode()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("chargeProratedPrice", "immediateAndChargeProratedPrice"),
                ("chargeFullPrice", "immediateAndChargeFullPrice"),
                ("withTimeProration", "immediateWithTimeProration"),
                ("deferred", "deferred"),
            ]
        );
    }

    #[test]
    fn without_proration_and_unknown_modes_are_refused() {
        for name in [
            "withoutProration",
            "immediateWithoutProration",
            "",
            "Deferred",
            "upgrade",
        ] {
            let error = ReplacementMode::parse(name).unwrap_err();
            assert_eq!(error.name(), "InvalidArgumentError", "{name}");
        }
        assert!(ReplacementMode::parse("withoutProration")
            .unwrap_err()
            .to_string()
            .contains("disabled by Google Play"));
    }
}
