//! Encrypted credentials and their versions (being written).
