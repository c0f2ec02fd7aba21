//! The content bucket (R2): the text of text blobs, one object per repository and blob
//! (`content::text_key`), written once and read by the memory endpoints. Content-addressed:
//! writing an object again writes the same bytes.

use crate::content::text_key;
use crate::engine::StoreError;
use crate::error::AppError;
use worker::{Bucket, Env};

/// The R2 binding (wrangler.toml).
pub const BINDING: &str = "CONTENT";

pub struct ContentBucket {
    bucket: Bucket,
}

impl ContentBucket {
    pub fn from_env(env: &Env) -> Result<ContentBucket, AppError> {
        Ok(ContentBucket { bucket: env.bucket(BINDING).map_err(|e| AppError::internal(format!("R2 binding {BINDING}: {e}")))? })
    }

    pub async fn put_text(&self, scope: &str, sha: &str, text: String) -> Result<(), StoreError> {
        self.bucket
            .put(text_key(scope, sha), text.into_bytes())
            .execute()
            .await
            .map_err(|e| StoreError::Other(format!("R2: storing the text of {sha}: {e}")))?;
        Ok(())
    }

    /// A blob's text, or `None` when the bucket does not hold it.
    pub async fn text(&self, scope: &str, sha: &str) -> Result<Option<String>, AppError> {
        let Some(object) = self.bucket.get(text_key(scope, sha)).execute().await.map_err(|e| AppError::internal(format!("R2: {e}")))? else {
            return Ok(None);
        };
        let Some(body) = object.body() else { return Ok(None) };
        Ok(Some(body.text().await.map_err(|e| AppError::internal(format!("R2: {e}")))?))
    }

    /// How many objects, and bytes, the bucket holds for one repository (`scope`).
    pub async fn usage(&self, scope: &str) -> Result<(u64, u64), AppError> {
        let prefix = text_key(scope, "");
        let (mut objects, mut bytes, mut cursor) = (0u64, 0u64, None::<String>);
        loop {
            let mut list = self.bucket.list().prefix(prefix.clone()).limit(1000);
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let page = list.execute().await.map_err(|e| AppError::internal(format!("R2: listing {prefix}: {e}")))?;
            for object in page.objects() {
                objects += 1;
                bytes += object.size();
            }
            match (page.truncated(), page.cursor()) {
                (true, Some(next)) => cursor = Some(next),
                _ => return Ok((objects, bytes)),
            }
        }
    }
}
