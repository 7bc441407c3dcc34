//! Opening the files a user names — capture files, the state file, the
//! protocol table, the lease file, the web config — as regular files only,
//! and never waiting to open one.
//!
//! A plain `open` of a FIFO blocks until a writer turns up: for ever, in the
//! kernel, where no signal handler can help (the handlers only set a flag
//! the stuck thread never looks at again). So these files are opened with
//! `O_NONBLOCK`, which makes opening a FIFO return at once and means nothing
//! for a regular file; the open descriptor is checked with `fstat` (no race
//! with a rename between a `stat` and the `open`), refused unless it is a
//! regular file, and then switched back to blocking reads. The error names
//! what the path is ("is a FIFO", "is a directory", ...), for the caller to
//! put after the path.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Opens `path` for reading if it is a regular file (symbolic links are
/// followed); anything else is an `InvalidInput` error saying what it is.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        let what = if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a file"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is {what}, not a regular file"),
        ));
    }
    clear_nonblocking(&file)?;
    Ok(file)
}

/// Checks that `path` is a regular file without blocking (see
/// [`open_regular`]), for files a library opens itself afterwards.
pub fn check_regular(path: &Path) -> io::Result<()> {
    open_regular(path).map(drop)
}

fn clear_nonblocking(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function's caller owns, with
    // integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::io::Read;
    use std::os::unix::ffi::OsStrExt;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("lanwatch-files-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_fifo_is_refused_at_once_and_named() {
        let d = dir("fifo");
        let fifo = d.join("pipe");
        let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid C string and a mode.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would never return.
        let e = open_regular(&fifo).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("is a FIFO"), "{e}");
        let e = open_regular(&d).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        let e = open_regular(Path::new("/dev/null")).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_regular_file_reads_as_usual() {
        let d = dir("regular");
        let path = d.join("f");
        std::fs::write(&path, b"hello").unwrap();
        let mut text = String::new();
        open_regular(&path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello");
        // SAFETY: F_GETFL on an open descriptor.
        let flags = unsafe { libc::fcntl(open_regular(&path).unwrap().as_raw_fd(), libc::F_GETFL) };
        assert_eq!(flags & libc::O_NONBLOCK, 0, "reads block as usual");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
