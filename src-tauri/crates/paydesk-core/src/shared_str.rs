//! [`SharedStr`]: one string many values share.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A string that many values share — the account name, file name and status word of a
/// million statement lines: cloning it copies a pointer instead of allocating (issue 15).
/// It reads, compares, prints and serializes as the plain string. A thin pointer (8 bytes,
/// not the 16 of an `Arc<str>`): three of them in each of a million lines.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SharedStr(Arc<Box<str>>);

impl SharedStr {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for SharedStr {
    fn default() -> Self {
        SharedStr::from("")
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for SharedStr {
    fn from(s: &str) -> Self {
        SharedStr(Arc::new(Box::from(s)))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr(Arc::new(Box::from(s)))
    }
}

impl From<&String> for SharedStr {
    fn from(s: &String) -> Self {
        SharedStr(Arc::new(Box::from(s.as_str())))
    }
}

impl From<SharedStr> for String {
    fn from(s: SharedStr) -> String {
        s.as_str().to_string()
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SharedStr::from)
    }
}

/// Hands out one [`SharedStr`] per distinct value of a column with few values (a
/// statement's status words): a million lines share a handful of strings.
#[derive(Debug, Default)]
pub struct FewValues(Vec<SharedStr>);

impl FewValues {
    /// The shared string for `s`; values beyond the first 64 distinct ones are not kept.
    pub fn get(&mut self, s: &str) -> SharedStr {
        if let Some(v) = self.0.iter().find(|v| v.as_str() == s) {
            return v.clone();
        }
        let v = SharedStr::from(s);
        if self.0.len() < 64 {
            self.0.push(v.clone());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_compares_and_serializes_as_the_string() {
        let a = SharedStr::from("wechat-main");
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.0, &b.0), "a clone shares the string");
        assert_eq!(a, "wechat-main");
        assert_eq!(a, String::from("wechat-main"));
        assert_eq!(a.len(), 11);
        assert_eq!(format!("{a} {a:?}"), "wechat-main \"wechat-main\"");
        let json = serde_json::to_string(&a).unwrap_or_default();
        assert_eq!(json, "\"wechat-main\"");
        let back: SharedStr = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, a);
        assert_eq!(std::mem::size_of::<SharedStr>(), 8, "a thin pointer");
        assert_eq!(SharedStr::default(), "");
    }

    #[test]
    fn few_values_share_one_string_each() {
        let mut few = FewValues::default();
        let a = few.get("SUCCESS");
        let b = few.get("SUCCESS");
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(few.get("REFUND"), "REFUND");
        for i in 0..100 {
            assert_eq!(few.get(&i.to_string()), i.to_string());
        }
        assert_eq!(few.0.len(), 64);
    }
}
