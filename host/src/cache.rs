//! Trust in the on-disk compile cache. A cached artifact is native code that
//! wasmtime maps and runs without checking it, so whoever can write the cache
//! can run code in the host, whatever sha256 pins the configuration holds.
//! The host therefore uses a cache directory only when it owns it and nobody
//! else can write it, and it seals every artifact with a MAC under a random
//! key that only it can read (`<cache_dir>/key`, mode 0600): an artifact that
//! was not written by this host for this component is ignored and recompiled.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Bytes of the key and of the MAC that prefixes every sealed artifact.
const KEY_LEN: usize = 32;

/// The host's cache key, read from (or created in) a directory it trusts.
pub struct CacheKey([u8; KEY_LEN]);

/// Why the cache directory is not used (the host then compiles every plugin).
#[derive(Debug, thiserror::Error)]
pub enum CacheRefused {
    #[error(
        "compile cache {dir} is not used: others can write to it (mode {mode:o}); fix: chmod 700 {dir}"
    )]
    Writable { dir: PathBuf, mode: u32 },
    #[error(
        "compile cache {dir} is not used: it belongs to uid {owner}, not to this user (uid {me}); fix: set [server] cache_dir or PLUE_MCP_CACHE_DIR to a directory of your own"
    )]
    Owner { dir: PathBuf, owner: u32, me: u32 },
    #[error(
        "compile cache key {path} is not used: {why}; fix: rm {path} (the host makes a new one)"
    )]
    Key { path: PathBuf, why: String },
    #[error("compile cache {dir} is not usable: {source}")]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl CacheKey {
    /// The key of `dir`, after checking that only this user can write there;
    /// creates the directory (mode 0700) and the key (mode 0600) when missing.
    pub fn open(dir: &Path) -> Result<CacheKey, CacheRefused> {
        let io = |source| CacheRefused::Io {
            dir: dir.to_path_buf(),
            source,
        };
        create_private_dir(dir).map_err(io)?;
        check_private(dir, 0o022)?;
        let path = dir.join("key");
        let key_error = |why: String| CacheRefused::Key {
            path: path.clone(),
            why,
        };
        match read_key(&path) {
            Ok(key) => Ok(key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_key(&path).map_err(|e| key_error(e.to_string()))
            }
            Err(e) => Err(key_error(e.to_string())),
        }
    }

    /// `artifact` prefixed with its MAC over `context` (what it must belong to).
    pub fn seal(&self, context: &[&[u8]], artifact: &[u8]) -> Vec<u8> {
        let mut sealed = self.mac(context, artifact).to_vec();
        sealed.extend_from_slice(artifact);
        sealed
    }

    /// The artifact inside `sealed`, if its MAC proves this key sealed it for `context`.
    pub fn unseal<'a>(&self, context: &[&[u8]], sealed: &'a [u8]) -> Option<&'a [u8]> {
        if sealed.len() < KEY_LEN {
            return None;
        }
        let (mac, artifact) = sealed.split_at(KEY_LEN);
        let expected = self.mac(context, artifact);
        // Constant time: the comparison does not stop at the first difference.
        let diff = mac
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        (diff == 0).then_some(artifact)
    }

    /// HMAC-SHA256 (RFC 2104) of the length-prefixed context parts and the artifact.
    fn mac(&self, context: &[&[u8]], artifact: &[u8]) -> [u8; KEY_LEN] {
        let mut block = [0u8; 64];
        block[..KEY_LEN].copy_from_slice(&self.0);
        let pad = |byte: u8| block.map(|b| b ^ byte);
        let mut inner = Sha256::new();
        inner.update(pad(0x36));
        for part in context {
            inner.update((part.len() as u64).to_le_bytes());
            inner.update(part);
        }
        inner.update(artifact);
        let mut outer = Sha256::new();
        outer.update(pad(0x5c));
        outer.update(inner.finalize());
        outer.finalize().into()
    }
}

/// A refusal when `path` is not owned by this user or has any `forbidden` mode bit.
#[cfg(unix)]
fn check_private(path: &Path, forbidden: u32) -> Result<(), CacheRefused> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| CacheRefused::Io {
        dir: path.to_path_buf(),
        source: e,
    })?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(CacheRefused::Owner {
            dir: path.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & forbidden != 0 {
        return Err(CacheRefused::Writable {
            dir: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _forbidden: u32) -> Result<(), CacheRefused> {
    Ok(())
}

fn read_key(path: &Path) -> std::io::Result<CacheKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path)?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if !meta.is_file() || meta.uid() != me || meta.mode() & 0o077 != 0 {
            return Err(std::io::Error::other(format!(
                "it must be a file of this user that nobody else can read or write (it is mode {:o}, uid {})",
                meta.mode() & 0o7777,
                meta.uid()
            )));
        }
    }
    let bytes = std::fs::read(path)?;
    let key: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|_| std::io::Error::other(format!("it must hold {KEY_LEN} bytes")))?;
    Ok(CacheKey(key))
}

/// Make the key file, or read the one another process (or another loading
/// thread) made first. The key is written whole to a private temporary file
/// and then linked into place, so nobody ever reads a half-written key.
fn create_key(path: &Path) -> std::io::Result<CacheKey> {
    let mut key = [0u8; KEY_LEN];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut key)?;
    let tmp = path.with_extension(format!(
        "tmp{}-{:x}",
        std::process::id(),
        u64::from_le_bytes(key[..8].try_into().expect("8 bytes"))
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    let written = file.write_all(&key).and_then(|()| file.sync_all());
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(CacheKey(key)),
        // Someone made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod race_tests {
    #[test]
    fn threads_creating_the_key_at_once_all_get_the_same_whole_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let keys: Vec<[u8; super::KEY_LEN]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| super::create_key(&path).map(|k| k.0)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().unwrap())
                .collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key for all");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary files left");
    }
}

/// Create `dir` (and missing parents) with mode 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_sealed_artifact_opens_only_for_its_context_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = CacheKey::open(&dir.path().join("cache")).unwrap();
        let sealed = key.seal(&[b"digest-a", b"engine"], b"native code");
        assert_eq!(
            key.unseal(&[b"digest-a", b"engine"], &sealed),
            Some(&b"native code"[..])
        );
        assert_eq!(key.unseal(&[b"digest-b", b"engine"], &sealed), None);
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(key.unseal(&[b"digest-a", b"engine"], &tampered), None);
        assert_eq!(key.unseal(&[b"digest-a", b"engine"], b"short"), None);
        // The same directory gives the same key; another directory another one.
        let again = CacheKey::open(&dir.path().join("cache")).unwrap();
        assert!(again.unseal(&[b"digest-a", b"engine"], &sealed).is_some());
        let other = CacheKey::open(&dir.path().join("other")).unwrap();
        assert!(other.unseal(&[b"digest-a", b"engine"], &sealed).is_none());
        let mode = std::fs::metadata(dir.path().join("cache/key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_directory_others_can_write_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = CacheKey::open(&cache).err().unwrap().to_string();
        assert!(
            err.contains("others can write to it (mode 777)")
                && err.contains(&format!("fix: chmod 700 {}", cache.display())),
            "{err}"
        );
    }

    #[test]
    fn a_key_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        CacheKey::open(dir.path()).unwrap();
        let key = dir.path().join("key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = CacheKey::open(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("mode 644") && err.contains(&format!("fix: rm {}", key.display())),
            "{err}"
        );
    }
}
