//! Request bodies read under a limit while they stream, whatever their framing: a chunked
//! body carries no `Content-Length` to refuse up front, so the limit is counted chunk by
//! chunk and the read stops at the first byte past it, before the rest is ever buffered.

/// The bytes read so far, refused as soon as they would pass `limit`.
#[derive(Debug)]
pub struct CappedBody {
    limit: usize,
    bytes: Vec<u8>,
}

/// The body is larger than the limit (the 413's reason).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    pub limit: usize,
}

impl CappedBody {
    /// Refuses at once a declared `Content-Length` over the limit.
    pub fn new(limit: usize, declared_length: Option<&str>) -> Result<CappedBody, TooLarge> {
        match declared_length.and_then(|l| l.trim().parse::<u64>().ok()) {
            Some(len) if len > limit as u64 => Err(TooLarge { limit }),
            _ => Ok(CappedBody { limit, bytes: Vec::new() }),
        }
    }

    pub fn push(&mut self, chunk: &[u8]) -> Result<(), TooLarge> {
        if chunk.len() > self.limit - self.bytes.len() {
            self.bytes = Vec::new();
            return Err(TooLarge { limit: self.limit });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl TooLarge {
    pub fn message(&self) -> String {
        format!("the request body is over {} bytes", self.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_refused_at_the_first_byte_past_the_limit() {
        let mut body = CappedBody::new(10, None).unwrap();
        body.push(b"12345").unwrap();
        body.push(b"67890").unwrap();
        assert_eq!(body.push(b"x"), Err(TooLarge { limit: 10 }));
        let mut exact = CappedBody::new(10, Some("10")).unwrap();
        exact.push(b"1234567890").unwrap();
        assert_eq!(exact.into_bytes(), b"1234567890");
        let mut one_chunk = CappedBody::new(10, None).unwrap();
        assert!(one_chunk.push(&[0; 11]).is_err(), "one chunk over the limit");
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        assert!(CappedBody::new(10, Some("11")).is_err());
        assert!(CappedBody::new(10, Some("99999999999999999999")).is_ok(), "unparsable: counted while read");
        assert!(CappedBody::new(10, Some(" 10 ")).is_ok());
        assert!(CappedBody::new(10, Some("abc")).is_ok());
    }
}
