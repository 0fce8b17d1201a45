//! Numbers and encodings of the proxy-wasm ABI v0.2.1, as the Rust SDK (proxy-wasm 0.2.x)
//! reads and writes them.

/// A proxy-wasm status code returned by every host call.
///
/// The numbering is the ABI's (`WasmResult` in the spec); the Rust SDK knows a subset and
/// panics on the others, which is why the harness returns [`Status::Unimplemented`] only
/// for calls that no supported filter should make.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Status {
    /// The call succeeded.
    Ok = 0,
    /// The key, header, metric, queue or callout does not exist.
    NotFound = 1,
    /// An argument was out of range or of the wrong kind.
    BadArgument = 2,
    /// A value could not be serialized.
    SerializationFailure = 3,
    /// A value could not be parsed.
    ParseFailure = 4,
    /// A guest pointer or length was out of bounds.
    InvalidMemoryAccess = 6,
    /// The shared queue is empty.
    Empty = 7,
    /// A shared-data write carried a stale CAS number.
    CasMismatch = 8,
    /// The host failed.
    InternalFailure = 10,
    /// The host does not implement the call.
    Unimplemented = 12,
}

impl Status {
    /// The code as the guest sees it.
    pub fn code(self) -> u32 {
        self as u32
    }
}

/// Log levels of `proxy_log`, lowest first.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// 0
    Trace,
    /// 1
    Debug,
    /// 2
    Info,
    /// 3
    Warn,
    /// 4
    Error,
    /// 5 (the SDK's panic hook logs here before the guest aborts)
    Critical,
}

impl LogLevel {
    pub(crate) fn from_code(code: u32) -> Option<LogLevel> {
        Some(match code {
            0 => LogLevel::Trace,
            1 => LogLevel::Debug,
            2 => LogLevel::Info,
            3 => LogLevel::Warn,
            4 => LogLevel::Error,
            5 => LogLevel::Critical,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> u32 {
        self as u32
    }
}

/// What a stream callback (`proxy_on_request_headers`, ...) returned.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// 0: let the stream go on to the next filter.
    Continue,
    /// 1: stop iteration until the filter calls `proxy_continue_stream` or sends a local
    /// response.
    Pause,
    /// Any other value, which Envoy treats as an error of the filter.
    Other(u32),
}

impl Action {
    pub(crate) fn from_code(code: u32) -> Action {
        match code {
            0 => Action::Continue,
            1 => Action::Pause,
            other => Action::Other(other),
        }
    }
}

/// Kinds of metric of `proxy_define_metric`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// 0: monotonic, incremented.
    Counter,
    /// 1: goes up and down.
    Gauge,
    /// 2: records samples.
    Histogram,
}

impl MetricKind {
    pub(crate) fn from_code(code: u32) -> Option<MetricKind> {
        Some(match code {
            0 => MetricKind::Counter,
            1 => MetricKind::Gauge,
            2 => MetricKind::Histogram,
            _ => return None,
        })
    }
}

// Buffer types of proxy_get_buffer_bytes / proxy_set_buffer_bytes.
pub(crate) const BUFFER_REQUEST_BODY: u32 = 0;
pub(crate) const BUFFER_RESPONSE_BODY: u32 = 1;
pub(crate) const BUFFER_HTTP_CALL_RESPONSE_BODY: u32 = 4;
pub(crate) const BUFFER_VM_CONFIGURATION: u32 = 6;
pub(crate) const BUFFER_PLUGIN_CONFIGURATION: u32 = 7;
pub(crate) const BUFFER_CALL_DATA: u32 = 8;

// Map types of the proxy_*_header_map_* calls.
pub(crate) const MAP_REQUEST_HEADERS: u32 = 0;
pub(crate) const MAP_REQUEST_TRAILERS: u32 = 1;
pub(crate) const MAP_RESPONSE_HEADERS: u32 = 2;
pub(crate) const MAP_RESPONSE_TRAILERS: u32 = 3;
pub(crate) const MAP_HTTP_CALL_RESPONSE_HEADERS: u32 = 6;
pub(crate) const MAP_HTTP_CALL_RESPONSE_TRAILERS: u32 = 7;

// Stream types of proxy_continue_stream / proxy_close_stream.
pub(crate) const STREAM_HTTP_REQUEST: u32 = 0;
pub(crate) const STREAM_HTTP_RESPONSE: u32 = 1;

/// A header (or trailer) map: ordered, names may repeat, values are bytes.
pub type Headers = Vec<(String, Vec<u8>)>;

/// Serializes a map the way the SDK deserializes it: a u32 count, then a (u32 key length,
/// u32 value length) pair per entry, then each key and value followed by a NUL byte.
pub fn serialize_map(map: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        4 + map
            .iter()
            .map(|(k, v)| 10 + k.len() + v.len())
            .sum::<usize>(),
    );
    out.extend_from_slice(&(map.len() as u32).to_le_bytes());
    for (k, v) in map {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in map {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

/// Parses a map a guest serialized; `None` if the bytes are malformed (the host then answers
/// `BadArgument` instead of trusting guest lengths).
pub fn deserialize_map(bytes: &[u8]) -> Option<Headers> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let count = u32::from_le_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    let mut pos = 4usize.checked_add(count.checked_mul(8)?)?;
    if pos > bytes.len() {
        return None;
    }
    let mut map = Vec::with_capacity(count);
    for n in 0..count {
        let s = 4 + n * 8;
        let klen = u32::from_le_bytes(bytes[s..s + 4].try_into().ok()?) as usize;
        let vlen = u32::from_le_bytes(bytes[s + 4..s + 8].try_into().ok()?) as usize;
        let key = bytes.get(pos..pos.checked_add(klen)?)?;
        pos = pos.checked_add(klen + 1)?;
        let value = bytes.get(pos..pos.checked_add(vlen)?)?;
        pos = pos.checked_add(vlen + 1)?;
        map.push((String::from_utf8_lossy(key).into_owned(), value.to_vec()));
    }
    Some(map)
}

/// Splits a `proxy_get_property` path: segments separated by NUL bytes.
pub fn split_property_path(bytes: &[u8]) -> Vec<String> {
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_round_trips_in_the_sdk_layout() {
        let map: Headers = vec![
            (":method".into(), b"GET".to_vec()),
            ("x".into(), Vec::new()),
        ];
        let bytes = serialize_map(&map);
        assert_eq!(&bytes[0..4], &[2, 0, 0, 0]);
        assert_eq!(&bytes[4..12], &[7, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&bytes[20..28], b":method\0");
        assert_eq!(deserialize_map(&bytes).unwrap(), map);
    }

    #[test]
    fn malformed_maps_are_refused_not_trusted() {
        assert_eq!(deserialize_map(&[9, 0, 0, 0]), None);
        assert_eq!(
            deserialize_map(&[1, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0]),
            None
        );
        assert_eq!(deserialize_map(&[0, 0]), None);
    }

    #[test]
    fn property_paths_split_on_nul() {
        assert_eq!(
            split_property_path(b"request\0path"),
            vec!["request", "path"]
        );
        assert!(split_property_path(b"").is_empty());
    }
}
