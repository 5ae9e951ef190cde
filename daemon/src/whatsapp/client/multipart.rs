//! A `multipart/form-data` body built by hand (reqwest's multipart feature is
//! not enabled): text fields, then one file part named `file`.

/// A fresh random boundary. 128 random bits: a collision with the file's
/// bytes would need an attacker who can predict `rand`'s output.
pub fn random_boundary() -> String {
    format!("switchboard-{}", hex::encode(rand::random::<[u8; 16]>()))
}

/// Escapes a value for a quoted `Content-Disposition` parameter the way
/// browsers do (WHATWG): `"` → `%22`, CR → `%0D`, LF → `%0A`.
fn quote_param(value: &str) -> String {
    value
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Builds the body; returns (content type, body).
pub fn build(
    boundary: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    file_type: &str,
    data: &[u8],
) -> (String, Vec<u8>) {
    let mut body = Vec::with_capacity(data.len() + 512);
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
                quote_param(name)
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {file_type}\r\n\r\n",
            quote_param(file_name)
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatsapp::simulator::media::parse_multipart;
    use bytes::Bytes;

    #[test]
    fn parses_back_with_the_simulator_parser() {
        let data = b"\x00\xff--switchboard-\r\n\r\nbinary".to_vec();
        let boundary = random_boundary();
        let (ct, body) = build(
            &boundary,
            &[("messaging_product", "whatsapp"), ("type", "image/png")],
            "we\"ird\r\nname.png",
            "image/png",
            &data,
        );
        assert_eq!(ct, format!("multipart/form-data; boundary={boundary}"));
        let parts = parse_multipart(&ct, &Bytes::from(body)).expect("parses");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "messaging_product");
        assert_eq!(&parts[0].data[..], b"whatsapp");
        assert_eq!(parts[1].name, "type");
        assert_eq!(&parts[1].data[..], b"image/png");
        assert_eq!(parts[2].name, "file");
        assert_eq!(parts[2].filename.as_deref(), Some("we%22ird%0D%0Aname.png"));
        assert_eq!(parts[2].content_type.as_deref(), Some("image/png"));
        assert_eq!(&parts[2].data[..], &data[..]);
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(random_boundary(), random_boundary());
    }
}
