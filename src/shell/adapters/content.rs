//! The content bucket (R2): the text of text blobs, in packs (`crate::pack`), one object
//! per stored batch, written once and read back a blob at a time with ranged gets.

use crate::engine::StoreError;
use crate::error::AppError;
use worker::{Bucket, Env, Range};

/// The R2 binding (wrangler.toml).
pub const BINDING: &str = "CONTENT";

pub struct ContentBucket {
    bucket: Bucket,
}

impl ContentBucket {
    pub fn from_env(env: &Env) -> Result<ContentBucket, AppError> {
        Ok(ContentBucket { bucket: env.bucket(BINDING).map_err(|e| AppError::internal(format!("R2 binding {BINDING}: {e}")))? })
    }

    /// Stores a pack's bytes under its key. The bytes are moved into the request, never
    /// copied: a step's pack is the largest thing it holds.
    pub async fn put_pack(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.bucket.put(key, bytes).execute().await.map_err(|e| StoreError::Other(format!("R2: storing {key}: {e}")))?;
        Ok(())
    }

    /// `length` bytes of object `key` from `offset`, or `None` when the bucket lacks it.
    pub async fn read(&self, key: &str, offset: u64, length: u64) -> Result<Option<Vec<u8>>, AppError> {
        let range = Range::OffsetWithLength { offset, length };
        let got = self.bucket.get(key).range(range).execute().await.map_err(|e| AppError::internal(format!("R2: {e}")))?;
        let Some(body) = got.as_ref().and_then(|o| o.body()) else { return Ok(None) };
        Ok(Some(body.bytes().await.map_err(|e| AppError::internal(format!("R2: {e}")))?))
    }

    /// The whole text `[offset, offset + length)` of object `key`, or `None` when the bucket
    /// lacks it or holds less.
    pub async fn read_exact(&self, key: &str, offset: u64, length: u64) -> Result<Option<Vec<u8>>, AppError> {
        if length == 0 {
            return Ok(Some(Vec::new()));
        }
        Ok(self.read(key, offset, length).await?.filter(|b| b.len() as u64 == length))
    }

    /// Deletes object `key` (a pack no blob row points into any more).
    pub async fn delete(&self, key: &str) -> Result<(), AppError> {
        self.bucket.delete(key).await.map_err(|e| AppError::internal(format!("R2: deleting {key}: {e}")))
    }

    /// How many objects, and bytes, the bucket holds under `prefix`.
    pub async fn usage(&self, prefix: &str) -> Result<(u64, u64), AppError> {
        let (mut objects, mut bytes, mut cursor) = (0u64, 0u64, None::<String>);
        loop {
            let mut list = self.bucket.list().prefix(prefix).limit(1000);
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
