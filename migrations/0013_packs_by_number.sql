-- Content packs named by a number (issue 23, storage).
--
-- Every text blob row named its pack by the pack's whole object key
-- (`packs/<repository>/<sha-256>`, ~89 bytes), and the pack ledger named each blob by its
-- 40-hex id (~43 bytes): ~130 bytes a held text file of the ~800. A pack's key is now kept
-- once, in `packs`, and rows name it by number; the ledger names a pack's blob rows by
-- their row id.
--
-- A pack's number is local to its database (the same key stored in two databases has a
-- number in each), and may change: a pack forgotten after a sweep and stored again later
-- gets a new one. A blob row deleted by a sweep and stored again gets a new row id too, so
-- the ledger row of a part is rewritten by every write of the part (an upsert), never kept
-- from an earlier write: it names exactly the rows that point into the pack when written.
-- A pack's row goes with its last ledger row.

CREATE TABLE packs (
  id   INTEGER PRIMARY KEY,
  key  TEXT NOT NULL UNIQUE                  -- the pack's object key in the content bucket
);
INSERT INTO packs (key) SELECT DISTINCT pack FROM blob_contents WHERE pack IS NOT NULL ORDER BY 1;

CREATE TABLE blob_contents_v13 (
  id          INTEGER PRIMARY KEY,
  repository  TEXT NOT NULL,                 -- lower-cased owner/repo
  sha         TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('text', 'binary', 'lfs-pointer', 'not-text')),
  size        INTEGER NOT NULL,
  chunks      TEXT NOT NULL DEFAULT '[]',
  pack_id     INTEGER,                       -- packs.id; NULL unless status = 'text'
  pack_offset INTEGER,
  -- The write that created the row (random per write): that write's own full-text insert
  -- indexes exactly the rows it created, so a replay never indexes a chunk twice.
  write_tag   TEXT NOT NULL,
  UNIQUE (repository, sha),
  CHECK (pack_id IS NULL OR (status = 'text' AND pack_offset IS NOT NULL))
);
-- Row ids are kept: the full-text index's document ids are derived from them.
INSERT INTO blob_contents_v13 (id, repository, sha, status, size, chunks, pack_id, pack_offset, write_tag)
SELECT b.id, b.repository, b.sha, b.status, b.size, b.chunks, p.id, b.pack_offset, b.write_tag
FROM blob_contents b LEFT JOIN packs p ON p.key = b.pack;
DROP TABLE blob_contents;
ALTER TABLE blob_contents_v13 RENAME TO blob_contents;

-- The pack ledger: each pack's text blob rows, by row id, in parts of 1,000 of the pack's
-- blob ids in sha order (`crate::pack::LEDGER_PART`). It is built anew from the blob rows:
-- the old ledger may miss rows (a part was written once, so a row swept and stored again
-- later was in none), and a ledger that misses a row lets a sweep delete a pack in use.
-- Parts here count only the rows that point into the pack; a later write of the pack
-- rewrites its own parts, and a row listed twice is harmless.
CREATE TABLE pack_blobs_v13 (
  pack_id     INTEGER NOT NULL,              -- packs.id
  part        INTEGER NOT NULL CHECK (part >= 0),
  ids         TEXT NOT NULL,                 -- JSON array of blob_contents.id
  PRIMARY KEY (pack_id, part)
) WITHOUT ROWID;
INSERT INTO pack_blobs_v13 (pack_id, part, ids)
SELECT pack_id, part, json_group_array(id) FROM (
  SELECT pack_id, id, (row_number() OVER (PARTITION BY pack_id ORDER BY sha) - 1) / 1000 AS part
  FROM blob_contents WHERE pack_id IS NOT NULL ORDER BY pack_id, sha)
GROUP BY pack_id, part;
DROP TABLE pack_blobs;
ALTER TABLE pack_blobs_v13 RENAME TO pack_blobs;
