//! The GitHub App's installation tokens, minted one at a time.

mod mint_flight;
mod tokens;

pub use tokens::{app_jwt, expiry_ms, InstallationTokens};
