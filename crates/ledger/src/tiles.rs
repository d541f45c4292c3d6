//! C2SP tlog-tiles: static tiles of the Merkle tree and entry bundles.
//!
//! Paths are `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]` (not the older Go sumdb
//! layout `tile/<H>/<L>/<N>`). A hash tile at level L holds up to 256 consecutive hashes of
//! complete subtrees of 256^L leaves, which are exactly the stored hashes at tree level 8·L, so
//! a tile is one `read_hashes` call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use thiserror::Error;

use crate::merkle::{HASH_SIZE, Hash, ProofError, node_hash};
use crate::storage::{self, HashReader, StorageError, split_stored_hash_index, stored_hash_index};

/// Hashes in a full tile.
pub const TILE_WIDTH: u16 = 256;
/// Tree levels spanned by one tile level.
pub const TILE_HEIGHT: u32 = 8;
/// Highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;
/// Largest entry an entry bundle can hold (uint16 length prefix).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TileError {
    #[error("malformed tile path: {0}")]
    MalformedPath(&'static str),
    #[error("tile level {0} is above 63")]
    LevelTooHigh(u64),
    #[error("tile width {0} is not in 1..=256")]
    BadWidth(u64),
    #[error("the tile needs leaves beyond the tree size {tree_size}")]
    BeyondTree { tree_size: u64 },
    #[error("entry of {0} bytes does not fit in an entry bundle")]
    EntryTooLarge(usize),
    #[error("malformed entry bundle: {0}")]
    MalformedBundle(&'static str),
    #[error("tile {path} has {got} bytes, expected {expected}")]
    WrongTileSize {
        path: String,
        expected: usize,
        got: usize,
    },
    #[error("fetching {path} failed: {reason}")]
    Fetch { path: String, reason: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Proof(#[from] ProofError),
}

impl TileError {
    /// Stable machine code for the web layer (`tile_beyond_tree` and the path errors are 404s).
    pub fn code(&self) -> &'static str {
        match self {
            TileError::MalformedPath(_) => "tile_malformed_path",
            TileError::LevelTooHigh(_) => "tile_level_too_high",
            TileError::BadWidth(_) => "tile_bad_width",
            TileError::BeyondTree { .. } => "tile_beyond_tree",
            TileError::EntryTooLarge(_) => "tile_entry_too_large",
            TileError::MalformedBundle(_) => "tile_malformed_bundle",
            TileError::WrongTileSize { .. } => "tile_wrong_size",
            TileError::Fetch { .. } => "tile_fetch_failed",
            TileError::Storage(e) => e.code(),
            TileError::Proof(e) => e.code(),
        }
    }
}

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Merkle tree hashes at tile level `level`.
    Hashes { level: u8 },
    /// Entry bundle (level-0 tile of the entries themselves).
    Entries,
}

/// A tile resource: kind, index within its level, and width (256 for a full tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TilePath {
    pub kind: TileKind,
    pub index: u64,
    pub width: u16,
}

impl TilePath {
    /// A hash tile; `width` is 1..=256.
    pub fn hashes(level: u8, index: u64, width: u16) -> Result<Self, TileError> {
        if level > MAX_TILE_LEVEL {
            return Err(TileError::LevelTooHigh(u64::from(level)));
        }
        check_width(u64::from(width))?;
        Ok(Self {
            kind: TileKind::Hashes { level },
            index,
            width,
        })
    }

    /// An entry bundle; `width` is 1..=256.
    pub fn entries(index: u64, width: u16) -> Result<Self, TileError> {
        check_width(u64::from(width))?;
        Ok(Self {
            kind: TileKind::Entries,
            index,
            width,
        })
    }

    /// Whether the tile holds fewer than 256 items.
    pub fn is_partial(&self) -> bool {
        self.width < TILE_WIDTH
    }

    /// Tile level (entry bundles count as level 0).
    pub fn level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes { level } => level,
            TileKind::Entries => 0,
        }
    }

    /// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, refusing any
    /// non-canonical spelling.
    pub fn parse(path: &str) -> Result<Self, TileError> {
        let rest = path
            .strip_prefix("tile/")
            .ok_or(TileError::MalformedPath("missing tile/ prefix"))?;
        let (kind_part, rest) = rest
            .split_once('/')
            .ok_or(TileError::MalformedPath("missing tile index"))?;
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index_part, w)) => {
                let w = parse_decimal(w).ok_or(TileError::MalformedPath("bad partial width"))?;
                if w == 0 || w >= u64::from(TILE_WIDTH) {
                    return Err(TileError::BadWidth(w));
                }
                (index_part, w as u16)
            }
            None => (rest, TILE_WIDTH),
        };
        let index = parse_tile_index(index_part)?;
        if kind_part == "entries" {
            return Self::entries(index, width);
        }
        let level = parse_decimal(kind_part).ok_or(TileError::MalformedPath("bad tile level"))?;
        if level > u64::from(MAX_TILE_LEVEL) {
            return Err(TileError::LevelTooHigh(level));
        }
        Self::hashes(level as u8, index, width)
    }

    /// Canonical path, relative to the log prefix.
    pub fn to_path(&self) -> String {
        let kind = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut path = format!("tile/{kind}/{}", encode_tile_index(self.index));
        if self.is_partial() {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// First leaf covered by this tile.
    pub fn start_leaf(&self) -> u128 {
        (u128::from(self.index) * u128::from(TILE_WIDTH)).saturating_mul(leaves_per_hash(self.level()))
    }

    /// One past the last leaf this tile needs.
    pub fn end_leaf(&self) -> u128 {
        (u128::from(self.index) * u128::from(TILE_WIDTH) + u128::from(self.width))
            .saturating_mul(leaves_per_hash(self.level()))
    }

    /// Whether a tree of `tree_size` leaves determines this tile.
    pub fn exists_in(&self, tree_size: u64) -> bool {
        self.end_leaf() <= u128::from(tree_size)
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_path())
    }
}

fn check_width(width: u64) -> Result<(), TileError> {
    if width == 0 || width > u64::from(TILE_WIDTH) {
        return Err(TileError::BadWidth(width));
    }
    Ok(())
}

/// Leaves under one hash of a tile at `level` (256^level). From level 8 on this exceeds any
/// u64 tree size, so it is capped there; callers multiply with saturation.
fn leaves_per_hash(level: u8) -> u128 {
    1u128 << (u32::from(level.min(9)) * TILE_HEIGHT)
}

/// ASCII decimal with no leading zeros; `None` for anything else.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

/// Encodes a tile index as zero-padded 3-digit groups, `x` before all but the last
/// (1234067 → `x001/x234/067`).
pub fn encode_tile_index(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// Parses the `<N>` part of a tile path, refusing non-canonical forms.
pub fn parse_tile_index(s: &str) -> Result<u64, TileError> {
    let parts: Vec<&str> = s.split('/').collect();
    let (last, leading) = parts.split_last().expect("split yields at least one part");
    let mut value: u64 = 0;
    for (i, group) in leading.iter().enumerate() {
        let digits = group
            .strip_prefix('x')
            .ok_or(TileError::MalformedPath("index group without x"))?;
        let g = three_digits(digits)?;
        if i == 0 && g == 0 {
            return Err(TileError::MalformedPath("index has a leading zero group"));
        }
        value = value
            .checked_mul(1000)
            .and_then(|v| v.checked_add(g))
            .ok_or(TileError::MalformedPath("index overflows"))?;
    }
    let g = three_digits(last)?;
    value
        .checked_mul(1000)
        .and_then(|v| v.checked_add(g))
        .ok_or(TileError::MalformedPath("index overflows"))
}

fn three_digits(s: &str) -> Result<u64, TileError> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TileError::MalformedPath("index group is not three digits"));
    }
    Ok(s.parse().expect("three ASCII digits"))
}

/// The tile at (`level`, `index`) as a tree of `tree_size` leaves determines it: full, partial
/// with the width that size implies, or `None` if the tree does not reach it.
pub fn tile_for_tree_size(level: u8, index: u64, tree_size: u64) -> Option<TilePath> {
    if level > MAX_TILE_LEVEL {
        return None;
    }
    let per_hash = leaves_per_hash(level);
    let hashes_at_level = u128::from(tree_size) / per_hash;
    let first = u128::from(index) * u128::from(TILE_WIDTH);
    if hashes_at_level <= first {
        return None;
    }
    let width = (hashes_at_level - first).min(u128::from(TILE_WIDTH)) as u16;
    Some(TilePath {
        kind: TileKind::Hashes { level },
        index,
        width,
    })
}

/// Every hash tile a tree of `tree_size` leaves publishes: the full tiles and, per level, the
/// rightmost partial tile.
pub fn hash_tiles_for_size(tree_size: u64) -> Vec<TilePath> {
    let mut out = Vec::new();
    for level in 0..=MAX_TILE_LEVEL {
        let hashes_at_level = u128::from(tree_size) / leaves_per_hash(level);
        if hashes_at_level == 0 {
            break;
        }
        let tiles = hashes_at_level.div_ceil(u128::from(TILE_WIDTH)) as u64;
        out.extend((0..tiles).filter_map(|index| tile_for_tree_size(level, index, tree_size)));
    }
    out
}

/// Every entry bundle a tree of `tree_size` leaves publishes.
pub fn entry_bundles_for_size(tree_size: u64) -> Vec<TilePath> {
    hash_tiles_for_size(tree_size)
        .into_iter()
        .filter(|t| t.level() == 0)
        .map(|t| TilePath {
            kind: TileKind::Entries,
            ..t
        })
        .collect()
}

/// Stored hash indexes a hash tile is made of.
pub fn hash_tile_indexes(path: &TilePath, tree_size: u64) -> Result<Vec<u64>, TileError> {
    let TileKind::Hashes { level } = path.kind else {
        return Err(TileError::MalformedPath("not a hash tile"));
    };
    if !path.exists_in(tree_size) {
        return Err(TileError::BeyondTree { tree_size });
    }
    let tree_level = u32::from(level) * TILE_HEIGHT;
    let first = path.index * u64::from(TILE_WIDTH);
    Ok((0..u64::from(path.width))
        .map(|i| stored_hash_index(tree_level, first + i))
        .collect())
}

/// The bytes of a hash tile (`width` × 32 bytes) for a tree of `tree_size` leaves. A tile that
/// needs leaves beyond the tree is refused with [`TileError::BeyondTree`].
pub fn read_hash_tile<R: HashReader>(
    reader: &R,
    tree_size: u64,
    path: &TilePath,
) -> Result<Vec<u8>, TileError> {
    let indexes = hash_tile_indexes(path, tree_size)?;
    let hashes = reader.read_hashes(&indexes)?;
    if hashes.len() != indexes.len() {
        return Err(StorageError::ShortRead {
            wanted: indexes.len(),
            got: hashes.len(),
        }
        .into());
    }
    Ok(hashes.concat())
}

/// Leaf indexes an entry bundle holds, refusing bundles beyond the tree.
pub fn entry_bundle_range(path: &TilePath, tree_size: u64) -> Result<std::ops::Range<u64>, TileError> {
    if path.kind != TileKind::Entries {
        return Err(TileError::MalformedPath("not an entry bundle"));
    }
    if !path.exists_in(tree_size) {
        return Err(TileError::BeyondTree { tree_size });
    }
    let start = path.index * u64::from(TILE_WIDTH);
    Ok(start..start + u64::from(path.width))
}

/// Encodes entries as a bundle: each entry prefixed with its big-endian uint16 length.
pub fn encode_entry_bundle<T: AsRef<[u8]>>(entries: &[T]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for entry in entries {
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLarge(entry.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decodes an entry bundle.
pub fn decode_entry_bundle(mut data: &[u8]) -> Result<Vec<Vec<u8>>, TileError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (len, rest) = data
            .split_first_chunk::<2>()
            .ok_or(TileError::MalformedBundle("truncated length"))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if rest.len() < len {
            return Err(TileError::MalformedBundle("truncated entry"));
        }
        out.push(rest[..len].to_vec());
        data = &rest[len..];
    }
    if out.len() > usize::from(TILE_WIDTH) {
        return Err(TileError::MalformedBundle("more than 256 entries"));
    }
    Ok(out)
}

/// A [`HashReader`] that answers from tiles fetched by path, as a verifier with only the
/// static files would. Tiles are fetched once each and checked for their expected size; their
/// content is authenticated only by verifying the resulting proof against a signed root.
pub struct TileHashReader<F> {
    tree_size: u64,
    fetch: RefCell<F>,
    cache: RefCell<HashMap<TilePath, Vec<u8>>>,
    // `HashReader` can only return a `StorageError`; the typed tile error is kept here so
    // `inclusion_proof_from_tiles` can report it as such.
    last_error: RefCell<Option<TileError>>,
}

impl<F, E> TileHashReader<F>
where
    F: FnMut(&TilePath) -> Result<Vec<u8>, E>,
    E: fmt::Display,
{
    pub fn new(tree_size: u64, fetch: F) -> Self {
        Self {
            tree_size,
            fetch: RefCell::new(fetch),
            cache: RefCell::new(HashMap::new()),
            last_error: RefCell::new(None),
        }
    }

    /// The tile error behind the last failed `read_hashes`, if any.
    pub fn take_error(&self) -> Option<TileError> {
        self.last_error.borrow_mut().take()
    }

    fn tile(&self, path: TilePath) -> Result<Vec<u8>, TileError> {
        if let Some(data) = self.cache.borrow().get(&path) {
            return Ok(data.clone());
        }
        let data = (self.fetch.borrow_mut())(&path).map_err(|e| TileError::Fetch {
            path: path.to_path(),
            reason: e.to_string(),
        })?;
        let expected = usize::from(path.width) * HASH_SIZE;
        if data.len() != expected {
            return Err(TileError::WrongTileSize {
                path: path.to_path(),
                expected,
                got: data.len(),
            });
        }
        self.cache.borrow_mut().insert(path, data.clone());
        Ok(data)
    }

    /// Hash of the complete subtree (`tree_level`, `n`), folded from its tile.
    fn subtree_hash(&self, tree_level: u32, n: u64) -> Result<Hash, TileError> {
        let tile_level = tree_level / TILE_HEIGHT;
        let within = tree_level % TILE_HEIGHT;
        let first = n << within;
        let tile_index = first / u64::from(TILE_WIDTH);
        let offset = (first % u64::from(TILE_WIDTH)) as usize;
        let count = 1usize << within;
        let path = tile_for_tree_size(tile_level as u8, tile_index, self.tree_size).ok_or(
            TileError::BeyondTree {
                tree_size: self.tree_size,
            },
        )?;
        if offset + count > usize::from(path.width) {
            return Err(TileError::BeyondTree {
                tree_size: self.tree_size,
            });
        }
        let data = self.tile(path)?;
        let mut level: Vec<Hash> = data[offset * HASH_SIZE..(offset + count) * HASH_SIZE]
            .chunks_exact(HASH_SIZE)
            .map(|c| c.try_into().expect("32-byte chunk"))
            .collect();
        while level.len() > 1 {
            level = level
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
        }
        Ok(level[0])
    }
}

impl<F, E> HashReader for TileHashReader<F>
where
    F: FnMut(&TilePath) -> Result<Vec<u8>, E>,
    E: fmt::Display,
{
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, StorageError> {
        indexes
            .iter()
            .map(|&i| {
                let (level, n) = split_stored_hash_index(i);
                self.subtree_hash(level, n).map_err(|e| {
                    let storage = StorageError::Backend(e.to_string());
                    *self.last_error.borrow_mut() = Some(e);
                    storage
                })
            })
            .collect()
    }
}

/// Recomputes the inclusion proof of leaf `index` in the tree of `tree_size` leaves from
/// tiles fetched with `fetch` (which receives paths such as `tile/0/x001/234.p/7`).
pub fn inclusion_proof_from_tiles<F, E>(tree_size: u64, index: u64, fetch: F) -> Result<Vec<Hash>, TileError>
where
    F: FnMut(&TilePath) -> Result<Vec<u8>, E>,
    E: fmt::Display,
{
    let reader = TileHashReader::new(tree_size, fetch);
    storage::prove_record(tree_size, index, &reader).map_err(|e| match e {
        storage::TreeError::Storage(e) => reader.take_error().unwrap_or(TileError::Storage(e)),
        storage::TreeError::Proof(e) => TileError::Proof(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_examples() {
        assert_eq!(encode_tile_index(0), "000");
        assert_eq!(encode_tile_index(7), "007");
        assert_eq!(encode_tile_index(1000), "x001/000");
        assert_eq!(encode_tile_index(1_234_067), "x001/x234/067");
        assert_eq!(encode_tile_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
        assert_eq!(
            parse_tile_index("x018/x446/x744/x073/x709/x551/615"),
            Ok(u64::MAX)
        );
        assert!(parse_tile_index("x018/x446/x744/x073/x709/x551/616").is_err());
    }

    #[test]
    fn tiles_for_size_70000_match_the_spec_example() {
        // tlog-tiles: 273 full level-0 tiles, a partial of width 112, a full level-1 tile, a
        // partial level-1 tile of width 17 and a partial level-2 tile of width 1.
        let tiles = hash_tiles_for_size(70_000);
        let full0 = tiles.iter().filter(|t| t.level() == 0 && !t.is_partial()).count();
        assert_eq!(full0, 273);
        let partial: Vec<String> = tiles
            .iter()
            .filter(|t| t.is_partial())
            .map(|t| t.to_path())
            .collect();
        assert_eq!(partial, ["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1"]);
        assert!(tiles.contains(&TilePath::hashes(1, 0, 256).unwrap()));
        assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1);
        let size256: Vec<String> = hash_tiles_for_size(256).iter().map(|t| t.to_path()).collect();
        assert_eq!(size256, ["tile/0/000", "tile/1/000.p/1"]);
    }
}
