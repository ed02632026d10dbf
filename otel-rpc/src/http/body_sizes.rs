//! The body sizes of a request, noted on its `Recording` when the layer records them (see
//! `body_size_metrics`): the `Content-Length` of the request and of a client's response head.

use http::{HeaderMap, header};

use crate::recording::Recording;

/// The `Content-Length` of `headers`, when it is one valid number.
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(header::CONTENT_LENGTH).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()?.trim().parse().ok()
}

/// Notes the request body size of a starting request (its `Content-Length`).
pub(crate) fn note_request(recording: &mut Recording, headers: &HeaderMap) {
    if recording.wants_body_sizes()
        && let Some(n) = content_length(headers)
    {
        recording.set_request_body_size(n);
    }
}

/// Notes the response body size of a client response head (its `Content-Length`).
pub(crate) fn note_client_response(recording: &mut Recording, headers: &HeaderMap) {
    if recording.wants_body_sizes()
        && let Some(n) = content_length(headers)
    {
        recording.add_response_body_bytes(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_one_number() {
        let mut h = HeaderMap::new();
        assert_eq!(content_length(&h), None);
        h.insert(header::CONTENT_LENGTH, "42".parse().expect("value"));
        assert_eq!(content_length(&h), Some(42));
        h.append(header::CONTENT_LENGTH, "42".parse().expect("value"));
        assert_eq!(content_length(&h), None);
        h.insert(header::CONTENT_LENGTH, "-1".parse().expect("value"));
        assert_eq!(content_length(&h), None);
    }
}
