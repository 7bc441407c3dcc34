//! Splitting DNS over TCP into messages (RFC 1035 §4.2.2): the one piece
//! of DNS handling that keeps state between segments, and so the one that
//! allocates (a bounded partial-message buffer) — which is why it lives with
//! naming in track, not with the views in `decode`.

use crate::decode::dns::MAX_TCP_MESSAGE_LEN;
use crate::decode::get_u16;

/// Counters of a [`DnsTcpStream`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DnsTcpStats {
    /// Complete messages handed out.
    pub messages: u64,
    /// Messages that were reassembled from more than one segment.
    pub reassembled: u64,
    /// Messages that spanned segments but were longer than the buffer
    /// limit: their bytes were skipped, the framing kept.
    pub oversized: u64,
    /// Complete messages the caller did not take before dropping the feed.
    pub not_taken: u64,
    /// Partial messages thrown away by [`DnsTcpStream::reset`].
    pub reset_partial: u64,
}

/// Splits one direction of a DNS-over-TCP connection (RFC 1035 §4.2.2:
/// each message behind a 2-byte length) into messages.
///
/// Feed it the TCP payloads of one direction in order; the caller resets
/// it when it sees a gap. A message that lies wholly inside a segment is
/// handed out as a slice of that segment; only a message that spans
/// segments is copied, into the one partial-message buffer the stream
/// keeps. That buffer holds at most `limit` bytes (default 65535, the
/// largest message a length prefix can announce); a spanning message longer
/// than the limit is skipped byte-for-byte — framing kept — and counted in
/// [`DnsTcpStats::oversized`].
#[derive(Debug)]
pub struct DnsTcpStream {
    /// Stream bytes of the partial message, its length prefix included.
    partial: Vec<u8>,
    /// Bytes still to skip of an oversized message.
    skip: usize,
    limit: usize,
    /// The partial buffer holds a complete message that was handed out; it
    /// is cleared on the next call.
    handed_out: bool,
    stats: DnsTcpStats,
}

impl Default for DnsTcpStream {
    fn default() -> Self {
        DnsTcpStream::new()
    }
}

impl DnsTcpStream {
    /// A stream that buffers partial messages of any size (up to 65535).
    pub fn new() -> DnsTcpStream {
        DnsTcpStream::with_limit(MAX_TCP_MESSAGE_LEN)
    }

    /// A stream that buffers partial messages of at most `limit` bytes.
    pub fn with_limit(limit: usize) -> DnsTcpStream {
        DnsTcpStream {
            partial: Vec::new(),
            skip: 0,
            limit: limit.min(MAX_TCP_MESSAGE_LEN),
            handed_out: false,
            stats: DnsTcpStats::default(),
        }
    }

    pub fn stats(&self) -> DnsTcpStats {
        self.stats
    }

    /// Bytes of a partial message held (prefix included).
    pub fn pending(&self) -> usize {
        if self.handed_out {
            0
        } else {
            self.partial.len()
        }
    }

    /// Forgets the partial message (after a gap in the stream).
    pub fn reset(&mut self) {
        if self.pending() > 0 || self.skip > 0 {
            self.stats.reset_partial = self.stats.reset_partial.saturating_add(1);
        }
        self.partial.clear();
        self.skip = 0;
        self.handed_out = false;
    }

    /// Feeds the next in-order segment; take the messages with
    /// [`DnsTcpFeed::next_message`]. Messages not taken before the feed is
    /// dropped are lost (and counted); a trailing partial message is kept.
    pub fn feed<'s>(&'s mut self, segment: &'s [u8]) -> DnsTcpFeed<'s> {
        DnsTcpFeed {
            stream: self,
            rest: segment,
        }
    }
}

/// The messages completed by one segment; see [`DnsTcpStream::feed`].
#[derive(Debug)]
pub struct DnsTcpFeed<'s> {
    stream: &'s mut DnsTcpStream,
    rest: &'s [u8],
}

impl DnsTcpFeed<'_> {
    /// The next complete message (without its length prefix), or `None`
    /// once the segment is used up.
    #[allow(clippy::should_implement_trait)]
    pub fn next_message(&mut self) -> Option<&[u8]> {
        let stream = &mut *self.stream;
        if stream.handed_out {
            stream.partial.clear();
            stream.handed_out = false;
        }
        loop {
            if stream.skip > 0 {
                let n = stream.skip.min(self.rest.len());
                stream.skip = stream.skip.saturating_sub(n);
                self.rest = self.rest.get(n..).unwrap_or_default();
                if stream.skip > 0 {
                    return None;
                }
            }
            if stream.partial.is_empty() {
                // The fast path: a whole message inside the segment.
                let len = usize::from(get_u16(self.rest, 0).unwrap_or(u16::MAX));
                let end = len.saturating_add(2);
                if self.rest.len() >= 2 && end <= self.rest.len() {
                    let msg = self.rest.get(2..end).unwrap_or_default();
                    self.rest = self.rest.get(end..).unwrap_or_default();
                    stream.stats.messages = stream.stats.messages.saturating_add(1);
                    return Some(msg);
                }
                if self.rest.is_empty() {
                    return None;
                }
                // A message that continues in the next segment.
                if self.rest.len() >= 2 && len > stream.limit {
                    stream.stats.oversized = stream.stats.oversized.saturating_add(1);
                    stream.skip = end;
                    continue;
                }
                stream.partial.extend_from_slice(self.rest);
                self.rest = &[];
                return None;
            }
            // Continue the partial message: first its length prefix...
            if stream.partial.len() < 2 {
                let n = 2usize
                    .saturating_sub(stream.partial.len())
                    .min(self.rest.len());
                stream
                    .partial
                    .extend_from_slice(self.rest.get(..n).unwrap_or_default());
                self.rest = self.rest.get(n..).unwrap_or_default();
                let len = get_u16(&stream.partial, 0)?;
                if usize::from(len) > stream.limit {
                    stream.stats.oversized = stream.stats.oversized.saturating_add(1);
                    stream.skip = usize::from(len);
                    stream.partial.clear();
                    continue;
                }
            }
            // ...then its body.
            let len = usize::from(get_u16(&stream.partial, 0).unwrap_or(0));
            let want = len.saturating_add(2).saturating_sub(stream.partial.len());
            let n = want.min(self.rest.len());
            stream
                .partial
                .extend_from_slice(self.rest.get(..n).unwrap_or_default());
            self.rest = self.rest.get(n..).unwrap_or_default();
            if n < want {
                return None;
            }
            stream.handed_out = true;
            stream.stats.messages = stream.stats.messages.saturating_add(1);
            stream.stats.reassembled = stream.stats.reassembled.saturating_add(1);
            return stream.partial.get(2..);
        }
    }
}

impl Drop for DnsTcpFeed<'_> {
    fn drop(&mut self) {
        let before = self.stream.stats.messages;
        while self.next_message().is_some() {}
        let after = self.stream.stats.messages;
        self.stream.stats.messages = before;
        self.stream.stats.not_taken = self
            .stream
            .stats
            .not_taken
            .saturating_add(after.wrapping_sub(before));
        // A message handed out last stays in the buffer until the next
        // feed; clear it now so `pending` tells the truth.
        if self.stream.handed_out {
            self.stream.partial.clear();
            self.stream.handed_out = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::dns::tests::{A_RESPONSE, CNAME_RESPONSE};

    /// `len` as a length prefix followed by `body`.
    fn framed(body: &[u8]) -> Vec<u8> {
        let mut f = (body.len() as u16).to_be_bytes().to_vec();
        f.extend_from_slice(body);
        f
    }

    fn feed_all(stream: &mut DnsTcpStream, segment: &[u8]) -> Vec<Vec<u8>> {
        let mut feed = stream.feed(segment);
        let mut out = Vec::new();
        while let Some(m) = feed.next_message() {
            out.push(m.to_vec());
        }
        out
    }

    #[test]
    fn several_messages_in_one_segment_are_handed_out_without_copying() {
        let mut segment = framed(&A_RESPONSE);
        segment.extend(framed(&CNAME_RESPONSE));
        segment.extend(framed(&A_RESPONSE));
        let mut stream = DnsTcpStream::new();
        let mut feed = stream.feed(&segment);
        let first = feed.next_message().unwrap();
        // The slice points into the segment itself.
        assert_eq!(first.as_ptr(), segment[2..].as_ptr());
        assert_eq!(first, &A_RESPONSE[..]);
        assert_eq!(feed.next_message().unwrap(), &CNAME_RESPONSE[..]);
        assert_eq!(feed.next_message().unwrap(), &A_RESPONSE[..]);
        assert!(feed.next_message().is_none());
        drop(feed);
        assert_eq!(stream.stats().messages, 3);
        assert_eq!(stream.stats().reassembled, 0);
        assert_eq!(stream.pending(), 0);
    }

    #[test]
    fn one_message_split_over_three_segments() {
        let bytes = framed(&CNAME_RESPONSE);
        let mut stream = DnsTcpStream::new();
        assert!(feed_all(&mut stream, &bytes[..1]).is_empty());
        assert!(feed_all(&mut stream, &bytes[1..20]).is_empty());
        assert_eq!(stream.pending(), 20);
        let out = feed_all(&mut stream, &bytes[20..]);
        assert_eq!(out, vec![CNAME_RESPONSE.to_vec()]);
        assert_eq!(stream.stats().reassembled, 1);
        assert_eq!(stream.pending(), 0);
    }

    #[test]
    fn split_message_followed_by_whole_ones_in_the_same_segment() {
        let mut bytes = framed(&A_RESPONSE);
        bytes.extend(framed(&CNAME_RESPONSE));
        bytes.extend(framed(&A_RESPONSE)[..10].iter());
        let mut stream = DnsTcpStream::new();
        assert!(feed_all(&mut stream, &bytes[..30]).is_empty());
        let out = feed_all(&mut stream, &bytes[30..]);
        assert_eq!(out, vec![A_RESPONSE.to_vec(), CNAME_RESPONSE.to_vec()]);
        assert_eq!(stream.pending(), 10);
        let out = feed_all(&mut stream, &framed(&A_RESPONSE)[10..]);
        assert_eq!(out, vec![A_RESPONSE.to_vec()]);
    }

    #[test]
    fn oversized_spanning_message_is_skipped_and_framing_kept() {
        let big = vec![0xaau8; 100];
        let mut bytes = framed(&big);
        bytes.extend(framed(&A_RESPONSE));
        let mut stream = DnsTcpStream::with_limit(64);
        assert!(feed_all(&mut stream, &bytes[..50]).is_empty());
        assert_eq!(stream.stats().oversized, 1);
        assert_eq!(stream.pending(), 0);
        let out = feed_all(&mut stream, &bytes[50..]);
        assert_eq!(out, vec![A_RESPONSE.to_vec()]);
        // A whole oversized message inside one segment costs no buffer.
        assert_eq!(feed_all(&mut stream, &framed(&big)), vec![big]);
    }

    #[test]
    fn reset_forgets_the_partial_message() {
        let bytes = framed(&A_RESPONSE);
        let mut stream = DnsTcpStream::new();
        assert!(feed_all(&mut stream, &bytes[..5]).is_empty());
        stream.reset();
        assert_eq!(stream.stats().reset_partial, 1);
        assert_eq!(feed_all(&mut stream, &bytes), vec![A_RESPONSE.to_vec()]);
    }

    #[test]
    fn messages_not_taken_are_counted_and_the_partial_kept() {
        let mut bytes = framed(&A_RESPONSE);
        bytes.extend(framed(&A_RESPONSE));
        bytes.extend(&framed(&A_RESPONSE)[..3]);
        let mut stream = DnsTcpStream::new();
        {
            let mut feed = stream.feed(&bytes);
            assert!(feed.next_message().is_some());
        }
        assert_eq!(stream.stats().messages, 1);
        assert_eq!(stream.stats().not_taken, 1);
        assert_eq!(stream.pending(), 3);
    }
}
