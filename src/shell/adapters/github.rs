//! GitHub as a project speaks to it: its credential (anonymous, a token, an installation's
//! tokens) on every request, a renewal after a 401, `Link` pagination, conditional reads
//! through the ETag cache in D1, and the engine's `GitHub` port. The requests themselves go
//! through `github_transport`, which knows no credential. Rules live in `crate::github`.

use super::credentials::InstallationTokens;
use super::d1::Db;
use super::github_transport::{parse, Answer, Body, Call, GitHubTransport, REQUEST_TIMEOUT_MS};
use crate::auth::sha256_hex;
use crate::domain::{BranchName, CommitSha, RepoName, Stats};
use crate::engine::{ByteSource, GitHub, Meter};
use crate::github::{self, next_link, BranchWire, GhError, GitRefWire, RepoInfo};
use crate::github_app::{self, InstallationReposWire};
use futures::future::{select, Either};
use futures::pin_mut;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::{ByteStream, Delay, ResponseBody};

/// Pages of branches we follow at most (100 per page): 100,000 branches.
const MAX_BRANCH_PAGES: usize = 1_000;

/// What a request to GitHub carries in `Authorization`.
pub enum Credential {
    Anonymous,
    Token(String),
    /// Installation tokens, minted and renewed as needed (`credentials`).
    Installation(Rc<InstallationTokens>),
}

pub struct GitHubHttp {
    transport: GitHubTransport,
    credential: Credential,
    /// Where JSON answers are kept with their ETags; `None` disables conditional reads.
    cache: Option<Rc<Db>>,
}

/// Answers larger than this are not kept (D1 rows stay small; huge listings are rare).
const CACHE_MAX_BYTES: usize = 512 * 1024;

/// The result of a conditional read of a branch head.
pub enum HeadCheck {
    NotModified,
    Moved { sha: CommitSha, etag: Option<String> },
}

impl GitHubHttp {
    pub fn new(base: &str, credential: Credential, cache: Option<Rc<Db>>) -> Self {
        GitHubHttp { transport: GitHubTransport::new(base), credential, cache }
    }

    /// A personal token, or nobody.
    pub fn with_token(base: &str, token: Option<String>, cache: Option<Rc<Db>>) -> Self {
        Self::new(base, token.map_or(Credential::Anonymous, Credential::Token), cache)
    }

    /// The installation whose tokens this client sends, if any.
    pub fn installation(&self) -> Option<&InstallationTokens> {
        match &self.credential {
            Credential::Installation(tokens) => Some(tokens),
            _ => None,
        }
    }

    pub fn metered(mut self, meter: Rc<Meter>) -> Self {
        self.transport = self.transport.metered(meter);
        self
    }

    /// Cache entries are per token (different tokens may see different things), never
    /// keyed by the token itself.
    /// An installation's answers are shared by its tokens, whichever is current.
    fn cache_key(&self, url: &str) -> String {
        let scope = match &self.credential {
            Credential::Token(t) => sha256_hex(t.as_bytes())[..16].to_string(),
            Credential::Installation(tokens) => format!("installation-{}", tokens.id()),
            Credential::Anonymous => "anonymous".to_string(),
        };
        format!("{scope} {url}")
    }

    /// The bearer this client sends (an installation's token is minted through the
    /// transport alone when none is at hand).
    async fn authorization(&self) -> Result<Option<String>, GhError> {
        Ok(match &self.credential {
            Credential::Token(t) => Some(t.clone()),
            Credential::Installation(tokens) => Some(tokens.token(&self.transport).await?),
            Credential::Anonymous => None,
        })
    }

    /// One logical GET: retried on transient faults and short rate-limit waits.
    async fn get(&self, url: &str, accept: &str, if_none_match: Option<&str>, what: &str) -> Result<Answer, GhError> {
        self.call(&Call::get(url, accept, if_none_match), what).await
    }

    /// One logical request (the transport retries it); a 401 to an installation token
    /// renews the token once and tries again at once.
    async fn call(&self, call: &Call<'_>, what: &str) -> Result<Answer, GhError> {
        let bearer = self.authorization().await?;
        match self.transport.send(call, bearer.as_deref(), what).await {
            Err(GhError::Unauthorized) => match &self.credential {
                Credential::Installation(tokens) => {
                    let renewed = tokens.renew(&self.transport).await?;
                    self.transport.send(call, Some(&renewed), what).await
                }
                _ => Err(GhError::Unauthorized),
            },
            answered => answered,
        }
    }

    /// A streamed GET's raw body.
    async fn stream_of(&self, call: &Call<'_>, what: &str) -> Result<web_sys::ReadableStream, GhError> {
        let Body::Stream(response) = self.call(call, what).await?.body else {
            return Err(GhError::Malformed(format!("{what} had no body")));
        };
        let ResponseBody::Stream(raw) = response.body() else {
            return Err(GhError::Malformed(format!("{what} had no body")));
        };
        Ok(raw.clone())
    }

    /// A JSON GET made conditional by a cached ETag: a 304 is answered from the cache.
    async fn get_cached(&self, url: &str, what: &str) -> Result<Answer, GhError> {
        let Some(db) = &self.cache else {
            return self.get(url, github::ACCEPT_JSON, None, what).await;
        };
        let key = self.cache_key(url);
        let cached = db.cached_get(&key).await.ok().flatten();
        let answer = self.get(url, github::ACCEPT_JSON, cached.as_ref().map(|c| c.etag.as_str()), what).await?;
        match (answer.status, cached) {
            (304, Some(c)) => Ok(Answer { status: 200, etag: Some(c.etag), link: c.link, body: Body::Bytes(c.body.into_bytes()) }),
            (304, None) => Err(GhError::Malformed("304 without a cached answer".into())),
            _ => {
                if let (Some(etag), Body::Bytes(bytes)) = (&answer.etag, &answer.body) {
                    if bytes.len() <= CACHE_MAX_BYTES {
                        if let Ok(text) = std::str::from_utf8(bytes) {
                            let now = crate::shell::adapters::now();
                            // A cache that cannot be written only costs a full answer next time.
                            let _ = db.store_get(&key, etag, answer.link.as_deref(), text, &now).await;
                        }
                    }
                }
                Ok(answer)
            }
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, GhError> {
        let answer = self.get_cached(&self.transport.url(path), what).await?;
        parse(answer.body.bytes())
    }

    pub async fn repo(&self, repo: &RepoName) -> Result<RepoInfo, GhError> {
        self.get_json(&github::repo_path(repo), &format!("repository {repo}")).await
    }

    /// Every branch, following `Link: rel="next"` for as many pages as GitHub has.
    pub async fn branches(&self, repo: &RepoName) -> Result<Vec<BranchWire>, GhError> {
        let mut url = self.transport.url(&github::branches_path(repo));
        let mut all = Vec::new();
        for _ in 0..MAX_BRANCH_PAGES {
            let answer = self.get_cached(&url, &format!("repository {repo}")).await?;
            let page: Vec<BranchWire> = parse(answer.body.bytes())?;
            all.extend(page);
            match next_link(answer.link.as_deref()) {
                Some(next) => url = next,
                None => return Ok(all),
            }
        }
        Err(GhError::Malformed(format!("more than {MAX_BRANCH_PAGES} pages of branches")))
    }

    /// The branch head, answered from GitHub's ETag when it has not moved (a free 304).
    pub async fn head_if_moved(&self, repo: &RepoName, branch: &BranchName, etag: Option<&str>) -> Result<HeadCheck, GhError> {
        let url = self.transport.url(&github::head_ref_path(repo, branch));
        let answer = self.get(&url, github::ACCEPT_JSON, etag, &format!("branch {branch}")).await?;
        if answer.status == 304 {
            return Ok(HeadCheck::NotModified);
        }
        let wire: GitRefWire = parse(answer.body.bytes())?;
        Ok(HeadCheck::Moved { sha: commit_of(wire, branch)?, etag: answer.etag })
    }

    /// A blob's raw bytes as GitHub's answer streams them (never buffered here), with the
    /// length GitHub gave, if any.
    pub async fn blob_stream(&self, repo: &RepoName, sha: &str) -> Result<(ResponseBody, Option<u64>), GhError> {
        let url = self.transport.url(&github::blob_path(repo, sha));
        let call = Call { stream: true, ..Call::get(&url, github::ACCEPT_RAW, None) };
        let Body::Stream(response) = self.call(&call, &format!("blob {sha}")).await?.body else {
            return Err(GhError::Malformed("the blob had no body".into()));
        };
        let length = response.headers().get("content-length").ok().flatten().and_then(|v| v.parse().ok());
        Ok((response.body().clone(), length))
    }

    /// One page (100) of the repositories the client's installation token reaches.
    pub async fn installation_repositories(&self, page: u64) -> Result<InstallationReposWire, GhError> {
        let url = self.transport.url(&github_app::installation_repositories_path(page));
        parse(self.get(&url, github::ACCEPT_JSON, None, "the installation's repositories").await?.body.bytes())
    }
}

fn commit_of(wire: GitRefWire, branch: &BranchName) -> Result<CommitSha, GhError> {
    if wire.object.kind != "commit" {
        return Err(GhError::Malformed(format!("branch {branch} points at a {}", wire.object.kind)));
    }
    CommitSha::parse(&wire.object.sha).map_err(|e| GhError::Malformed(e.0))
}

impl GitHub for GitHubHttp {
    async fn head(&self, repo: &RepoName, branch: &BranchName) -> Result<CommitSha, GhError> {
        let wire: GitRefWire = self.get_json(&github::head_ref_path(repo, branch), &format!("branch {branch}")).await?;
        commit_of(wire, branch)
    }

    async fn tree(&self, repo: &RepoName, tree_ish: &str, recursive: bool, prefix: &str) -> Result<Download, GhError> {
        // A tree is named by its content: nothing to gain from a conditional read, and two
        // cache queries a listing saved (a walk makes hundreds). Streamed: a recursive
        // answer is up to ~20 MB, read a chunk at a time by the engine.
        let url = self.transport.url(&github::tree_path(repo, tree_ish, recursive));
        let what = if prefix.is_empty() { "the root tree".to_string() } else { format!("the tree of {prefix}") };
        let call = Call { stream: true, ..Call::get(&url, github::ACCEPT_JSON, None) };
        let raw = self.stream_of(&call, &what).await?;
        Ok(Download { inner: ByteStream::from(raw), stats: Rc::clone(self.transport.stats()), what })
    }

    async fn blob(&self, repo: &RepoName, sha: &str) -> Result<Vec<u8>, GhError> {
        // The raw media type skips base64: a third fewer bytes, and no decoding.
        let url = self.transport.url(&github::blob_path(repo, sha));
        match self.get(&url, github::ACCEPT_RAW, None, &format!("blob {sha}")).await?.body {
            Body::Bytes(b) => Ok(b),
            Body::Stream(_) => Err(GhError::Malformed("unexpected stream".into())),
        }
    }

    type Download = Download;

    async fn tarball(&self, repo: &RepoName, commit: &CommitSha) -> Result<Download, GhError> {
        // GitHub answers 302 to a short-lived download URL; fetch follows it.
        let url = self.transport.url(&github::tarball_path(repo, commit));
        let call = Call { stream: true, ..Call::get(&url, github::ACCEPT_JSON, None) };
        let what = format!("the tarball of {commit}");
        let raw = self.stream_of(&call, &what).await?;
        let gunzip = DecompressionStream::new("gzip").map_err(|e| GhError::Malformed(format!("no gzip decoder: {e:?}")))?;
        let pair = web_sys::ReadableWritablePair::new(&gunzip.readable(), &gunzip.writable());
        let plain = raw.pipe_through(&pair);
        Ok(Download { inner: ByteStream::from(plain), stats: Rc::clone(self.transport.stats()), what })
    }

    fn take_stats(&self) -> Stats {
        std::mem::take(&mut *self.transport.stats().borrow_mut())
    }
}

// web-sys gates DecompressionStream behind an unstable cfg; the runtime has it, so bind it here.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    type DecompressionStream;
    #[wasm_bindgen::prelude::wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, wasm_bindgen::JsValue>;
    #[wasm_bindgen::prelude::wasm_bindgen(method, getter)]
    fn readable(this: &DecompressionStream) -> web_sys::ReadableStream;
    #[wasm_bindgen::prelude::wasm_bindgen(method, getter)]
    fn writable(this: &DecompressionStream) -> web_sys::WritableStream;
}

/// A download read a chunk at a time. Counts what it delivers as downloaded (for a tarball
/// after decompression, since the compressed length is not known on a chunked download).
pub struct Download {
    inner: ByteStream,
    stats: Rc<RefCell<Stats>>,
    /// What is downloaded, for errors.
    what: String,
}

impl ByteSource for Download {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GhError> {
        let read = self.inner.next();
        let timeout = Delay::from(Duration::from_millis(REQUEST_TIMEOUT_MS));
        pin_mut!(timeout);
        match select(read, timeout).await {
            Either::Left((Some(Ok(chunk)), _)) => {
                self.stats.borrow_mut().bytes_downloaded += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Either::Left((Some(Err(e)), _)) => Err(GhError::Unavailable(format!("the download of {} broke: {e}", self.what))),
            Either::Left((None, _)) => Ok(None),
            Either::Right(_) => Err(GhError::Unavailable(format!("the download of {} stalled", self.what))),
        }
    }
}
