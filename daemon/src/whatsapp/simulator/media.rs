//! Media objects and `multipart/form-data` parsing for uploads (pure).

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// A stored media object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaItem {
    pub id: String,
    pub mime_type: String,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    pub data: Bytes,
}

impl MediaItem {
    /// A media object for `data`.
    pub fn new(id: String, mime_type: String, data: Bytes) -> Self {
        let sha256 = hex::encode(Sha256::digest(&data));
        Self {
            id,
            mime_type,
            sha256,
            data,
        }
    }

    /// The Graph API's answer to `GET /{version}/{media_id}`.
    pub fn describe(&self, base_url: &str) -> serde_json::Value {
        serde_json::json!({
            "messaging_product": "whatsapp",
            "url": format!("{base_url}/_sim/media/{}", self.id),
            "mime_type": self.mime_type,
            "sha256": self.sha256,
            "file_size": self.data.len(),
            "id": self.id,
        })
    }
}

/// Upload size limits by mime type (bytes), as Meta documents them.
pub fn size_limit(mime_type: &str) -> usize {
    const MB: usize = 1024 * 1024;
    let m = mime_type.to_ascii_lowercase();
    if m == "image/webp" {
        500 * 1024
    } else if m.starts_with("image/") {
        5 * MB
    } else if m.starts_with("audio/") || m.starts_with("video/") {
        16 * MB
    } else {
        100 * MB
    }
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let essence = params.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| &haystack[i..i + needle.len()] == needle)
}

fn header_param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Parses a `multipart/form-data` body.
pub fn parse_multipart(content_type: &str, body: &Bytes) -> Result<Vec<Part>, String> {
    let boundary = boundary(content_type).ok_or("expected multipart/form-data with a boundary")?;
    let delimiter = format!("--{boundary}");
    let delim = delimiter.as_bytes();
    let mut pos = find(body, delim, 0).ok_or("multipart boundary not found")?;
    let mut parts = Vec::new();
    loop {
        pos += delim.len();
        if body.get(pos..pos + 2) == Some(b"--") {
            break;
        }
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err("malformed multipart delimiter".into());
        }
        pos += 2;
        let headers_end = find(body, b"\r\n\r\n", pos).ok_or("multipart headers not terminated")?;
        let headers = std::str::from_utf8(&body[pos..headers_end])
            .map_err(|_| "multipart headers are not UTF-8")?;
        let data_start = headers_end + 4;
        let closing = format!("\r\n{delimiter}");
        let data_end =
            find(body, closing.as_bytes(), data_start).ok_or("multipart part not terminated")?;
        let mut name = None;
        let mut filename = None;
        let mut part_type = None;
        for line in headers.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = header_param(v, "name");
                filename = header_param(v, "filename");
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                part_type = Some(v.trim().to_owned());
            }
        }
        parts.push(Part {
            name: name.ok_or("multipart part without a name")?,
            filename,
            content_type: part_type,
            data: body.slice(data_start..data_end),
        });
        pos = data_end + 2;
    }
    Ok(parts)
}

/// Builds a `multipart/form-data` body (for clients and tests): text fields
/// and one file part named `file`. Returns (content type, body).
pub fn build_multipart(
    boundary: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((filename, mime, data)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data = b"\x89PNG\r\n\x1a\n--not-a-boundary\r\n\x00\xff".to_vec();
        let (ct, body) = build_multipart(
            "XyZ",
            &[("messaging_product", "whatsapp"), ("type", "image/png")],
            Some(("a.png", "image/png", &data)),
        );
        assert_eq!(boundary(&ct).as_deref(), Some("XyZ"));
        let parts = parse_multipart(&ct, &Bytes::from(body)).expect("parse");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "messaging_product");
        assert_eq!(&parts[0].data[..], b"whatsapp");
        assert_eq!(parts[2].name, "file");
        assert_eq!(parts[2].filename.as_deref(), Some("a.png"));
        assert_eq!(parts[2].content_type.as_deref(), Some("image/png"));
        assert_eq!(&parts[2].data[..], &data[..]);
    }

    #[test]
    fn rejects_garbage() {
        assert!(boundary("application/json").is_none());
        assert!(boundary("multipart/form-data").is_none());
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; boundary=\"q\"").as_deref(),
            Some("q")
        );
        assert!(
            parse_multipart(
                "multipart/form-data; boundary=b",
                &Bytes::from_static(b"nothing")
            )
            .is_err()
        );
        assert!(
            parse_multipart(
                "multipart/form-data; boundary=b",
                &Bytes::from_static(
                    b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated"
                )
            )
            .is_err()
        );
    }

    #[test]
    fn describe_and_limits() {
        let item = MediaItem::new("1".into(), "text/plain".into(), Bytes::from_static(b"abc"));
        assert_eq!(
            item.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let d = item.describe("http://127.0.0.1:9");
        assert_eq!(d["url"], "http://127.0.0.1:9/_sim/media/1");
        assert_eq!(d["file_size"], 3);
        assert_eq!(size_limit("image/jpeg"), 5 * 1024 * 1024);
        assert_eq!(size_limit("image/webp"), 500 * 1024);
        assert_eq!(size_limit("video/mp4"), 16 * 1024 * 1024);
        assert_eq!(size_limit("application/pdf"), 100 * 1024 * 1024);
    }
}
