//! Value types shared by the sections: durations in a unit, positive durations, http(s)
//! URLs, lists that the environment gives as comma-separated strings.

use std::marker::PhantomData;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_with::{DeserializeAs, SerializeAs};
use url::Url;

pub use serde_with::{DurationMilliSeconds as Millis, DurationSeconds as Secs};

/// A duration that must be greater than zero, in the unit `U` (`Positive<Secs>`).
pub struct Positive<U>(PhantomData<U>);

impl<'de, U: DeserializeAs<'de, Duration>> DeserializeAs<'de, Duration> for Positive<U> {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let value = U::deserialize_as(deserializer)?;
        if value.is_zero() {
            return Err(D::Error::custom("must be greater than 0"));
        }
        Ok(value)
    }
}

impl<U: SerializeAs<Duration>> SerializeAs<Duration> for Positive<U> {
    fn serialize_as<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        U::serialize_as(value, serializer)
    }
}

/// A list of strings: an array in the file, comma-separated in the environment
/// (`PWA_BILLING_CORS_ALLOWED_ORIGINS="https://a.example, https://b.example"`).
pub struct StringList;

#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrCsv {
    List(Vec<String>),
    Csv(String),
}

impl<'de> DeserializeAs<'de, Vec<String>> for StringList {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
        Ok(match ListOrCsv::deserialize(deserializer)? {
            ListOrCsv::List(list) => list,
            ListOrCsv::Csv(text) => split_list(&text).map(String::from).collect(),
        })
    }
}

impl SerializeAs<Vec<String>> for StringList {
    fn serialize_as<S: Serializer>(value: &Vec<String>, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }
}

/// The trimmed, non-empty items of a comma-separated list.
pub(crate) fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// An http(s) URL.
pub struct HttpUrl;

impl<'de> DeserializeAs<'de, Url> for HttpUrl {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<Url, D::Error> {
        let url = Url::deserialize(deserializer)?;
        match url.scheme() {
            "http" | "https" => Ok(url),
            _ => Err(D::Error::custom("must be an http(s) URL")),
        }
    }
}

impl SerializeAs<Url> for HttpUrl {
    fn serialize_as<S: Serializer>(value: &Url, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }
}
