//! A lab's zip: the same files give the same bytes, every time, on every
//! machine (fixed order, fixed timestamps, fixed compression level).

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, LazyLock, Mutex};

use crate::manifest::Lab;
use crate::readme::{lab_readme, readme_name};

/// 1980-01-01 00:00, the earliest time a zip can record.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
const UTF8_NAMES: u16 = 1 << 11;

/// Builds the zip of a lab's files (shown and hidden), each under `<id>/`,
/// with a README of the lab's steps (see [`lab_readme`]).
pub fn lab_zip(lab: &Lab) -> io::Result<Vec<u8>> {
    let mut entries = Vec::with_capacity(lab.files.len() + 1);
    entries.push((
        format!("{}/{}", lab.id, readme_name(lab)),
        lab_readme(lab).into_bytes(),
        false,
    ));
    for f in &lab.files {
        let path = lab.dir.join(&f.rel);
        let data = std::fs::read(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        entries.push((format!("{}/{}", lab.id, f.rel), data, is_executable(&path)));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(write_zip(&entries))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &std::path::Path) -> bool {
    false
}

fn write_zip(entries: &[(String, Vec<u8>, bool)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data, exec) in entries {
        let crc = crc32fast::hash(data);
        let deflated = deflate(data);
        let (method, body): (u16, &[u8]) = if deflated.len() < data.len() {
            (8, deflated.as_slice())
        } else {
            (0, data)
        };
        let offset = out.len() as u32;
        let name_bytes = name.as_bytes();

        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&UTF8_NAMES.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&DOS_TIME.to_le_bytes());
        out.extend_from_slice(&DOS_DATE.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name_bytes.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name_bytes);
        out.extend_from_slice(body);

        let mode: u32 = if *exec { 0o100_755 } else { 0o100_644 };
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&UTF8_NAMES.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&DOS_TIME.to_le_bytes());
        central.extend_from_slice(&DOS_DATE.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(body.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name_bytes.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra len, comment len, disk, internal attrs
        central.extend_from_slice(&(mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name_bytes);
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Deflated file contents by content. Every rebuild of `course serve`
/// zips every lab again, and compressing is most of that time; a file that
/// did not change is compressed once per process.
static DEFLATED: LazyLock<Mutex<DeflateCache>> = LazyLock::new(Mutex::default);

#[derive(Default)]
struct DeflateCache {
    bodies: HashMap<Vec<u8>, Arc<Vec<u8>>>,
    /// Bytes held (contents and bodies); past [`DEFLATE_CACHE_LIMIT`] the
    /// cache starts again, so a long session of edits cannot grow it forever.
    held: usize,
}

const DEFLATE_CACHE_LIMIT: usize = 256 << 20;

/// How hard to compress. Level 1 deflates the course's lab files 3.4× faster
/// than level 6 for 6 % more bytes (1.89 MB against 1.78 MB for all ten
/// labs): compressing is on the path of every first build, and a download
/// of a few hundred kilobytes does not notice.
const LEVEL: u8 = 1;

/// `data` deflated at [`LEVEL`], from the cache when this process did it before.
fn deflate(data: &[u8]) -> Arc<Vec<u8>> {
    if let Some(body) = DEFLATED
        .lock()
        .ok()
        .and_then(|cache| cache.bodies.get(data).cloned())
    {
        return body;
    }
    let body = Arc::new(miniz_oxide::deflate::compress_to_vec(data, LEVEL));
    if let Ok(mut cache) = DEFLATED.lock() {
        let size = data.len() + body.len();
        if cache.held + size > DEFLATE_CACHE_LIMIT {
            *cache = DeflateCache::default();
        }
        if size <= DEFLATE_CACHE_LIMIT {
            cache.held += size;
            cache.bodies.insert(data.to_vec(), body.clone());
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_bytes_and_sizes_recorded() {
        let entries = vec![
            (
                "lab/a.txt".to_owned(),
                b"hello hello hello hello".to_vec(),
                false,
            ),
            (
                "lab/run.sh".to_owned(),
                b"#!/bin/sh\necho hi\n".to_vec(),
                true,
            ),
        ];
        let a = write_zip(&entries);
        let b = write_zip(&entries);
        assert_eq!(a, b);
        assert_eq!(&a[..4], b"PK\x03\x04");
        let eocd = &a[a.len() - 22..];
        assert_eq!(&eocd[..4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([eocd[10], eocd[11]]), 2);
    }

    #[test]
    fn cached_compression_gives_the_bytes_of_a_fresh_one() {
        let data = b"the same text, the same text, the same text".repeat(50);
        let fresh = miniz_oxide::deflate::compress_to_vec(&data, LEVEL);
        assert_eq!(*deflate(&data), fresh);
        assert_eq!(*deflate(&data), fresh, "from the cache");
        let other = b"other text, other text, other text".repeat(50);
        assert_eq!(
            *deflate(&other),
            miniz_oxide::deflate::compress_to_vec(&other, LEVEL)
        );
    }
}
