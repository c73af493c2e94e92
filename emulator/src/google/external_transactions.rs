//! `externaltransactions` (filled in below).
#![allow(missing_docs)]
use super::{Call, Reply};
use crate::error::GoogleError;
use crate::state::Model;
fn todo() -> Result<Reply, GoogleError> { Err(GoogleError::new(501, "global", "notImplemented", "not yet")) }
pub fn create(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn get(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn refund(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
