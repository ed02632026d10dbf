//! Reads commands back from packed (RESP-encoded) requests, as the blocking
//! `redis::ConnectionLike` receives them: `*<argc>\r\n` then `$<len>\r\n<bytes>\r\n` per
//! argument. Malformed input ends the iteration; nothing here can panic or allocate.

/// The commands of a packed request, in order.
#[derive(Clone, Debug)]
pub(crate) struct PackedCommands<'a> {
    rest: &'a [u8],
}

impl<'a> PackedCommands<'a> {
    pub(crate) fn new(packed: &'a [u8]) -> Self {
        PackedCommands { rest: packed }
    }
}

impl<'a> Iterator for PackedCommands<'a> {
    type Item = PackedArgs<'a>;

    fn next(&mut self) -> Option<PackedArgs<'a>> {
        let Some((argc, body)) = read_header(self.rest, b'*') else {
            self.rest = &[];
            return None;
        };
        let mut args = PackedArgs {
            rest: body,
            remaining: argc,
        };
        let start = args.clone();
        for _ in 0..argc {
            if args.next().is_none() {
                // Truncated or malformed: yield the arguments that parse, then stop.
                self.rest = &[];
                return Some(start);
            }
        }
        self.rest = args.rest;
        Some(start)
    }
}

/// The arguments of one packed command (the name first).
#[derive(Clone, Debug)]
pub(crate) struct PackedArgs<'a> {
    rest: &'a [u8],
    remaining: usize,
}

impl<'a> Iterator for PackedArgs<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        let parsed = read_header(self.rest, b'$').and_then(|(len, body)| {
            let data = body.get(..len)?;
            let after = body.get(len..)?.strip_prefix(b"\r\n")?;
            Some((data, after))
        });
        match parsed {
            Some((data, after)) => {
                self.remaining -= 1;
                self.rest = after;
                Some(data)
            }
            None => {
                self.remaining = 0;
                self.rest = &[];
                None
            }
        }
    }
}

/// Parses `<marker><decimal>\r\n`, returning the number and what follows.
fn read_header(buf: &[u8], marker: u8) -> Option<(usize, &[u8])> {
    let rest = buf.strip_prefix(&[marker])?;
    let end = rest.iter().position(|b| *b == b'\r')?;
    let digits = rest.get(..end)?;
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().try_fold(0usize, |n, d| {
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })?;
    let body = rest.get(end..)?.strip_prefix(b"\r\n")?;
    Some((n, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(packed: &[u8]) -> Vec<Vec<&[u8]>> {
        PackedCommands::new(packed).map(|c| c.collect()).collect()
    }

    #[test]
    fn reads_packed_pipelines() {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg("k")
            .arg(b"v\r\n\xff")
            .cmd("GET")
            .arg("k")
            .cmd("PING");
        let packed = pipe.get_packed_pipeline();
        assert_eq!(
            parse(&packed),
            vec![
                vec![&b"SET"[..], b"k", b"v\r\n\xff"],
                vec![&b"GET"[..], b"k"],
                vec![&b"PING"[..]],
            ]
        );
    }

    #[test]
    fn malformed_input_stops_quietly() {
        assert!(parse(b"").is_empty());
        assert!(parse(b"garbage").is_empty());
        assert!(parse(b"*99999999999999999999\r\n").is_empty());
        assert_eq!(
            parse(b"*2\r\n$3\r\nGET\r\n$100\r\nk\r\n"),
            vec![vec![&b"GET"[..]]]
        );
        assert_eq!(parse(b"*1\r\n$3\r\nGE"), vec![Vec::<&[u8]>::new()]);
        for cut in 0..40 {
            let full = b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n*1\r\n$4\r\nPING\r\n";
            let _ = parse(&full[..cut.min(full.len())]);
        }
    }
}
