//! `inappproducts` (filled in below).
#![allow(missing_docs)]
use super::{Call, Reply};
use crate::error::GoogleError;
use crate::state::Model;
fn todo() -> Result<Reply, GoogleError> { Err(GoogleError::new(501, "global", "notImplemented", "not yet")) }
pub fn get(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn list(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn insert(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn update(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn patch(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn delete(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn batch_get(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn batch_update(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
pub fn batch_delete(_: &Call, _: &mut Model) -> Result<Reply, GoogleError> { todo() }
