//! Google's Play Developer API methods, exactly as the discovery document names them: the
//! method id, the HTTP method and the `flatPath`. The emulator routes by this table and the
//! server builds its URLs from it ([`Method::path`]); the contract tests check every row
//! against Google's discovery document.

use std::fmt::Write as _;

/// One method of the Play Developer API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    /// The discovery document's method id (`androidpublisher.orders.get`).
    pub id: &'static str,
    /// The HTTP method (`GET`, `POST`, `PUT`, `PATCH`, `DELETE`).
    pub http_method: &'static str,
    /// The discovery document's `flatPath`, relative to the service root
    /// (`androidpublisher/v3/applications/{packageName}/orders/{orderId}`).
    pub flat_path: &'static str,
}

impl Method {
    /// The names of the path's `{params}`, in order.
    pub fn params(&self) -> impl Iterator<Item = &'static str> {
        self.flat_path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(name, _)| name))
    }

    /// The path with its `{params}` filled in order by `args`, each percent-encoded (every
    /// byte but `A–Z a–z 0–9 - . _ ~`), so that an id or token can never add a segment.
    ///
    /// # Panics
    /// When `args` does not have one value per parameter: a call site that names a method
    /// must give all of its parameters.
    pub fn path(&self, args: &[&str]) -> String {
        let count = self.params().count();
        assert_eq!(
            count,
            args.len(),
            "{} takes {count} path parameters",
            self.id
        );
        let mut out = String::with_capacity(self.flat_path.len() + 64);
        let mut args = args.iter();
        let mut rest = self.flat_path;
        while let Some((before, after)) = rest.split_once('{') {
            out.push_str(before);
            let (_, after) = after.split_once('}').unwrap_or((after, ""));
            encode_into(&mut out, args.next().copied().unwrap_or_default());
            rest = after;
        }
        out.push_str(rest);
        out
    }
}

/// Percent-encodes `value` into `out` (RFC 3986 unreserved characters kept).
fn encode_into(out: &mut String, value: &str) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

macro_rules! methods {
    ($( $name:ident = $id:literal $method:ident $path:literal; )*) => {
        $(
            #[doc = concat!("`", $id, "`: `", stringify!($method), " ", $path, "`.")]
            pub const $name: Method = Method { id: $id, http_method: stringify!($method), flat_path: $path };
        )*
        /// Every method the project uses (more specific paths before the ones they extend,
        /// the order a router must try them in).
        pub const ROUTES: &[Method] = &[ $( $name, )* ];
    };
}

methods! {
    PURCHASES_PRODUCTS_ACKNOWLEDGE = "androidpublisher.purchases.products.acknowledge" POST "androidpublisher/v3/applications/{packageName}/purchases/products/{productId}/tokens/{token}:acknowledge";
    PURCHASES_PRODUCTS_CONSUME = "androidpublisher.purchases.products.consume" POST "androidpublisher/v3/applications/{packageName}/purchases/products/{productId}/tokens/{token}:consume";
    PURCHASES_PRODUCTS_GET = "androidpublisher.purchases.products.get" GET "androidpublisher/v3/applications/{packageName}/purchases/products/{productId}/tokens/{token}";
    PURCHASES_PRODUCTSV2_GETPRODUCTPURCHASEV2 = "androidpublisher.purchases.productsv2.getproductpurchasev2" GET "androidpublisher/v3/applications/{packageName}/purchases/productsv2/tokens/{token}";
    PURCHASES_SUBSCRIPTIONS_ACKNOWLEDGE = "androidpublisher.purchases.subscriptions.acknowledge" POST "androidpublisher/v3/applications/{packageName}/purchases/subscriptions/{subscriptionId}/tokens/{token}:acknowledge";
    PURCHASES_SUBSCRIPTIONSV2_CANCEL = "androidpublisher.purchases.subscriptionsv2.cancel" POST "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}:cancel";
    PURCHASES_SUBSCRIPTIONSV2_DEFER = "androidpublisher.purchases.subscriptionsv2.defer" POST "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}:defer";
    PURCHASES_SUBSCRIPTIONSV2_REVOKE = "androidpublisher.purchases.subscriptionsv2.revoke" POST "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}:revoke";
    PURCHASES_SUBSCRIPTIONSV2_GET = "androidpublisher.purchases.subscriptionsv2.get" GET "androidpublisher/v3/applications/{packageName}/purchases/subscriptionsv2/tokens/{token}";
    ORDERS_BATCHGET = "androidpublisher.orders.batchget" GET "androidpublisher/v3/applications/{packageName}/orders:batchGet";
    ORDERS_GET = "androidpublisher.orders.get" GET "androidpublisher/v3/applications/{packageName}/orders/{orderId}";
    ORDERS_REFUND = "androidpublisher.orders.refund" POST "androidpublisher/v3/applications/{packageName}/orders/{orderId}:refund";
    PURCHASES_VOIDEDPURCHASES_LIST = "androidpublisher.purchases.voidedpurchases.list" GET "androidpublisher/v3/applications/{packageName}/purchases/voidedpurchases";
    INAPPPRODUCTS_BATCHGET = "androidpublisher.inappproducts.batchGet" GET "androidpublisher/v3/applications/{packageName}/inappproducts:batchGet";
    INAPPPRODUCTS_BATCHUPDATE = "androidpublisher.inappproducts.batchUpdate" POST "androidpublisher/v3/applications/{packageName}/inappproducts:batchUpdate";
    INAPPPRODUCTS_BATCHDELETE = "androidpublisher.inappproducts.batchDelete" POST "androidpublisher/v3/applications/{packageName}/inappproducts:batchDelete";
    INAPPPRODUCTS_LIST = "androidpublisher.inappproducts.list" GET "androidpublisher/v3/applications/{packageName}/inappproducts";
    INAPPPRODUCTS_INSERT = "androidpublisher.inappproducts.insert" POST "androidpublisher/v3/applications/{packageName}/inappproducts";
    INAPPPRODUCTS_GET = "androidpublisher.inappproducts.get" GET "androidpublisher/v3/applications/{packageName}/inappproducts/{sku}";
    INAPPPRODUCTS_UPDATE = "androidpublisher.inappproducts.update" PUT "androidpublisher/v3/applications/{packageName}/inappproducts/{sku}";
    INAPPPRODUCTS_PATCH = "androidpublisher.inappproducts.patch" PATCH "androidpublisher/v3/applications/{packageName}/inappproducts/{sku}";
    INAPPPRODUCTS_DELETE = "androidpublisher.inappproducts.delete" DELETE "androidpublisher/v3/applications/{packageName}/inappproducts/{sku}";
    MONETIZATION_SUBSCRIPTIONS_BATCHGET = "androidpublisher.monetization.subscriptions.batchGet" GET "androidpublisher/v3/applications/{packageName}/subscriptions:batchGet";
    MONETIZATION_SUBSCRIPTIONS_BATCHUPDATE = "androidpublisher.monetization.subscriptions.batchUpdate" POST "androidpublisher/v3/applications/{packageName}/subscriptions:batchUpdate";
    MONETIZATION_SUBSCRIPTIONS_LIST = "androidpublisher.monetization.subscriptions.list" GET "androidpublisher/v3/applications/{packageName}/subscriptions";
    MONETIZATION_SUBSCRIPTIONS_CREATE = "androidpublisher.monetization.subscriptions.create" POST "androidpublisher/v3/applications/{packageName}/subscriptions";
    MONETIZATION_SUBSCRIPTIONS_GET = "androidpublisher.monetization.subscriptions.get" GET "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}";
    MONETIZATION_SUBSCRIPTIONS_PATCH = "androidpublisher.monetization.subscriptions.patch" PATCH "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}";
    MONETIZATION_SUBSCRIPTIONS_DELETE = "androidpublisher.monetization.subscriptions.delete" DELETE "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}";
    MONETIZATION_SUBSCRIPTIONS_ARCHIVE = "androidpublisher.monetization.subscriptions.archive" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}:archive";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_BATCHUPDATESTATES = "androidpublisher.monetization.subscriptions.basePlans.batchUpdateStates" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans:batchUpdateStates";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_BATCHGET = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchGet" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers:batchGet";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_BATCHUPDATE = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdate" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers:batchUpdate";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_BATCHUPDATESTATES = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdateStates" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers:batchUpdateStates";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_BATCHDELETE = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchDelete" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers:batchDelete";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_LIST = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.list" GET "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_ACTIVATE = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.activate" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers/{offerId}:activate";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_DEACTIVATE = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.deactivate" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers/{offerId}:deactivate";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_CANCEL = "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.cancel" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions/{purchaseOptionId}/offers/{offerId}:cancel";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_BATCHMIGRATEPRICES = "androidpublisher.monetization.subscriptions.basePlans.batchMigratePrices" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans:batchMigratePrices";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_BATCHUPDATESTATES = "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchUpdateStates" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions:batchUpdateStates";
    MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_BATCHDELETE = "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchDelete" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}/purchaseOptions:batchDelete";
    MONETIZATION_ONETIMEPRODUCTS_BATCHGET = "androidpublisher.monetization.onetimeproducts.batchGet" GET "androidpublisher/v3/applications/{packageName}/oneTimeProducts:batchGet";
    MONETIZATION_ONETIMEPRODUCTS_BATCHUPDATE = "androidpublisher.monetization.onetimeproducts.batchUpdate" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts:batchUpdate";
    MONETIZATION_ONETIMEPRODUCTS_BATCHDELETE = "androidpublisher.monetization.onetimeproducts.batchDelete" POST "androidpublisher/v3/applications/{packageName}/oneTimeProducts:batchDelete";
    MONETIZATION_ONETIMEPRODUCTS_LIST = "androidpublisher.monetization.onetimeproducts.list" GET "androidpublisher/v3/applications/{packageName}/oneTimeProducts";
    MONETIZATION_ONETIMEPRODUCTS_GET = "androidpublisher.monetization.onetimeproducts.get" GET "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}";
    MONETIZATION_ONETIMEPRODUCTS_PATCH = "androidpublisher.monetization.onetimeproducts.patch" PATCH "androidpublisher/v3/applications/{packageName}/onetimeproducts/{productId}";
    MONETIZATION_ONETIMEPRODUCTS_DELETE = "androidpublisher.monetization.onetimeproducts.delete" DELETE "androidpublisher/v3/applications/{packageName}/oneTimeProducts/{productId}";
    MONETIZATION_CONVERTREGIONPRICES = "androidpublisher.monetization.convertRegionPrices" POST "androidpublisher/v3/applications/{packageName}/pricing:convertRegionPrices";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_BATCHUPDATE = "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdate" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers:batchUpdate";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_BATCHUPDATESTATES = "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdateStates" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers:batchUpdateStates";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_BATCHGET = "androidpublisher.monetization.subscriptions.basePlans.offers.batchGet" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers:batchGet";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_CREATE = "androidpublisher.monetization.subscriptions.basePlans.offers.create" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_LIST = "androidpublisher.monetization.subscriptions.basePlans.offers.list" GET "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_GET = "androidpublisher.monetization.subscriptions.basePlans.offers.get" GET "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers/{offerId}";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_ACTIVATE = "androidpublisher.monetization.subscriptions.basePlans.offers.activate" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers/{offerId}:activate";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_DEACTIVATE = "androidpublisher.monetization.subscriptions.basePlans.offers.deactivate" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers/{offerId}:deactivate";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_PATCH = "androidpublisher.monetization.subscriptions.basePlans.offers.patch" PATCH "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers/{offerId}";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_DELETE = "androidpublisher.monetization.subscriptions.basePlans.offers.delete" DELETE "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}/offers/{offerId}";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_MIGRATEPRICES = "androidpublisher.monetization.subscriptions.basePlans.migratePrices" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}:migratePrices";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_ACTIVATE = "androidpublisher.monetization.subscriptions.basePlans.activate" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}:activate";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_DEACTIVATE = "androidpublisher.monetization.subscriptions.basePlans.deactivate" POST "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}:deactivate";
    MONETIZATION_SUBSCRIPTIONS_BASEPLANS_DELETE = "androidpublisher.monetization.subscriptions.basePlans.delete" DELETE "androidpublisher/v3/applications/{packageName}/subscriptions/{productId}/basePlans/{basePlanId}";
    EXTERNALTRANSACTIONS_REFUNDEXTERNALTRANSACTION = "androidpublisher.externaltransactions.refundexternaltransaction" POST "androidpublisher/v3/applications/{applicationsId}/externalTransactions/{externalTransactionsId}:refund";
    EXTERNALTRANSACTIONS_GETEXTERNALTRANSACTION = "androidpublisher.externaltransactions.getexternaltransaction" GET "androidpublisher/v3/applications/{applicationsId}/externalTransactions/{externalTransactionsId}";
    EXTERNALTRANSACTIONS_CREATEEXTERNALTRANSACTION = "androidpublisher.externaltransactions.createexternaltransaction" POST "androidpublisher/v3/applications/{applicationsId}/externalTransactions";
}

/// The method with discovery id `id`.
pub fn by_id(id: &str) -> Option<&'static Method> {
    ROUTES.iter().find(|m| m.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_filled_in_order_and_encoded() {
        assert_eq!(
            PURCHASES_PRODUCTS_ACKNOWLEDGE.path(&["com.example", "coins_100", "a/b c:d"]),
            "androidpublisher/v3/applications/com.example/purchases/products/coins_100/tokens/a%2Fb%20c%3Ad:acknowledge"
        );
        assert_eq!(
            ORDERS_BATCHGET.path(&["com.example"]),
            "androidpublisher/v3/applications/com.example/orders:batchGet"
        );
        assert_eq!(
            PURCHASES_SUBSCRIPTIONSV2_GET.params().collect::<Vec<_>>(),
            ["packageName", "token"]
        );
    }

    #[test]
    #[should_panic(expected = "takes 3 path parameters")]
    fn a_missing_parameter_is_a_bug() {
        PURCHASES_PRODUCTS_GET.path(&["com.example", "coins_100"]);
    }

    #[test]
    fn ids_are_unique_and_found() {
        for m in ROUTES {
            assert_eq!(by_id(m.id), Some(m));
            assert!(m
                .flat_path
                .starts_with("androidpublisher/v3/applications/{"));
        }
        assert_eq!(by_id("androidpublisher.nothing"), None);
    }
}
