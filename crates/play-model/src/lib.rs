//! One model of Google's Play Developer API for the pwa-billing server and the Play
//! emulator: the methods ([`methods`]: id, HTTP method, `flatPath`), exact money
//! ([`money`]), Google's id rules ([`ids`]), the codes of real-time developer notifications
//! ([`rtdn`]), the purchase resources ([`purchases`]), the subscription catalog ([`subscriptions`]) and the catalog file of `pwa-billing catalog` ([`catalog_file`]).
//!
//! Both sides use these, so a test against Google's own description (the discovery
//! document, in the emulator's contract tests) is what proves them right.

#![deny(missing_docs)]

/// One of Google's enum types: each variant with its wire string, plus `Unknown` for a
/// value this model does not know. Generates `as_str`, `Serialize` and `Deserialize`.
macro_rules! google_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this model does not know (read only).
            Unknown,
        }

        impl $name {
            /// Google's wire string (`None` for [`Self::Unknown`]).
            pub fn as_str(self) -> Option<&'static str> {
                match self {
                    $( Self::$variant => Some($wire), )+
                    Self::Unknown => None,
                }
            }

            /// The variant of a wire string ([`Self::Unknown`] for any other).
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )+
                    _ => Self::Unknown,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.as_str() {
                    Some(wire) => s.serialize_str(wire),
                    None => Err(serde::ser::Error::custom(concat!(
                        "an unknown ",
                        stringify!($name),
                        " cannot be written"
                    ))),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }
    };
}

/// The entry of a catalog `batchUpdate` (`UpdateSubscriptionRequest`,
/// `UpdateSubscriptionOfferRequest`, `UpdateOneTimeProductRequest`,
/// `UpdateOneTimeProductOfferRequest`: one shape around the resource written), with
/// `upsert`, the entry `catalog apply` sends.
macro_rules! update_request {
    ($(#[$meta:meta])* $name:ident { $field:ident: $resource:ty }) => {
        $(#[$meta])*
        #[serde_with::skip_serializing_none]
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        #[serde(rename_all = "camelCase", default)]
        pub struct $name {
            /// The resource written.
            pub $field: Option<$resource>,
            /// Comma-separated top-level fields replaced.
            pub update_mask: Option<String>,
            /// The regions version of its prices.
            pub regions_version: Option<$crate::pricing::RegionsVersion>,
            /// Whether a missing resource is created.
            pub allow_missing: Option<bool>,
            /// How fast it must propagate.
            pub latency_tolerance: Option<$crate::subscriptions::LatencyTolerance>,
        }

        impl $name {
            /// Writes `mask` of `resource`, creating it when missing (`allowMissing`), at
            /// regions version `version`.
            pub fn upsert(
                resource: $resource,
                mask: &[String],
                version: &str,
                latency: $crate::subscriptions::LatencyTolerance,
            ) -> Self {
                $name {
                    $field: Some(resource),
                    update_mask: Some(mask.join(",")),
                    regions_version: Some($crate::pricing::RegionsVersion {
                        version: Some(version.to_string()),
                    }),
                    allow_missing: Some(true),
                    latency_tolerance: Some(latency),
                }
            }
        }

        impl $crate::subscriptions::UpdateEntry for $name {
            type Resource = $resource;

            fn into_parts(self) -> ($resource, $crate::subscriptions::UpdateOptions) {
                let options = $crate::subscriptions::UpdateOptions {
                    update_mask: self.update_mask,
                    regions_version: self.regions_version.and_then(|v| v.version),
                    allow_missing: self.allow_missing.unwrap_or(false),
                    latency_tolerance: self.latency_tolerance,
                };
                (self.$field.unwrap_or_default(), options)
            }
        }
    };
}

/// An entry of a `batchUpdateStates`: one optional inner request per target state (the
/// deactivation last), implementing [`subscriptions::StateChange`].
macro_rules! state_request {
    (
        $(#[$meta:meta])*
        $name:ident: $inner:ty => $state:ident {
            $( $field:ident = $wire:literal => $to:ident, )+
        }
    ) => {
        $(#[$meta])*
        #[serde_with::skip_serializing_none]
        #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
        #[serde(rename_all = "camelCase", default)]
        pub struct $name {
            $(
                #[doc = concat!("`", $wire, "`: to ", stringify!($to), ".")]
                pub $field: Option<$inner>,
            )+
        }

        impl $crate::subscriptions::StateChange for $name {
            type Request = $inner;
            type State = $state;
            const FIELDS: &'static [&'static str] = &[$($wire),+];

            fn to(to: $state, request: $inner) -> Self {
                let mut entry = $name::default();
                let fields = [$( ($state::$to, &mut entry.$field) ),+];
                let last = fields.len() - 1;
                let at = fields.iter().position(|(s, _)| *s == to).unwrap_or(last);
                if let Some((_, field)) = fields.into_iter().nth(at) {
                    *field = Some(request);
                }
                entry
            }

            fn change(self) -> Option<($inner, $state)> {
                $( if let Some(r) = self.$field { return Some((r, $state::$to)); } )+
                None
            }
        }
    };
}

pub mod catalog_file;
pub mod errors;
pub mod external_transactions;
pub mod ids;
pub mod inappproducts;
pub mod methods;
pub mod money;
pub mod onetimeproducts;
pub mod orders;
pub mod paging;
pub mod pricing;
pub mod purchases;
pub mod rtdn;
pub mod subscriptions;
pub mod voided;

pub use catalog_file::CatalogFile;
pub use methods::Method;
pub use money::{Amount, Money, Price};
