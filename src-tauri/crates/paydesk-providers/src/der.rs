//! The two DER primitives the key and certificate code share: read one TLV, write one TLV.

/// One DER TLV at the start of `input`: (tag, content, rest); an error names what is wrong.
pub(crate) fn read(input: &[u8]) -> Result<(u8, &[u8], &[u8]), &'static str> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&len0, mut rest) = rest.split_first().ok_or("truncated DER")?;
    let len = if len0 < 0x80 {
        usize::from(len0)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length");
        }
        let mut l = 0usize;
        for &b in &rest[..n] {
            l = (l << 8) | usize::from(b);
        }
        rest = &rest[n..];
        l
    };
    if rest.len() < len {
        return Err("truncated DER");
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// One DER TLV: the tag, the definite length (short or long form) and the content.
pub(crate) fn write(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}
