//! Live capture on AF_PACKET with a TPACKET_V3 mmap ring.
// Placeholder until the ring lands.
use super::{CaptureError, Next, Source};
use crate::decode::Mac;
#[derive(Default)]
pub struct LiveOptions {
    pub snaplen: u32,
    pub promiscuous: bool,
    pub extra_local_macs: Vec<Mac>,
}
pub struct LiveCapture;
impl LiveCapture {
    pub fn open(_i: &[String], _o: LiveOptions) -> Result<LiveCapture, CaptureError> {
        Err(CaptureError::Interface {
            iface: String::new(),
            what: "unsupported",
            source: std::io::Error::other("x"),
        })
    }
    pub fn local_macs(&self) -> &[Mac] {
        &[]
    }
}
impl Source for LiveCapture {
    fn next_frame(&mut self) -> Result<Next<'_>, CaptureError> {
        Ok(Next::End)
    }
}
