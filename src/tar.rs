//! A streaming reader of (decompressed) tar archives as GitHub's tarball endpoint and
//! `git archive` write them: ustar headers, pax `path` records, a global pax header, and a
//! single top-level directory. Bytes arrive in chunks of any size; only the files a caller
//! wants are held in memory, one at a time, so memory stays bounded by the largest wanted file.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TarError {
    BadChecksum,
    BadNumber(&'static str),
    BadPax,
    /// The archive ended inside an entry.
    Truncated,
}

impl std::fmt::Display for TarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tarball: {self:?}")
    }
}

/// A regular file the caller asked for, with its path inside the archive's top directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarFile {
    pub path: String,
    pub data: Vec<u8>,
    /// The owner may execute it (git's `100755`; `git archive` writes 0775, else 0664).
    pub executable: bool,
}

enum State {
    Header,
    Skip { remaining: u64 },
    Keep { path: String, executable: bool, size: u64, padded: u64, read: u64, data: Vec<u8> },
    Pax { size: u64, padded: u64, read: u64, data: Vec<u8> },
    End,
}

pub struct TarReader {
    header: Vec<u8>,
    state: State,
    pax_path: Option<String>,
}

impl Default for TarReader {
    fn default() -> Self {
        TarReader { header: Vec::with_capacity(512), state: State::Header, pax_path: None }
    }
}

fn padded(size: u64) -> u64 {
    size.div_ceil(512) * 512
}

fn field(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

fn number(bytes: &[u8], what: &'static str) -> Result<u64, TarError> {
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        // Base-256 (GNU) for values that do not fit in octal.
        let mut v: u64 = u64::from(bytes[0] & 0x7f);
        for &b in &bytes[1..] {
            v = v.checked_mul(256).ok_or(TarError::BadNumber(what))? + u64::from(b);
        }
        return Ok(v);
    }
    let text = std::str::from_utf8(field(bytes)).map_err(|_| TarError::BadNumber(what))?;
    let text = text.trim_matches(|c: char| c == ' ' || c == '\0');
    if text.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(text, 8).map_err(|_| TarError::BadNumber(what))
}

/// Drops the archive's top-level directory (`owner-repo-sha/`).
fn strip_top(path: &str) -> Option<&str> {
    path.split_once('/').map(|(_, rest)| rest).filter(|rest| !rest.is_empty())
}

fn pax_path(records: &[u8]) -> Result<Option<String>, TarError> {
    let mut rest = records;
    let mut path = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ').ok_or(TarError::BadPax)?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok().and_then(|s| s.parse().ok()).ok_or(TarError::BadPax)?;
        if len <= space + 1 || len > rest.len() {
            return Err(TarError::BadPax);
        }
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(value) = record.strip_prefix(b"path=") {
            path = Some(String::from_utf8(value.to_vec()).map_err(|_| TarError::BadPax)?);
        }
        rest = &rest[len..];
    }
    Ok(path)
}

impl TarReader {
    /// Feeds the next bytes. `want(path, size)` decides which regular files to keep; each kept
    /// file is handed to `on_file` as soon as its last byte has arrived.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        want: &mut dyn FnMut(&str, u64) -> bool,
        on_file: &mut dyn FnMut(TarFile),
    ) -> Result<(), TarError> {
        while !input.is_empty() {
            match &mut self.state {
                State::End => return Ok(()),
                State::Header => {
                    let need = 512 - self.header.len();
                    let n = need.min(input.len());
                    self.header.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    if self.header.len() == 512 {
                        let header = std::mem::replace(&mut self.header, Vec::with_capacity(512));
                        // Entries without data blocks are complete with their header.
                        self.state = match self.parse_header(&header, want)? {
                            State::Keep { padded: 0, path, executable, .. } => {
                                on_file(TarFile { path, data: Vec::new(), executable });
                                State::Header
                            }
                            State::Skip { remaining: 0 } | State::Pax { padded: 0, .. } => State::Header,
                            other => other,
                        };
                    }
                }
                State::Skip { remaining } => {
                    let n = (*remaining).min(input.len() as u64);
                    *remaining -= n;
                    input = &input[n as usize..];
                    if *remaining == 0 {
                        self.state = State::Header;
                    }
                }
                State::Keep { path, executable, size, padded, read, data } => {
                    let n = (*padded - *read).min(input.len() as u64);
                    let useful = (*size).saturating_sub(*read).min(n);
                    data.extend_from_slice(&input[..useful as usize]);
                    *read += n;
                    input = &input[n as usize..];
                    if *read == *padded {
                        on_file(TarFile { path: std::mem::take(path), data: std::mem::take(data), executable: *executable });
                        self.state = State::Header;
                    }
                }
                State::Pax { size, padded, read, data } => {
                    let n = (*padded - *read).min(input.len() as u64);
                    let useful = (*size).saturating_sub(*read).min(n);
                    data.extend_from_slice(&input[..useful as usize]);
                    *read += n;
                    input = &input[n as usize..];
                    if *read == *padded {
                        self.pax_path = pax_path(data)?;
                        self.state = State::Header;
                    }
                }
            }
        }
        Ok(())
    }

    /// Call after the last byte: an archive that stops inside an entry is an error.
    pub fn finish(&self) -> Result<(), TarError> {
        match self.state {
            State::End => Ok(()),
            State::Header if self.header.is_empty() => Ok(()),
            _ => Err(TarError::Truncated),
        }
    }

    fn parse_header(&mut self, h: &[u8], want: &mut dyn FnMut(&str, u64) -> bool) -> Result<State, TarError> {
        if h.iter().all(|&b| b == 0) {
            return Ok(State::End);
        }
        let stored = number(&h[148..156], "checksum")?;
        let sum: u64 = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) }).sum();
        if stored != sum {
            return Err(TarError::BadChecksum);
        }
        let size = number(&h[124..136], "size")?;
        let kind = h[156];
        let skip = State::Skip { remaining: padded(size) };
        let state = match kind {
            b'x' if size <= 64 * 1024 => State::Pax { size, padded: padded(size), read: 0, data: Vec::new() },
            b'0' | 0 | b'7' => {
                let name = String::from_utf8_lossy(field(&h[0..100])).into_owned();
                let prefix = String::from_utf8_lossy(field(&h[345..500])).into_owned();
                let full = match self.pax_path.take() {
                    Some(p) => p,
                    None if prefix.is_empty() => name,
                    None => format!("{prefix}/{name}"),
                };
                match strip_top(&full) {
                    Some(path) if want(path, size) => State::Keep {
                        path: path.to_string(),
                        executable: number(&h[100..108], "mode")? & 0o100 != 0,
                        size,
                        padded: padded(size),
                        read: 0,
                        data: Vec::with_capacity(size.min(1 << 20) as usize),
                    },
                    _ => skip,
                }
            }
            _ => {
                self.pax_path = None;
                skip
            }
        };
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a tar the way `git archive` does, for the tests.
    fn header(name: &str, size: usize, kind: u8) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        let (prefix, base) = if name.len() > 100 { name.rsplit_once('/').unwrap() } else { ("", name) };
        h[..base.len()].copy_from_slice(base.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn entry(out: &mut Vec<u8>, name: &str, data: &[u8], kind: u8) {
        out.extend(header(name, data.len(), kind));
        out.extend(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }

    fn pax(records: &[(&str, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (k, v) in records {
            let base = format!(" {k}={v}\n");
            let mut len = base.len() + 1;
            while format!("{len}{base}").len() != len {
                len += 1;
            }
            body.extend(format!("{len}{base}").into_bytes());
        }
        body
    }

    fn archive() -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        let long = format!("top/{}/deep.txt", "d".repeat(120));
        let mut out = Vec::new();
        entry(&mut out, "pax_global_header", &pax(&[("comment", "abc")]), b'g');
        entry(&mut out, "top/", b"", b'5');
        entry(&mut out, "top/a.txt", b"alpha\n", b'0');
        entry(&mut out, "top/empty", b"", b'0');
        entry(&mut out, "top/link", b"", b'2');
        entry(&mut out, "top/big.bin", &vec![7u8; 1500], b'0');
        entry(&mut out, "PaxHeader", &pax(&[("path", &long)]), b'x');
        entry(&mut out, "top/truncated-name", b"deep\n", b'0');
        entry(&mut out, "top/sub/ü.md", "ünï\n".as_bytes(), b'0');
        out.extend(vec![0u8; 1024]);
        let want = vec![
            ("a.txt".to_string(), b"alpha\n".to_vec()),
            ("empty".to_string(), Vec::new()),
            ("big.bin".to_string(), vec![7u8; 1500]),
            (long.trim_start_matches("top/").to_string(), b"deep\n".to_vec()),
            ("sub/ü.md".to_string(), "ünï\n".as_bytes().to_vec()),
        ];
        (out, want)
    }

    fn read_all(bytes: &[u8], chunk: usize, want: &mut dyn FnMut(&str, u64) -> bool) -> Result<Vec<(String, Vec<u8>)>, TarError> {
        let mut reader = TarReader::default();
        let mut got = Vec::new();
        for piece in bytes.chunks(chunk) {
            reader.feed(piece, want, &mut |f| got.push((f.path, f.data)))?;
        }
        reader.finish()?;
        Ok(got)
    }

    #[test]
    fn reads_every_file_whatever_the_chunking() {
        let (bytes, want) = archive();
        for chunk in [1, 7, 511, 512, 513, 4096, bytes.len()] {
            assert_eq!(read_all(&bytes, chunk, &mut |_, _| true).unwrap(), want, "chunk {chunk}");
        }
    }

    #[test]
    fn keeps_only_what_is_wanted() {
        let (bytes, _) = archive();
        let got = read_all(&bytes, 100, &mut |p, size| p.ends_with(".txt") && size < 100).unwrap();
        assert_eq!(got.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["a.txt", &format!("{}/deep.txt", "d".repeat(120))]);
    }

    #[test]
    fn an_unwanted_entry_is_streamed_past_never_buffered() {
        // A 64 MiB entry (an LFS object in an archive, say) declined by `want`: the reader
        // only counts its bytes down, whatever arrives, and keeps none of them.
        const SIZE: usize = 64 << 20;
        let mut reader = TarReader::default();
        let mut asked = Vec::new();
        let mut want = |p: &str, size: u64| {
            asked.push((p.to_string(), size));
            false
        };
        reader.feed(&header("top/huge.bin", SIZE, b'0'), &mut want, &mut |_| panic!("nothing is kept")).unwrap();
        let chunk = vec![0u8; 64 << 10];
        for _ in 0..128 {
            reader.feed(&chunk, &mut want, &mut |_| panic!("nothing is kept")).unwrap();
            assert!(matches!(reader.state, State::Skip { .. }), "the entry's bytes are skipped, not held");
        }
        assert!(matches!(reader.state, State::Skip { remaining } if remaining == (SIZE - 128 * chunk.len()) as u64));
        assert_eq!(asked, vec![("huge.bin".to_string(), SIZE as u64)], "`want` sees the entry's real size");
    }

    #[test]
    fn damage_is_reported() {
        let (mut bytes, _) = archive();
        let cut = bytes.len() - 1024 - 300;
        assert_eq!(read_all(&bytes[..cut], 64, &mut |_, _| true), Err(TarError::Truncated));
        bytes[512 * 2 + 10] ^= 0xff; // inside the second header
        assert_eq!(read_all(&bytes, 64, &mut |_, _| true), Err(TarError::BadChecksum));
    }
}
