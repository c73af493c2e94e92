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
