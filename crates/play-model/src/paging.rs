//! Google's two ways of paging a list: `pageInfo` (indexes) and `tokenPagination`.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// `pageInfo`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PageInfo {
    /// Results in all pages.
    pub total_results: Option<i32>,
    /// Results per page.
    pub result_per_page: Option<i32>,
    /// Index of this page's first result.
    pub start_index: Option<i32>,
}

/// `tokenPagination`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TokenPagination {
    /// The next page's token.
    pub next_page_token: Option<String>,
}

/// A page of a list paged by `pageToken` (the `List…Response` of the catalog): its entries
/// and `nextPageToken`.
pub trait TokenPage: serde::de::DeserializeOwned + Serialize {
    /// One entry.
    type Item;
    /// The page of `items`, followed by `next_page_token`'s page if any.
    fn from_parts(items: Vec<Self::Item>, next_page_token: Option<String>) -> Self;
    /// The entries and the next page's token (`None` on the last page; an empty token
    /// ends the list too).
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! token_pages {
    ($($page:ty => $field:ident: $item:ty,)+) => {$(
        impl TokenPage for $page {
            type Item = $item;

            fn from_parts(items: Vec<$item>, next_page_token: Option<String>) -> Self {
                Self { $field: items, next_page_token }
            }

            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.$field, self.next_page_token.filter(|t| !t.is_empty()))
            }
        }
    )+};
}

token_pages! {
    crate::onetimeproducts::ListOneTimeProductsResponse =>
        one_time_products: crate::onetimeproducts::OneTimeProduct,
    crate::onetimeproducts::ListOneTimeProductOffersResponse =>
        one_time_product_offers: crate::onetimeproducts::OneTimeProductOffer,
    crate::subscriptions::ListSubscriptionsResponse =>
        subscriptions: crate::subscriptions::Subscription,
    crate::subscriptions::ListSubscriptionOffersResponse =>
        subscription_offers: crate::subscriptions::SubscriptionOffer,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onetimeproducts::ListOneTimeProductsResponse;

    #[test]
    fn a_token_page_reads_and_writes_its_parts() {
        let page: ListOneTimeProductsResponse = serde_json::from_value(serde_json::json!({
            "oneTimeProducts": [{ "productId": "coins" }], "nextPageToken": "abc",
        }))
        .unwrap();
        let (items, next) = page.clone().into_parts();
        assert_eq!((items[0].id(), next.as_deref()), ("coins", Some("abc")));
        assert_eq!(
            ListOneTimeProductsResponse::from_parts(items, next.clone()),
            page
        );
        let last = ListOneTimeProductsResponse::from_parts(Vec::new(), Some(String::new()));
        assert_eq!(last.into_parts(), (Vec::new(), None));
        assert_eq!(
            serde_json::to_string(&ListOneTimeProductsResponse::from_parts(Vec::new(), None))
                .unwrap(),
            "{}"
        );
    }
}
