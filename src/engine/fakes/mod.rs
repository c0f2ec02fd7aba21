//! In-memory fakes of the engine's ports that behave like the real ones where it matters:
//! the store has D1's visibility rules, its status guards (a write of an ended sync lands
//! nothing; an ended row is never rewritten), its discard semantics and its limit of queries
//! per invocation; GitHub's tarball is in git's tree order and can be altered the way
//! `.gitattributes` alters archives. Every fake can be told to fail, and GitHub to hang
//! (an invocation that never returns, as when the runtime kills it).

mod github;
mod object;
mod store;

pub use github::FakeGitHub;
pub use object::{FakeCheckpoint, FakeScratch};
pub use store::FakeStore;
