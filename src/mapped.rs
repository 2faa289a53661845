//! Big files read by mapping them into memory rather than copying them:
//! `template.yaml` of a project with thousands of handlers is megabytes, and
//! copying it into fresh memory costs ten times more than mapping it (each
//! page of the copy is a page fault; see BENCHMARKS.md). Small files are
//! read as usual.
//!
//! As with ripgrep's mappings, the bytes are taken to stay as they are
//! while the command runs (milliseconds): the project's lock keeps other
//! runs of the tool out, and editors save a file by writing a new one and
//! renaming it over the old, which leaves a mapping of the old one intact.
//! A mapped file that another program cuts short while it is read would
//! end the process with SIGBUS: the first mapping installs a handler that
//! prints the tool's one-line error instead and exits 1. Every command
//! reads what it judges before it writes, so nothing was changed then.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Deref;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Files smaller than this are read, not mapped: a mapping costs more
/// calls than it saves below a few pages.
const MAP_FROM: u64 = 64 * 1024;

/// A file's bytes, mapped (read-only, private) or read.
pub enum Bytes {
    Read(Vec<u8>),
    Mapped { ptr: *mut libc::c_void, len: usize },
}

impl Bytes {
    /// The bytes of the file at `path`.
    pub fn of(path: &Path) -> io::Result<Bytes> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        if len >= MAP_FROM
            && let Ok(len) = usize::try_from(len)
        {
            on_sigbus_fail_cleanly();
            // SAFETY: a new private read-only mapping of an open file; the
            // kernel chooses the address. MAP_POPULATE maps every page now
            // instead of one fault at a time.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_POPULATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr != libc::MAP_FAILED {
                return Ok(Bytes::Mapped { ptr, len });
            }
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(Bytes::Read(bytes))
    }
}

// SAFETY: a mapping is read-only memory that lives as long as the value:
// reading it from several threads is as safe as reading a `Vec<u8>`.
unsafe impl Send for Bytes {}
// SAFETY: as above.
unsafe impl Sync for Bytes {}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Read(bytes) => bytes,
            // SAFETY: the mapping is `len` bytes long and lives until drop;
            // nothing writes through it (PROT_READ, private).
            Bytes::Mapped { ptr, len } => unsafe {
                std::slice::from_raw_parts(ptr.cast::<u8>(), *len)
            },
        }
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        if let Bytes::Mapped { ptr, len } = *self {
            // SAFETY: unmaps exactly the mapping made in `of`, once.
            unsafe { libc::munmap(ptr, len) };
        }
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.len())
    }
}

/// A file's text: [`Bytes`] that are UTF-8, or a text made in memory.
pub enum Text {
    File(Bytes),
    Owned(String),
}

impl Text {
    /// The file's bytes as text, `Err` with them when they are not UTF-8.
    pub fn utf8(bytes: Bytes) -> Result<Text, Bytes> {
        match std::str::from_utf8(&bytes) {
            Ok(_) => Ok(Text::File(bytes)),
            Err(_) => Err(bytes),
        }
    }
}

impl Text {
    /// The file's text, `InvalidData` when it is not UTF-8 (as
    /// `fs::read_to_string` says it).
    pub fn of(path: &Path) -> io::Result<Text> {
        Text::utf8(Bytes::of(path)?).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })
    }

    /// The text as a string to change, copied first when it is a file's.
    pub fn to_mut(&mut self) -> &mut String {
        if let Text::File(_) = self {
            *self = Text::Owned(self.to_string());
        }
        match self {
            Text::Owned(text) => text,
            Text::File(_) => unreachable!("made owned above"),
        }
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // SAFETY: checked in `utf8`; the bytes do not change (see the
            // module docs).
            Text::File(bytes) => unsafe { std::str::from_utf8_unchecked(bytes) },
            Text::Owned(text) => text,
        }
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text::Owned(text)
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::Owned(text.to_string())
    }
}

impl Clone for Text {
    fn clone(&self) -> Text {
        Text::Owned(self.to_string())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        **self == **other
    }
}

impl Eq for Text {}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Installs (once) the SIGBUS handler described in the module docs.
fn on_sigbus_fail_cleanly() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: a plain handler that only calls async-signal-safe
        // functions (write, _exit).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = cut_short as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

extern "C" fn cut_short(_: libc::c_int) {
    const MESSAGE: &[u8] = b"error: a file of the project was cut short while lambda-scaffold was reading it\nhint: run the command again; nothing was changed\n";
    // SAFETY: write and _exit are async-signal-safe.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_files_are_mapped_small_ones_read_and_both_give_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..MAP_FROM + 7).map(|i| b'a' + (i % 26) as u8).collect();
        let (big_path, small_path) = (dir.path().join("big"), dir.path().join("small"));
        std::fs::write(&big_path, &big).unwrap();
        std::fs::write(&small_path, "café\n").unwrap();
        let mapped = Bytes::of(&big_path).unwrap();
        assert!(matches!(mapped, Bytes::Mapped { .. }));
        assert_eq!(&*mapped, big.as_slice());
        assert!(matches!(Bytes::of(&small_path).unwrap(), Bytes::Read(_)));
        let mut text = Text::of(&big_path).unwrap();
        assert_eq!(text.as_bytes(), big.as_slice());
        text.to_mut().push('!');
        assert!(text.ends_with("!") && text.len() == big.len() + 1);
        assert_eq!(&*Text::of(&small_path).unwrap(), "café\n");
        std::fs::write(&small_path, b"caf\xe9").unwrap();
        let err = Text::of(&small_path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
