//! Google's rules for the ids a developer chooses, one function each.

/// Longest one-time product id.
pub const ONE_TIME_PRODUCT_ID_MAX: usize = 139;
/// Longest subscription product id.
pub const SUBSCRIPTION_ID_MAX: usize = 40;
/// Longest purchase option, base plan or offer id.
pub const OPTION_ID_MAX: usize = 63;
/// Longest external transaction (or refund) id.
pub const EXTERNAL_TRANSACTION_ID_MAX: usize = 63;
/// The purchase option id Play gives the legacy-compatible buy option of an `InAppProduct`
/// migrated to the one-time product model: `legacy-base`, as the Play Billing Library's
/// `ProductDetails` of a migrated product shows (`"purchaseOptionId": "legacy-base"`) and as
/// Play's own refusal of a patch that leaves it out reads ("Product must list all of its
/// existing purchase options. Missing: legacy-base"). The emulator's one-time product
/// view, `productsv2` and `orders` answer it, and `catalog pull` names the price of a
/// product read through `inappproducts` after it.
pub const LEGACY_OPTION: &str = "legacy-base";

fn starts_lower_or_digit(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A product id of at most `max` characters ([`ONE_TIME_PRODUCT_ID_MAX`],
/// [`SUBSCRIPTION_ID_MAX`]): lower-case letters, digits, `_` and `.`, starting with a letter
/// or digit.
pub fn is_product_id(id: &str, max: usize) -> bool {
    id.len() <= max
        && starts_lower_or_digit(id)
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// A purchase option, base plan or offer id: 1–63 lower-case letters, digits and `-`,
/// starting with a letter or digit.
pub fn is_option_id(id: &str) -> bool {
    id.len() <= OPTION_ID_MAX
        && starts_lower_or_digit(id)
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An `externalTransactionId` (or a refund's `refundId`): 1–63 of `[A-Za-z0-9_-]`.
pub fn is_external_transaction_id(id: &str) -> bool {
    (1..=EXTERNAL_TRANSACTION_ID_MAX).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An Android package name (`com.example.app`): two or more `.`-separated parts of ASCII
/// letters, digits and `_`, each starting with a letter.
pub fn is_package_name(name: &str) -> bool {
    name.split('.').count() >= 2
        && name.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids() {
        for ok in ["coins_100", "premium.unlock", "9lives"] {
            assert!(is_product_id(ok, ONE_TIME_PRODUCT_ID_MAX), "{ok}");
        }
        for bad in ["", "_coins", "Coins", "coins-100", "coins 100"] {
            assert!(!is_product_id(bad, ONE_TIME_PRODUCT_ID_MAX), "{bad}");
        }
        let long = "a".repeat(41);
        assert!(is_product_id(&long, ONE_TIME_PRODUCT_ID_MAX));
        assert!(!is_product_id(&long, SUBSCRIPTION_ID_MAX));
        assert!(!is_product_id(&"a".repeat(140), ONE_TIME_PRODUCT_ID_MAX));
    }

    #[test]
    fn option_ids() {
        for ok in ["buy", "monthly-2", "1"] {
            assert!(is_option_id(ok), "{ok}");
        }
        for bad in ["", "-buy", "Buy", "buy_1", "buy.1"] {
            assert!(!is_option_id(bad), "{bad}");
        }
        assert!(is_option_id(&"a".repeat(63)));
        assert!(!is_option_id(&"a".repeat(64)));
    }

    #[test]
    fn external_transaction_ids() {
        for ok in ["pb-0123", "Tx_1", "-"] {
            assert!(is_external_transaction_id(ok), "{ok}");
        }
        for bad in ["", "tx.1", "tx 1", "tx/1"] {
            assert!(!is_external_transaction_id(bad), "{bad}");
        }
        assert!(is_external_transaction_id(&"a".repeat(63)));
        assert!(!is_external_transaction_id(&"a".repeat(64)));
    }

    #[test]
    fn package_names() {
        for good in ["com.example.app", "a.b", "com.Example_1.app2"] {
            assert!(is_package_name(good), "{good}");
        }
        for bad in [
            "",
            "app",
            "com..app",
            "com.1app",
            "com.ex-ample",
            ".com.app",
            "com.app.",
        ] {
            assert!(!is_package_name(bad), "{bad}");
        }
    }
}
