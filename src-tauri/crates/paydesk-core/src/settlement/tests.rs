//! Unit tests of the settlement match.
